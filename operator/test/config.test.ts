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
      concurrency: 4,
      kanikoImage: undefined,
      helperImage: undefined,
      logLevel: 'info',
      kubeconfig: undefined,
      shutdownTimeoutMs: 25_000,
      help: false,
      version: false,
    });
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
