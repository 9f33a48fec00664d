import { describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig, parseBindAddress, parseDuration, parseFlags, usage, FLAGS } from '../src/config.js';

const load = (argv: string[], env: Record<string, string | undefined> = {}, nsFile?: string) =>
  loadConfig({ argv, env, readNamespaceFile: () => nsFile });

describe('loadConfig', () => {
  test('defaults (in a pod: POD_NAMESPACE from the downward API)', () => {
    const cfg = load([], { POD_NAMESPACE: 'dsa-system' });
    expect(cfg).toEqual({
      metricsBind: { host: '', port: 8080 },
      leaderElect: true,
      leaderElectionNamespace: 'dsa-system',
      leaderElectionId: 'dsa-operator-leader',
      watchNamespaces: [],
      scope: '',
      watchLabelSelector: '',
      concurrency: 4,
      kanikoImage: undefined,
      helperImage: undefined,
      logLevel: 'info',
      kubeconfig: undefined,
      shutdownTimeoutMs: 25_000,
      // Confined by default (docs/security.md).
      confinement: { impersonate: true, defaultServiceAccount: 'dsa-deployer', allowCrossNamespace: false, allowClusterScoped: false },
      allowedBuilderImages: [],
      insecureRegistries: [],
      allowInternalHosts: [],
      maxBuildContextBytes: 2 ** 30,
      help: false,
      version: false,
    });
  });

  test('confinement, builder, registry and network flags (and env); one-line errors', () => {
    expect(
      load([
        '--leader-elect=false',
        '--impersonate=false',
        '--default-service-account=ci-bot',
        '--allow-cross-namespace',
        '--allow-cluster-scoped=true',
        '--allowed-builder-images=mirror/kaniko:1, mirror/kaniko:2',
        '--insecure-registries=192.0.2.2:5000,registry.local',
        '--allow-internal-hosts=127.0.0.1,10.0.0.0/8,[::1]:8080,git.local:3000',
        '--max-build-context=512Mi',
      ]),
    ).toMatchObject({
      confinement: { impersonate: false, defaultServiceAccount: 'ci-bot', allowCrossNamespace: true, allowClusterScoped: true },
      allowedBuilderImages: ['mirror/kaniko:1', 'mirror/kaniko:2'],
      insecureRegistries: ['192.0.2.2:5000', 'registry.local'],
      allowInternalHosts: ['127.0.0.1', '10.0.0.0/8', '[::1]:8080', 'git.local:3000'],
      maxBuildContextBytes: 512 * 2 ** 20,
    });
    expect(load(['--leader-elect=false'], { DSA_IMPERSONATE: 'false', DSA_INSECURE_REGISTRIES: 'reg:5000' })).toMatchObject({ confinement: { impersonate: false }, insecureRegistries: ['reg:5000'] });
    expect(() => load(['--leader-elect=false', '--default-service-account=Bad_Name'])).toThrow(/^--default-service-account: "Bad_Name" is not a valid ServiceAccount name$/);
    expect(() => load(['--leader-elect=false', '--insecure-registries=http://reg:5000'])).toThrow(/^--insecure-registries: "http:\/\/reg:5000" is not a host or host:port$/);
    expect(() => load(['--leader-elect=false', '--allow-internal-hosts=10.0.0.0/99'])).toThrow(/^--allow-internal-hosts: "10.0.0.0\/99" is not a valid CIDR$/);
    expect(() => load(['--leader-elect=false', '--max-build-context=lots'])).toThrow(/^--max-build-context: expected a size/);
    expect(() => load(['--leader-elect=false', '--max-build-context=10'])).toThrow(/too small/);
  });

  test('scope and watch label selector: flags, env, and one-line errors', () => {
    expect(load(['--leader-elect=false', '--scope=e2e-1a2b', '--watch-label-selector', 'team=payments,tier in (dev, staging),!legacy'])).toMatchObject({
      scope: 'e2e-1a2b',
      watchLabelSelector: 'team=payments,tier in (dev, staging),!legacy',
    });
    expect(load(['--leader-elect=false'], { DSA_OPERATOR_SCOPE: 'ci', DSA_WATCH_LABEL_SELECTOR: 'a!=b' })).toMatchObject({ scope: 'ci', watchLabelSelector: 'a!=b' });
    expect(() => load(['--leader-elect=false', '--scope=has space'])).toThrow(/^--scope: "has space" is not a valid label value/);
    expect(() => load(['--leader-elect=false', '--watch-label-selector=a=b=c'])).toThrow(/^--watch-label-selector: cannot parse "a=b=c"/);
    expect(() => load(['--leader-elect=false', '--watch-label-selector=-bad=x'])).toThrow(/"-bad" is not a valid label key/);
    expect(() => load(['--leader-elect=false', '--watch-label-selector=k in (a,-b)'])).toThrow(/"-b" is not a valid label value/);
  });

  test('flags win over env, env over defaults', () => {
    const env = { DSA_KANIKO_IMAGE: 'env/kaniko:1', DSA_HELPER_IMAGE: 'env/busybox:1', DSA_LOG_LEVEL: 'warn', DSA_CONCURRENCY: '2', WATCH_NAMESPACE: 'a' };
    const fromEnv = load(['--leader-elect=false'], env);
    expect(fromEnv).toMatchObject({ kanikoImage: 'env/kaniko:1', helperImage: 'env/busybox:1', logLevel: 'warn', concurrency: 2, watchNamespaces: ['a'] });
    const fromFlags = load(
      ['--leader-elect=false', '--kaniko-image', 'flag/kaniko:2', '--helper-image=flag/bb:2', '--log-level=debug', '--concurrency=8', '--watch-namespace=b, c,b'],
      env,
    );
    expect(fromFlags).toMatchObject({ kanikoImage: 'flag/kaniko:2', helperImage: 'flag/bb:2', logLevel: 'debug', concurrency: 8, watchNamespaces: ['b', 'c'] });
  });

  test('empty env values count as unset (the chart renders empty values)', () => {
    const cfg = load(['--leader-elect=false', '--watch-namespace='], { DSA_KANIKO_IMAGE: '', DSA_LOG_LEVEL: '' });
    expect(cfg.kanikoImage).toBeUndefined();
    expect(cfg.logLevel).toBe('info');
    expect(cfg.watchNamespaces).toEqual([]);
  });

  test('boolean flag forms', () => {
    expect(load(['--leader-elect'], { POD_NAMESPACE: 'x' }).leaderElect).toBe(true);
    expect(load(['--no-leader-elect']).leaderElect).toBe(false);
    expect(load([], { DSA_LEADER_ELECT: 'false' }).leaderElect).toBe(false);
    expect(() => load(['--leader-elect=maybe'])).toThrow(/expected true or false/);
  });

  test('leader election namespace: flag, POD_NAMESPACE, then the service-account file; error outside a cluster', () => {
    expect(load(['--leader-election-namespace=ops'], { POD_NAMESPACE: 'x' }).leaderElectionNamespace).toBe('ops');
    expect(load([], {}, 'from-file').leaderElectionNamespace).toBe('from-file');
    expect(() => load([], {})).toThrow(ConfigError);
    expect(() => load([], {})).toThrow(/--leader-election-namespace/);
    // Not needed without leader election.
    expect(load(['--leader-elect=false'], {}).leaderElectionNamespace).toBe('');
  });

  test('metrics bind address forms', () => {
    expect(load(['--leader-elect=false', '--metrics-bind-address=127.0.0.1:9090']).metricsBind).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(load(['--leader-elect=false', '--metrics-bind-address=0']).metricsBind).toBe(false);
    expect(parseBindAddress('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseBindAddress(':0')).toEqual({ host: '', port: 0 });
    expect(() => parseBindAddress('8080')).toThrow(/host\]:port/);
    expect(() => parseBindAddress(':99999')).toThrow(/out of range/);
  });

  test('rejects bad values with the flag name in the message', () => {
    expect(() => load(['--leader-elect=false', '--concurrency=0'])).toThrow(/--concurrency/);
    expect(() => load(['--leader-elect=false', '--concurrency=2.5'])).toThrow(/--concurrency/);
    expect(() => load(['--leader-elect=false', '--log-level=verbose'])).toThrow(/--log-level/);
    expect(() => load(['--leader-elect=false', '--watch-namespace=Bad_NS'])).toThrow(/--watch-namespace/);
    expect(() => load(['--leader-elect=false', '--shutdown-timeout=soon'])).toThrow(/--shutdown-timeout/);
    expect(() => load(['--leader-elect=false', '--leader-election-id=Not Valid'])).toThrow(/--leader-election-id/);
  });

  test('unknown flags, positional arguments and missing values are errors', () => {
    expect(() => parseFlags(['--nope'])).toThrow(/unknown flag --nope/);
    expect(() => parseFlags(['run'])).toThrow(/unexpected argument/);
    expect(() => parseFlags(['--concurrency'])).toThrow(/needs a value/);
    expect(() => parseFlags(['--concurrency', '--leader-elect'])).toThrow(/needs a value/);
  });

  test('--help / -h / --version work without a cluster environment', () => {
    expect(load(['--help']).help).toBe(true);
    expect(load(['-h']).help).toBe(true);
    expect(load(['--version']).version).toBe(true);
  });

  test('durations', () => {
    expect(parseDuration('x', '30s')).toBe(30_000);
    expect(parseDuration('x', '2m')).toBe(120_000);
    expect(parseDuration('x', '1500ms')).toBe(1500);
    expect(parseDuration('x', '3')).toBe(3000);
  });

  test('usage lists every flag and its environment variable', () => {
    const text = usage();
    for (const f of FLAGS) {
      expect(text).toContain(`--${f.name}`);
      if (f.env) expect(text).toContain(`[${f.env}]`);
    }
  });
});
