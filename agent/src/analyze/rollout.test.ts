// The fail-fast inspector: which pods count (the current revision only), when a problem blocks, and
// when a rollout is over (for -d).
import { describe, expect, test } from '@jest/globals';
import type { DevSession } from '@dsa/api';
import { FakeAnalyzeKube, replicaSet, sessionPod } from './fake-analyze-kube.test-util.js';
import { currentPods, FailFastTracker, freshlyReadyMs, MIN_READY_MS, rolloutSettled, RolloutInspector, sessionNamespaces, sessionSelector, waitingOn } from './rollout.js';

const session = (over: Partial<DevSession['status']> = {}): DevSession => ({
  apiVersion: 'dsa.dev/v1alpha1',
  kind: 'DevSession',
  metadata: { name: 'web', namespace: 'dev', generation: 1 },
  spec: { project: 'web', deployments: [{ name: 'web', kubectl: { manifests: ['x'] } }, { name: 'db', namespace: 'data', kubectl: { manifests: ['y'] } }] },
  status: { observedGeneration: 1, phase: 'Deploying', inventory: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'dev', name: 'web', deployment: 'web' }], ...over },
});

const deployOwner = (rs: string) => ({ kind: 'ReplicaSet', name: rs, uid: `${rs}-uid` });

describe('which pods', () => {
  test('the selector is the operator\'s session labels; namespaces come from the deployments and the inventory', () => {
    expect(sessionSelector(session())).toBe('dsa.dev/session=web,dsa.dev/session-namespace=dev');
    expect(sessionNamespaces(session({ inventory: [{ apiVersion: 'v1', kind: 'Service', namespace: 'edge', name: 's' }] }))).toEqual(['dev', 'data', 'edge']);
  });

  test('pods of a superseded ReplicaSet are not the rollout\'s: their crash loop does not count', () => {
    const old = replicaSet('web-1', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 1, replicas: 1, ready: 0 });
    const fresh = replicaSet('web-2', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 2, replicas: 1, ready: 0 });
    const oldPod = sessionPod('web-1-a', { session: 'web', owner: deployOwner('web-1'), state: 'crashloop' });
    const newPod = sessionPod('web-2-a', { session: 'web', owner: deployOwner('web-2'), state: 'creating' });
    const bare = sessionPod('job-x', { session: 'web', state: 'ready' });
    expect(currentPods([oldPod, newPod, bare], [old, fresh]).map((p) => p.metadata?.name)).toEqual(['web-2-a', 'job-x']);
    expect(waitingOn(currentPods([oldPod, newPod], [old, fresh]))).toBe('pod web-2-a/app: ContainerCreating');
  });

  test('settled: the newest ReplicaSet ready and the old ones empty, every current pod ready', () => {
    const s = session();
    const old = replicaSet('web-1', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 1, replicas: 1, ready: 1 });
    const fresh = replicaSet('web-2', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 2, replicas: 1, ready: 1 });
    const pod = sessionPod('web-2-a', { session: 'web', owner: deployOwner('web-2'), state: 'ready' });
    expect(rolloutSettled(s, [pod], [old, fresh])).toBe(false);
    old.status!.replicas = 0;
    expect(rolloutSettled(s, [pod], [old, fresh])).toBe(true);
    // The Deployment's ReplicaSet is not there yet (deleted, being re-created): not settled.
    expect(rolloutSettled(s, [], [])).toBe(false);
    // A pod on its way out: not settled.
    const leaving = structuredClone(pod);
    leaving.metadata!.deletionTimestamp = new Date();
    expect(rolloutSettled(s, [pod, leaving], [old, fresh])).toBe(false);
    // Without ReplicaSets (not allowed to list them) the pods decide.
    expect(rolloutSettled(s, [pod], undefined)).toBe(true);
  });
});

describe('FailFastTracker', () => {
  const p = (ms: number | undefined, name = 'a') => ({ kind: 'Unschedulable' as const, severity: 'error' as const, object: { kind: 'Pod', namespace: 'dev', name }, summary: 's', details: [], hint: 'h', ...(ms !== undefined ? { failFastAfterMs: ms } : {}) });

  test('a problem blocks once it persisted its time; one that went away starts again', () => {
    const t = new FailFastTracker();
    expect(t.observe([p(5000)], 0)).toEqual([]);
    expect(t.observe([p(5000)], 4999)).toEqual([]);
    expect(t.observe([p(5000)], 5000)).toHaveLength(1);
    expect(t.observe([], 6000)).toEqual([]);
    expect(t.observe([p(5000)], 7000)).toEqual([]);
    expect(t.observe([p(0, 'b'), p(undefined, 'c')], 7000).map((x) => x.object.name)).toEqual(['b']);
  });
});

describe('RolloutInspector', () => {
  test('a crash loop of the current revision blocks at once, with the events and the crashed run\'s log', async () => {
    const kube = new FakeAnalyzeKube();
    kube.replicaSets = [replicaSet('web-1', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 1, replicas: 1, ready: 0 })];
    kube.pods = [sessionPod('web-1-a', { session: 'web', owner: deployOwner('web-1'), state: 'crashloop' }), sessionPod('other', { session: 'not-web', state: 'crashloop' })];
    kube.logs.set('web-1-a/app/previous', 'starting\nfatal: no database\n');
    const r = await new RolloutInspector(kube).inspect([session()]);
    expect(r.settled).toBe(false);
    expect(r.blocking).toHaveLength(1);
    expect(r.blocking[0]).toMatchObject({ kind: 'CrashLoop', object: { name: 'web-1-a' }, exitCode: 3, logs: ['starting', 'fatal: no database'] });
    expect(kube.calls).toContain('pods dev dsa.dev/session=web,dsa.dev/session-namespace=dev');
    expect(kube.calls).toContain('pods data dsa.dev/session=web,dsa.dev/session-namespace=dev');
    expect(kube.calls).toContain('log dev/web-1-a/app previous');
  });

  test('an unschedulable pod blocks after 5 s of our own clock; what is awaited is said meanwhile', async () => {
    const kube = new FakeAnalyzeKube();
    kube.pods = [sessionPod('web-a', { session: 'web', state: 'pending-unschedulable' })];
    let now = 1_000;
    const inspector = new RolloutInspector(kube, { now: () => now });
    const first = await inspector.inspect([session()]);
    expect(first).toMatchObject({ blocking: [], waitingOn: 'pod web-a: Unschedulable', settled: false });
    now += 5_000;
    const later = await inspector.inspect([session()]);
    expect(later.blocking[0]?.summary).toContain('0/1 nodes are available: 1 Insufficient memory');
  });

  test('a dependency that stalled blocks the root; diagnose lists every error now', async () => {
    const kube = new FakeAnalyzeKube();
    const dep = session({ phase: 'Failed', message: 'x', conditions: [{ type: 'Stalled', status: 'True', reason: 'DeployFailed', message: 'deployment db: Job/migrate: failed', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }] });
    dep.metadata.name = 'web-db';
    const r = await new RolloutInspector(kube).inspect([dep, session()]);
    expect(r.blocking.map((p) => [p.kind, p.object.name])).toEqual([['SessionFailed', 'web-db']]);
    kube.pods = [sessionPod('web-a', { session: 'web', state: 'pull' })];
    const all = await new RolloutInspector(kube).diagnose([session()]);
    expect(all.map((p) => p.kind)).toEqual(['ImagePull']);
    expect(all[0]!.details).toEqual(['registry: reg/app:1: not found']);
  });
});

describe('freshlyReadyMs', () => {
  const pod = (readySince?: string, phase = 'Running') => ({ status: { phase, conditions: readySince ? [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readySince) }] : [{ type: 'Ready', status: 'False' }] } }) as never;
  const now = Date.parse('2026-01-01T00:00:10Z');
  test('is how long until every ready pod has been ready MIN_READY_MS; 0 for old, unready or finished pods', () => {
    expect(MIN_READY_MS).toBe(2_000);
    expect(freshlyReadyMs([pod('2026-01-01T00:00:09.500Z')], now)).toBe(1_500);
    expect(freshlyReadyMs([pod('2026-01-01T00:00:05Z'), pod('2026-01-01T00:00:09Z')], now)).toBe(1_000);
    expect(freshlyReadyMs([pod('2026-01-01T00:00:05Z'), pod(undefined), pod('2026-01-01T00:00:09.9Z', 'Succeeded')], now)).toBe(0);
  });
});
