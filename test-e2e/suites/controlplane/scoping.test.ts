// Two operators, one cluster: an operator with the default scope (what `make demo` installs) and one with this
// file's scope, both in this process, both watching the same two namespaces. Every session must be reconciled
// by exactly one of them — decided by the session's `dsa.dev/operator-scope` label, else its namespace's.
// Which operator reconciled a session is read from its events' reportingInstance.
// Env: eval "$(test-e2e/cluster/ensure.sh controlplane)".
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, DEVSESSION, GROUP, LABELS, VERSION, type DevSession } from '@dsa/api';
import { buildOperator, createLogger, loadConfig } from '@dsa/operator';
import type { Manager } from '../../../operator/src/runtime/index.js';
import { DSA_RESOURCES, E2E_SCOPE, applyCrds, createTestNamespace, kubeFromEnv, scopeArgs, waitFor, type TestNamespace } from '../../lib/index.js';

jest.setTimeout(120_000);

let kc: k8s.KubeConfig;
let custom: k8s.CustomObjectsApi;
let events: k8s.EventsV1Api;
/** Inherits this file's scope from its namespace. */
let scoped: TestNamespace;
/** Labelled with an empty scope: the default scope's namespace. */
let plain: TestNamespace;
const managers: Manager[] = [];

function start(name: string, extra: string[]): Manager {
  const cfg = loadConfig({ argv: ['--leader-elect=false', '--metrics-bind-address=0', `--watch-namespace=${scoped.name},${plain.name}`, '--concurrency=2', ...extra], env: {} });
  // A KubeConfig of its own: the request counter (dsa_operator_api_requests_total) counts per KubeConfig.
  const { manager } = buildOperator(cfg, { kc: kubeFromEnv(), log: createLogger({ level: 'warn' }), env: { POD_NAME: name } });
  void manager.start();
  managers.push(manager);
  return manager;
}

beforeAll(async () => {
  kc = kubeFromEnv();
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  events = kc.makeApiClient(k8s.EventsV1Api);
  await applyCrds();
  scoped = await createTestNamespace(kc, 'dsa-scope-mine');
  plain = await createTestNamespace(kc, 'dsa-scope-plain', { [LABELS.operatorScope]: '' });
  start('op-default', []);
  start('op-tests', scopeArgs());
});

afterAll(async () => {
  await Promise.all(managers.map((m) => m.stop()));
  for (const ns of [scoped, plain]) await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
});

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {v: "${v}"}\n`;

async function createSession(ns: string, name: string, labels: Record<string, string> = {}): Promise<void> {
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: DEVSESSION.plural,
    namespace: ns,
    body: { apiVersion: API_VERSION, kind: DEVSESSION.kind, metadata: { name, labels }, spec: { project: name, deployments: [{ name: 'cfg', kubectl: { manifests: [cm(`${name}-cfg`, '1')] } }] } },
  });
}

async function readyFor(ns: string, name: string, generation = 1): Promise<DevSession> {
  return waitFor(`${ns}/${name} Ready (generation ${generation})`, async () => {
    const s = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns, name })) as DevSession;
    const r = s.status?.conditions?.find((c) => c.type === 'Ready');
    return r?.status === 'True' && r.observedGeneration === generation ? s : undefined;
  }, { timeoutMs: 60_000, intervalMs: 200 });
}

/** Write requests an operator sent so far (its dsa_operator_api_requests_total). */
async function writes(m: Manager): Promise<number> {
  const v = await m.metrics.apiRequests.get();
  return v.values.filter((x) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(String(x.labels.verb))).reduce((n, x) => n + x.value, 0);
}

/** The operators that recorded events about a session. */
async function reporters(ns: string, name: string): Promise<string[]> {
  const list = await events.listNamespacedEvent({ namespace: ns });
  return [...new Set(list.items.filter((e) => e.regarding?.name === name && e.regarding.kind === DEVSESSION.kind).map((e) => e.reportingInstance ?? ''))].sort();
}

describe('two operators, one cluster', () => {
  it('each session is reconciled by exactly the operator of its scope', async () => {
    await createSession(scoped.name, 'from-namespace');
    await createSession(plain.name, 'default');
    await createSession(plain.name, 'labelled', { [LABELS.operatorScope]: E2E_SCOPE });
    await createSession(scoped.name, 'foreign', { [LABELS.operatorScope]: 'nobody-here' });
    await readyFor(scoped.name, 'from-namespace');
    await readyFor(plain.name, 'default');
    await readyFor(plain.name, 'labelled');
    expect(await reporters(scoped.name, 'from-namespace')).toEqual(['op-tests']);
    // Unscoped: op-default, and any other unscoped operator installed on this cluster (`make demo`'s) may
    // reconcile it too — that overlap is what scopes are for; none of the scoped ones does.
    const defaults = await reporters(plain.name, 'default');
    expect(defaults).toContain('op-default');
    expect(defaults).not.toContain('op-tests');
    expect(await reporters(plain.name, 'labelled')).toEqual(['op-tests']);
    // A scope no running operator has: left alone (no finalizer, no status).
    const foreign = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: scoped.name, name: 'foreign' })) as DevSession;
    expect(foreign.metadata.finalizers).toBeUndefined();
    expect(foreign.status).toBeUndefined();
  });

  it('relabelling a session hands it over', async () => {
    // `default` moves to this file's scope; a spec change is then applied by op-tests alone.
    const [opDefault, opTests] = managers as [Manager, Manager];
    const before = { byDefault: await writes(opDefault), byTests: await writes(opTests) };
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: plain.name, name: 'default', body: { metadata: { labels: { [LABELS.operatorScope]: E2E_SCOPE } }, spec: { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('default-cfg', '2')] } }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const s = await readyFor(plain.name, 'default', 2);
    expect(s.status?.observedGeneration).toBe(2);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitFor('default-cfg v=2', async () => (await core.readNamespacedConfigMap({ namespace: plain.name, name: 'default-cfg' })).data?.v === '2', { timeoutMs: 30_000 });
    expect(await writes(opDefault)).toBe(before.byDefault);
    expect(await writes(opTests)).toBeGreaterThan(before.byTests);
  });
});
