// `dsa version --cluster` against the local cluster's operator (issue 10): an operator process (tsx
// operator/src/main.ts, as operator-process.test.ts starts it) publishes its ConfigMap dsa-operator-info in
// this suite's namespace at start-up; the CLI, run as users run it (agent/bin/dsa.js), reads it and the
// apiserver's discovery, shows the operator's version and API, and warns when they disagree with its own.
//
// Env: eval "$(test-e2e/cluster/ensure.sh controlplane)" (the node tier works too).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, DEVSESSION, GROUP, VERSION } from '@dsa/api';
import { agentApi } from '../../../agent/src/actions/cluster-version.js';
import { OPERATOR_INFO_NAME } from '../../../operator/src/operator-info.js';
import { applyCrds, createTestNamespace, E2E_SCOPE, kubeFromEnv, REPO_ROOT, scopeArgs, waitFor, type TestNamespace } from '../../lib/index.js';
import { OperatorProcess, ProcessRegistry } from '../../lib/process.js';

jest.setTimeout(180_000);

const DSA = resolve(REPO_ROOT, 'agent/bin/dsa.js');
const procs = new ProcessRegistry();
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let ns: TestNamespace;

function dsa(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // KUBECONFIG from the cluster env; nothing else of the developer's (no DSA_OPERATOR_NAMESPACE).
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', KUBECONFIG: process.env.KUBECONFIG ?? '' };
    execFile(process.execPath, [DSA, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  await applyCrds();
  ns = await createTestNamespace(kc, 'dsa-e2e-version');
  procs.track(
    new OperatorProcess({
      name: 'version-operator',
      dir: 'agent-version',
      args: ['--leader-elect=false', `--watch-namespace=${ns.name}`, ...scopeArgs(), '--metrics-bind-address=0'],
      // What the chart sets from the pod's namespace: where the operator publishes its version.
      env: { POD_NAMESPACE: ns.name },
    }),
  );
});

afterAll(async () => {
  await procs.killAll();
  await ns?.cleanup({ stripFinalizers: [{ group: GROUP, version: VERSION, plural: DEVSESSION.plural }] }).catch(() => undefined);
});

describe('dsa version --cluster', () => {
  it('the operator publishes its version and API in its namespace at start-up', async () => {
    const cm = await waitFor(
      `ConfigMap ${ns.name}/${OPERATOR_INFO_NAME}`,
      async () => {
        try {
          return await core.readNamespacedConfigMap({ name: OPERATOR_INFO_NAME, namespace: ns.name });
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${procs.report(40, 0)}`);
    });
    expect(cm.data).toMatchObject({ version: 'dev', apiVersion: API_VERSION, scope: E2E_SCOPE, apiDigest: (await agentApi('')).apiDigest });
  });

  it('shows the operator and the served API, and no warning when they agree', async () => {
    const r = await dsa(['version', '--cluster', '--operator-namespace', ns.name]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Served API:       dsa.dev v1alpha1 (preferred v1alpha1)\n');
    expect(r.stdout).toMatch(new RegExp(`Operator Version: dev in ${ns.name} \\(scope ${E2E_SCOPE}\\), started \\d{4}-`));
    expect(r.stdout).toContain(`Operator API:     ${API_VERSION} (schema ${(await agentApi('')).apiDigest})\n`);
    const json = JSON.parse((await dsa(['version', '--cluster', '--operator-namespace', ns.name, '-o', 'json'])).stdout) as { cluster: { servedVersions: string[]; operator: { found: boolean } }; skew: string[] };
    expect(json.cluster.servedVersions).toContain(VERSION);
    expect(json.cluster.operator.found).toBe(true);
    expect(json.skew).toEqual([]);
  });

  it('warns when the operator was built with another schema; says where it looked when there is none', async () => {
    await core.patchNamespacedConfigMap(
      { name: OPERATOR_INFO_NAME, namespace: ns.name, body: { data: { apiDigest: '000000000000' } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const skewed = await dsa(['version', '--cluster', '--operator-namespace', ns.name]);
    expect(skewed.code).toBe(0);
    expect(skewed.stderr).toMatch(new RegExp(`^warning: the operator dev in ${ns.name} was built with another ${API_VERSION} schema \\(000000000000, this dsa: [0-9a-f]{12}\\)`));
    const none = await dsa(['version', '--cluster', '--operator-namespace', `${ns.name}-none`]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain(`Operator Version: unknown: no ConfigMap ${ns.name}-none/${OPERATOR_INFO_NAME}`);
  });
});
