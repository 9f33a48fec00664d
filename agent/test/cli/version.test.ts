// `dsa version` and the API check of `up`/`deploy` (actions/cluster-version.ts): the pure comparison, the
// reads against a loopback apiserver (discovery, the operator's ConfigMap, RBAC refusals, timeouts), the
// printed report, and that the agent's and the operator's digests and names are computed alike.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as api from '@dsa/api';
import { agentApi, apiSkew, computeApiDigest, OPERATOR_INFO_NAME, parseOperatorInfo, readClusterApi, warnOnApiSkew, type AgentApi, type ClusterApi } from '../../src/actions/cluster-version.js';
import { buildInfo } from '../../src/cli/build-info.js';
import { startApiCheck } from '../../src/cli/api-check.js';
import { formatVersion } from '../../src/cli/commands/version.js';
import type { CommandContext } from '../../src/cli/context.js';
import { createKubeAccess } from '../../src/kube/access.js';
import { run } from '../../src/main.js';
import { StringWriter } from '../../src/output/writer.js';
import { apiDigest as operatorApiDigest, OPERATOR_INFO_NAME as OPERATOR_SIDE_NAME, operatorInfoConfigMap } from '../../../operator/src/operator-info.js';
import { startFakeApiserver, writeKubeconfig, type FakeApiserver, type Routes } from './fake-apiserver.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsa-version-'));
const DIGEST = computeApiDigest(api.generateCrds(), api);
const AGENT: AgentApi = { apiVersion: 'dsa.dev/v1alpha1', apiDigest: DIGEST };

const group = (...versions: string[]) => ({
  status: 200,
  body: { kind: 'APIGroup', name: 'dsa.dev', versions: versions.map((v) => ({ groupVersion: `dsa.dev/${v}`, version: v })), preferredVersion: { groupVersion: `dsa.dev/${versions[0]}`, version: versions[0] } },
});
const info = (data: Record<string, string>) => ({ status: 200, body: { kind: 'ConfigMap', metadata: { name: OPERATOR_INFO_NAME }, data } });

function cluster(over: Partial<ClusterApi> & { op?: Partial<Extract<ClusterApi['operator'], { found: true }>['info']> | string } = {}): ClusterApi {
  const { op, ...rest } = over;
  return {
    servedVersions: ['v1alpha1'],
    preferredVersion: 'v1alpha1',
    operator:
      typeof op === 'string'
        ? { found: false, reason: op }
        : { found: true, info: { namespace: 'dsa-system', version: '0.1.0', apiVersion: 'dsa.dev/v1alpha1', apiDigest: DIGEST, scope: '', startedAt: '', ...op } },
    ...rest,
  };
}

describe('apiSkew (pure)', () => {
  it('nothing to say when the cluster serves the agent\'s version and the operator matches', () => {
    expect(apiSkew(AGENT, cluster())).toEqual([]);
    expect(apiSkew(AGENT, cluster({ op: 'no ConfigMap' }))).toEqual([]);
    expect(apiSkew(AGENT, cluster({ op: { apiDigest: '' } }))).toEqual([]);
  });

  it('names each disagreement', () => {
    expect(apiSkew(AGENT, cluster({ servedVersions: [] }))).toEqual(['the cluster does not serve dsa.dev (the dsa CRDs are not installed)']);
    expect(apiSkew(AGENT, cluster({ servedVersions: ['v1beta1'] }))).toEqual(['the cluster serves dsa.dev v1beta1, but this dsa writes dsa.dev/v1alpha1']);
    expect(apiSkew(AGENT, cluster({ op: { apiVersion: 'dsa.dev/v1beta1', version: '0.3.0' } }))).toEqual(['the operator 0.3.0 in dsa-system reconciles dsa.dev/v1beta1, but this dsa writes dsa.dev/v1alpha1']);
    expect(apiSkew(AGENT, cluster({ op: { apiDigest: 'ffffffffffff' } }))).toEqual([
      `the operator 0.1.0 in dsa-system was built with another dsa.dev/v1alpha1 schema (ffffffffffff, this dsa: ${DIGEST}): fields only one side knows are dropped or rejected`,
    ]);
  });

  it('the operator\'s ConfigMap: fields bounded, a missing version is unusable', () => {
    expect(parseOperatorInfo('ns', { data: { version: 'x'.repeat(500), apiVersion: 'dsa.dev/v1alpha1' } })).toMatchObject({ found: true, info: { version: 'x'.repeat(200), apiDigest: '' } });
    expect(parseOperatorInfo('ns', { data: {} })).toEqual({ found: false, reason: `ns/${OPERATOR_INFO_NAME} has no version` });
    expect(parseOperatorInfo('ns', 'garbage')).toMatchObject({ found: false });
  });
});

describe('agent and operator agree on how they describe the API', () => {
  it('same ConfigMap name, same digest formula', () => {
    expect(OPERATOR_SIDE_NAME).toBe(OPERATOR_INFO_NAME);
    expect(operatorApiDigest()).toBe(DIGEST);
    expect(DIGEST).toMatch(/^[0-9a-f]{12}$/);
  });

  it('what the operator publishes is what the agent reads', () => {
    const cm = operatorInfoConfigMap({ namespace: 'ops', version: '1.2.3', scope: 'team-a', startedAt: new Date('2026-01-02T03:04:05Z') });
    expect(cm.metadata).toMatchObject({ name: OPERATOR_INFO_NAME, namespace: 'ops' });
    expect(parseOperatorInfo('ops', cm)).toEqual({
      found: true,
      info: { namespace: 'ops', version: '1.2.3', apiVersion: api.API_VERSION, apiDigest: DIGEST, scope: 'team-a', startedAt: '2026-01-02T03:04:05.000Z' },
    });
  });

  it('from source the agent computes its digest; a build records it', async () => {
    expect(await agentApi('')).toEqual(AGENT);
    expect(await agentApi('abc')).toEqual({ apiVersion: api.API_VERSION, apiDigest: 'abc' });
    expect(await buildInfo()).toMatchObject({ flavor: 'source', apiDigest: '', date: '', commit: expect.stringMatching(/^[0-9a-f]{40}(-dirty)?$/) });
  });
});

describe('reading the cluster (loopback apiserver)', () => {
  const servers: FakeApiserver[] = [];
  const kubeFor = async (routes: Routes, name: string) => {
    const s = await startFakeApiserver(routes);
    servers.push(s);
    const access = createKubeAccess({ env: { KUBECONFIG: writeKubeconfig(tmp, s.url, 'dev', `${name}.yaml`) }, homeDir: tmp, cwd: tmp, log: { debug: () => {}, warn: () => {} } });
    return { server: s, kc: await access.kubeConfig(), kubeconfig: join(tmp, `${name}.yaml`) };
  };
  beforeAll(() => undefined);
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  it('discovery and the ConfigMap of the operator namespace', async () => {
    const { kc, server } = await kubeFor({ '/apis/dsa.dev': group('v1alpha1'), [`/api/v1/namespaces/ops/configmaps/${OPERATOR_INFO_NAME}`]: info({ version: '0.1.0', apiVersion: 'dsa.dev/v1alpha1', apiDigest: DIGEST }) }, 'ok');
    expect(await readClusterApi(kc, { operatorNamespace: 'ops' })).toEqual(cluster({ op: { namespace: 'ops' } }));
    expect(server.headers.get('/apis/dsa.dev')?.authorization).toBe('Bearer secret-token');
  }, 60_000);

  it('no CRDs, no ConfigMap, not allowed to read it', async () => {
    const { kc } = await kubeFor({ [`/api/v1/namespaces/dsa-system/configmaps/${OPERATOR_INFO_NAME}`]: { status: 403, body: { message: 'configmaps "dsa-operator-info" is forbidden' } } }, 'bare');
    const r = await readClusterApi(kc, { operatorNamespace: 'dsa-system' });
    expect(r.servedVersions).toEqual([]);
    expect(r.operator).toEqual({ found: false, reason: `not allowed to read ConfigMap dsa-system/${OPERATOR_INFO_NAME} (configmaps "dsa-operator-info" is forbidden)` });
    const missing = await readClusterApi(kc, { operatorNamespace: 'elsewhere' });
    expect(missing.operator).toMatchObject({ found: false, reason: expect.stringMatching(/^no ConfigMap elsewhere\/dsa-operator-info: no operator in elsewhere/) });
  }, 30_000);

  it('an unreachable apiserver is a ClusterError', async () => {
    const { kc, server } = await kubeFor({}, 'gone');
    await server.close();
    await expect(readClusterApi(kc, { operatorNamespace: 'x' })).rejects.toMatchObject({ name: 'ClusterError', message: expect.stringMatching(/^cannot reach the cluster at http:\/\/127\.0\.0\.1:\d+: /) });
  }, 30_000);

  it('up/deploy: one warning line for a disagreement, nothing otherwise, never a failure', async () => {
    const skewed = await kubeFor({ '/apis/dsa.dev': group('v1alpha1'), [`/api/v1/namespaces/dsa-system/configmaps/${OPERATOR_INFO_NAME}`]: info({ version: '0.0.9', apiVersion: 'dsa.dev/v1alpha1', apiDigest: '000000000000' }) }, 'skew');
    const same = await kubeFor({ '/apis/dsa.dev': group('v1alpha1'), [`/api/v1/namespaces/dsa-system/configmaps/${OPERATOR_INFO_NAME}`]: info({ version: '0.1.0', apiVersion: 'dsa.dev/v1alpha1', apiDigest: DIGEST }) }, 'same');
    const check = async (kubeconfig: string | undefined) => {
      const lines: string[] = [];
      const log = { verbose: false, debug: () => {}, info: () => {}, error: () => {}, warn: (m: string) => void lines.push(m) };
      const kube = createKubeAccess({ env: kubeconfig ? { KUBECONFIG: kubeconfig } : {}, homeDir: tmp, cwd: tmp, log });
      const env = { log, signal: new AbortController().signal, stdout: new StringWriter(), stderr: new StringWriter(), isTTY: { stdin: false, stdout: false, stderr: false } };
      await warnOnApiSkew(env, { kube, services: () => Promise.reject(new Error('unused')), cluster: undefined as never }, { recordedDigest: DIGEST, operatorNamespace: 'dsa-system' });
      return lines;
    };
    expect(await check(skewed.kubeconfig)).toEqual([
      `the operator 0.0.9 in dsa-system was built with another dsa.dev/v1alpha1 schema (000000000000, this dsa: ${DIGEST}): fields only one side knows are dropped or rejected. Use the same release of dsa and of the operator (dsa version --cluster).`,
    ]);
    expect(await check(same.kubeconfig)).toEqual([]);
    expect(await check(undefined)).toEqual([]);
  }, 30_000);

  it('dsa version --cluster: the report, warnings on stderr, JSON with -o json', async () => {
    const { kubeconfig } = await kubeFor(
      { '/apis/dsa.dev': group('v1alpha1'), [`/api/v1/namespaces/team-ops/configmaps/${OPERATOR_INFO_NAME}`]: info({ version: '0.2.0', apiVersion: 'dsa.dev/v1beta1', apiDigest: 'abcabcabcabc', scope: 'team', startedAt: '2026-01-01T00:00:00Z' }) },
      'cli',
    );
    const dsa = async (argv: string[]) => {
      const stdout = new StringWriter();
      const stderr = new StringWriter();
      const code = await run(argv, {
        stdout,
        stderr,
        env: { KUBECONFIG: kubeconfig, DSA_OPERATOR_NAMESPACE: 'team-ops' },
        cwd: tmp,
        homeDir: tmp,
        isTTY: { stdin: false, stdout: false, stderr: false },
        signal: new AbortController().signal,
        services: () => Promise.reject(new Error('unused')),
        owner: () => ({ user: 'u', host: 'h' }),
      });
      return { code, stdout: stdout.toString(), stderr: stderr.toString() };
    };
    const table = await dsa(['version', '--cluster']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Client Version: +\d+\.\d+\.\d+\n/);
    expect(table.stdout).toContain(`API:              dsa.dev/v1alpha1 (schema ${DIGEST})\n`);
    expect(table.stdout).toMatch(/Cluster: +http:\/\/127\.0\.0\.1:\d+ \(context fake\)\n/);
    expect(table.stdout).toContain('Served API:       dsa.dev v1alpha1 (preferred v1alpha1)\n');
    expect(table.stdout).toContain('Operator Version: 0.2.0 in team-ops (scope team), started 2026-01-01T00:00:00Z\n');
    expect(table.stdout).toContain('Operator API:     dsa.dev/v1beta1 (schema abcabcabcabc)\n');
    expect(table.stderr).toBe('warning: the operator 0.2.0 in team-ops reconciles dsa.dev/v1beta1, but this dsa writes dsa.dev/v1alpha1\n');
    const json = JSON.parse((await dsa(['version', '--cluster', '--operator-namespace', 'nowhere', '-o', 'json'])).stdout) as Record<string, any>;
    expect(json.agent).toMatchObject({ apiVersion: 'dsa.dev/v1alpha1', apiDigest: DIGEST, flavor: 'source' });
    expect(json.cluster.operator).toMatchObject({ found: false });
    expect(json.skew).toEqual([]);
    const offline = await dsa(['version']);
    expect(offline.stdout).not.toContain('Cluster');
    expect(formatVersion({ agent: { version: '1', commit: '', built: '', flavor: 'source', node: 'v20', platform: 'linux/x64', apiVersion: 'a/b', apiDigest: 'd' } })).toBe(
      ['Client Version: 1', 'Git Commit:     unknown', 'Built:          from source', 'Node:           v20 linux/x64', 'API:            a/b (schema d)', ''].join('\n'),
    );
  }, 60_000);

  it('the operator namespace: --operator-namespace, else DSA_OPERATOR_NAMESPACE, else dsa-system (version --cluster and the up/deploy check)', async () => {
    const cm = (version: string) => info({ version, apiVersion: 'dsa.dev/v1beta1', apiDigest: DIGEST });
    const { kc, kubeconfig } = await kubeFor(
      { '/apis/dsa.dev': group('v1alpha1'), ...Object.fromEntries(['dsa-system', 'ops', 'other'].map((ns, i) => [`/api/v1/namespaces/${ns}/configmaps/${OPERATOR_INFO_NAME}`, cm(`0.0.${i}`)])) },
      'ns-order',
    );
    const version = async (argv: string[], env: Record<string, string>) => {
      const stdout = new StringWriter();
      const io = { stdout, stderr: new StringWriter(), env: { KUBECONFIG: kubeconfig, ...env }, cwd: tmp, homeDir: tmp, isTTY: { stdin: false, stdout: false, stderr: false }, signal: new AbortController().signal };
      expect(await run(['version', '--cluster', '-o', 'json', ...argv], { ...io, services: () => Promise.reject(new Error('unused')), owner: () => ({ user: 'u', host: 'h' }) })).toBe(0);
      return (JSON.parse(stdout.toString()) as { cluster: { operator: { info: { namespace: string; version: string } } } }).cluster.operator.info;
    };
    expect(await version([], {})).toMatchObject({ namespace: 'dsa-system', version: '0.0.0' });
    expect(await version([], { DSA_OPERATOR_NAMESPACE: '' })).toMatchObject({ namespace: 'dsa-system' });
    expect(await version([], { DSA_OPERATOR_NAMESPACE: 'ops' })).toMatchObject({ namespace: 'ops', version: '0.0.1' });
    expect(await version(['--operator-namespace', 'other'], { DSA_OPERATOR_NAMESPACE: 'ops' })).toMatchObject({ namespace: 'other', version: '0.0.2' });
    // up and deploy (no flag): the environment variable, else dsa-system.
    const check = async (processEnv: Record<string, string>) => {
      const lines: string[] = [];
      const log = { verbose: false, debug: () => {}, info: () => {}, error: () => {}, warn: (m: string) => void lines.push(m) };
      const kube = { kubeConfig: async () => kc };
      const env = { log, signal: new AbortController().signal, stdout: new StringWriter(), stderr: new StringWriter(), isTTY: { stdin: false, stdout: false, stderr: false } };
      await startApiCheck({ env, deps: { kube, services: () => Promise.reject(new Error('unused')), cluster: undefined }, processEnv } as unknown as CommandContext);
      return lines;
    };
    expect(await check({})).toEqual([expect.stringMatching(/^the operator 0\.0\.0 in dsa-system reconciles dsa\.dev\/v1beta1/)]);
    expect(await check({ DSA_OPERATOR_NAMESPACE: 'ops' })).toEqual([expect.stringMatching(/^the operator 0\.0\.1 in ops reconciles/)]);
  }, 60_000);
});
