import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ClusterError, UsageError } from '../../src/errors.js';
import { createKubeConfig } from '../../src/kube/client.js';
import { kubeconfigFiles, loadKubeconfig, requireCluster, resolveTarget, type MergedKubeconfig } from '../../src/kube/kubeconfig.js';

const root = mkdtempSync(join(tmpdir(), 'dsa-kube-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function file(text: string, name = `kc-${n++}.yaml`, dir = root): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const A = `
apiVersion: v1
kind: Config
current-context: alpha
contexts:
- name: alpha
  context: {cluster: c-alpha, user: u-alpha, namespace: team-a}
- name: shared
  context: {cluster: c-alpha, user: u-alpha, namespace: from-a}
clusters:
- name: c-alpha
  cluster: {server: "https://alpha.example:6443", certificate-authority: certs/ca.crt}
users:
- name: u-alpha
  user: {client-certificate: certs/client.crt, client-key: /abs/client.key, token: t0k3n}
`;
const B = `
apiVersion: v1
kind: Config
current-context: beta
contexts:
- name: beta
  context: {cluster: c-beta, user: u-beta}
- name: shared
  context: {cluster: c-beta, user: u-beta, namespace: from-b}
- name: broken
  context: {cluster: nowhere, user: u-beta}
clusters:
- name: c-beta
  cluster: {server: "https://beta.example:6443", insecure-skip-tls-verify: true}
users:
- name: u-beta
  user: {token: abc}
`;

const env = (e: Record<string, string> = {}) => e;
const emptyHome = join(root, 'empty-home');

describe('kubeconfig files', () => {
  it('uses only --kubeconfig when given, relative to cwd, and rejects a missing one as a usage error', () => {
    const a = file(A, 'flag.yaml', join(root, 'cwd'));
    expect(kubeconfigFiles({ kubeconfig: 'flag.yaml', env: env({ KUBECONFIG: '/x' }), homeDir: emptyHome, cwd: join(root, 'cwd') })).toEqual([a]);
    expect(() => kubeconfigFiles({ kubeconfig: 'missing.yaml', env: env(), homeDir: emptyHome, cwd: root })).toThrow(UsageError);
  });

  it('reads every existing KUBECONFIG entry in order, skipping empty and missing ones', () => {
    const a = file(A);
    const b = file(B);
    const list = ['', a, join(root, 'does-not-exist'), b, a].join(delimiter);
    expect(kubeconfigFiles({ env: env({ KUBECONFIG: list }), homeDir: emptyHome, cwd: root })).toEqual([a, b]);
  });

  it('falls back to ~/.kube/config, and to nothing', () => {
    const home = join(root, 'home');
    const cfg = file(A, 'config', join(home, '.kube'));
    expect(kubeconfigFiles({ env: env(), homeDir: home, cwd: root })).toEqual([cfg]);
    expect(kubeconfigFiles({ env: env(), homeDir: emptyHome, cwd: root })).toEqual([]);
  });
});

describe('merge and resolution', () => {
  const a = file(A);
  const b = file(B);
  const merged = (): MergedKubeconfig => loadKubeconfig({ env: env({ KUBECONFIG: [a, b].join(delimiter) }), homeDir: emptyHome, cwd: root });

  it('lets the first file win for current-context and duplicate names (kubectl rules)', () => {
    const kc = merged();
    expect(kc.currentContext).toBe('alpha');
    expect(kc.contexts.map((c) => c.name)).toEqual(['alpha', 'shared', 'beta', 'broken']);
    expect(kc.contexts.find((c) => c.name === 'shared')?.value.namespace).toBe('from-a');
  });

  it('makes certificate paths absolute against the file that declared them', () => {
    const kc = merged();
    expect(kc.clusters.find((c) => c.name === 'c-alpha')?.value['certificate-authority']).toBe(join(root, 'certs/ca.crt'));
    const user = kc.users.find((u) => u.name === 'u-alpha')?.value;
    expect(user?.['client-certificate']).toBe(join(root, 'certs/client.crt'));
    expect(user?.['client-key']).toBe('/abs/client.key');
  });

  it('namespace: -n > project > context > default', () => {
    const kc = merged();
    expect(resolveTarget(kc, { env: {}, namespace: 'flag-ns', projectNamespace: 'proj' })).toMatchObject({ namespace: 'flag-ns', namespaceSource: 'flag' });
    expect(resolveTarget(kc, { env: {}, projectNamespace: 'proj' })).toMatchObject({ namespace: 'proj', namespaceSource: 'project' });
    expect(resolveTarget(kc, { env: {} })).toMatchObject({ contextName: 'alpha', namespace: 'team-a', namespaceSource: 'context', server: 'https://alpha.example:6443' });
    expect(resolveTarget(kc, { env: {}, context: 'beta' })).toMatchObject({ contextName: 'beta', namespace: 'default', namespaceSource: 'default' });
  });

  it('rejects an explicit --context that does not exist, listing the available ones', () => {
    let err: unknown;
    try {
      resolveTarget(merged(), { env: {}, context: 'gamma' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).message).toContain('context "gamma" not found');
    expect((err as ClusterError).hint).toBe('available: alpha, shared, beta, broken');
  });

  it('ignores a project kubeContext that does not exist here (and reports it)', () => {
    const t = resolveTarget(merged(), { env: {}, projectContext: 'someone-elses' });
    expect(t).toMatchObject({ contextName: 'alpha', ignoredProjectContext: 'someone-elses' });
    expect(resolveTarget(merged(), { env: {}, projectContext: 'beta' }).contextName).toBe('beta');
  });

  it('works offline with no kubeconfig at all: namespace default', () => {
    const kc = loadKubeconfig({ env: env(), homeDir: emptyHome, cwd: root });
    expect(resolveTarget(kc, { env: {} })).toMatchObject({ files: [], namespace: 'default', inCluster: false });
  });
});

describe('requireCluster: "no cluster configured" is an error, not localhost:8080', () => {
  const target = (kcText: string | undefined, opts: { context?: string } = {}) => {
    const e = kcText === undefined ? env() : env({ KUBECONFIG: file(kcText) });
    const kc = loadKubeconfig({ env: e, homeDir: emptyHome, cwd: root });
    return resolveTarget(kc, { env: e, ...opts });
  };

  it('no kubeconfig', () => {
    expect(() => requireCluster(target(undefined))).toThrow(/no kubeconfig found/);
  });
  it('no current-context', () => {
    expect(() => requireCluster(target('apiVersion: v1\nkind: Config\nclusters: []\n'))).toThrow(/no current-context/);
  });
  it('an empty file', () => {
    expect(() => requireCluster(target(''))).toThrow(ClusterError);
  });
  it('a context whose cluster is missing', () => {
    expect(() => requireCluster(target(B, { context: 'broken' }))).toThrow(/refers to cluster "nowhere"/);
  });
  it('a complete context passes', () => {
    expect(() => requireCluster(target(B))).not.toThrow();
  });
  it('in a pod with no kubeconfig: the service account, and its namespace', () => {
    const sa = join(root, 'sa');
    file('ns-from-sa\n', 'namespace', sa);
    const kc = loadKubeconfig({ env: env(), homeDir: emptyHome, cwd: root });
    const t = resolveTarget(kc, { env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, serviceAccountDir: sa });
    expect(t).toMatchObject({ inCluster: true, namespace: 'ns-from-sa', namespaceSource: 'in-cluster' });
    expect(() => requireCluster(t)).not.toThrow();
  });
  it('rejects a kubeconfig that is not YAML as a usage error', () => {
    expect(() => loadKubeconfig({ env: env({ KUBECONFIG: file('a: [b\n') }), homeDir: emptyHome, cwd: root })).toThrow(UsageError);
  });
});

describe('createKubeConfig', () => {
  it('gives client-node exactly the resolved context, cluster, user and namespace', async () => {
    const e = env({ KUBECONFIG: [file(A), file(B)].join(delimiter) });
    const kc = loadKubeconfig({ env: e, homeDir: emptyHome, cwd: root });
    const t = resolveTarget(kc, { env: e, context: 'beta', namespace: 'dev-x' });
    const config = await createKubeConfig(kc, t);
    expect(config.getCurrentContext()).toBe('beta');
    expect(config.getCurrentCluster()?.server).toBe('https://beta.example:6443');
    expect(config.getCurrentCluster()?.skipTLSVerify).toBe(true);
    expect(config.getCurrentUser()?.token).toBe('abc');
    expect(config.getContextObject('beta')?.namespace).toBe('dev-x');
  });
  it('refuses to build a client when nothing is configured', async () => {
    const kc = loadKubeconfig({ env: env(), homeDir: emptyHome, cwd: root });
    await expect(createKubeConfig(kc, resolveTarget(kc, { env: {} }))).rejects.toBeInstanceOf(ClusterError);
  });
});
