// DevSession reconciler driven against an in-memory apiserver fake (DI, no module mocks). The real
// apiserver versions of these scenarios live in test-e2e/suites/controlplane/devsession.test.ts.
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { DevSession, DevSessionSpec, DevSessionStatus, ImageBuild } from '@dsa/api';
import { FakeClock, TerminalError, silentLogger, type JsonPatchOp, type ReconcileContext } from '../../runtime/index.js';
import { apiError } from '../../runtime/testing.js';
import { DevSessionReconciler } from './reconciler.js';
import type { DevSessionKube, ObjectRef } from './kube.js';

type Any = Record<string, any>;
const key = (r: { apiVersion?: string; kind?: string; namespace?: string; name?: string }) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole']);

class FakeKube implements DevSessionKube {
  sessions = new Map<string, DevSession>();
  objects = new Map<string, KubernetesObject>();
  applied: string[] = [];
  deleted: string[] = [];
  statusWrites = 0;
  reject?: (o: KubernetesObject) => unknown;
  /** Status the "controllers" give objects when applied. */
  statusFor?: (o: KubernetesObject) => unknown;
  pods: V1Pod[] = [];

  async getSession(ns: string, name: string) {
    const s = this.sessions.get(`${ns}/${name}`);
    return s ? structuredClone(s) : undefined;
  }
  async applySessionStatus(s: DevSession, status: DevSessionStatus) {
    this.statusWrites++;
    const cur = this.sessions.get(`${s.metadata.namespace}/${s.metadata.name}`)!;
    // The agent-owned field survives our apply.
    cur.status = { ...status, ...(cur.status?.sync !== undefined ? { sync: cur.status.sync } : {}) };
  }
  sessionPatcher(ns: string, name: string) {
    return async (ops: JsonPatchOp[]) => {
      const s = this.sessions.get(`${ns}/${name}`)!;
      for (const op of ops) {
        if (op.op === 'add' && op.path === '/metadata/finalizers') s.metadata.finalizers = [...(op.value as string[])];
        else if (op.op === 'add' && op.path === '/metadata/finalizers/-') s.metadata.finalizers!.push(op.value as string);
        else if (op.op === 'remove') s.metadata.finalizers!.splice(Number(op.path.split('/').pop()), 1);
      }
      if (s.metadata.deletionTimestamp && !s.metadata.finalizers?.length) this.sessions.delete(`${ns}/${name}`);
      return s;
    };
  }
  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    const err = this.reject?.(obj);
    if (err) throw err;
    const k = key({ ...obj, ...obj.metadata });
    const prev = this.objects.get(k) as Any | undefined;
    const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, generation: 1 }, status: this.statusFor?.(obj) ?? prev?.status } as T;
    this.objects.set(k, stored);
    this.applied.push(k);
    return structuredClone(stored);
  }
  async get(ref: ObjectRef) {
    return this.objects.get(key(ref));
  }
  async delete(ref: ObjectRef) {
    this.deleted.push(key(ref));
    return this.objects.delete(key(ref));
  }
  async isNamespaced(_a: string, kind: string) {
    return !CLUSTER_SCOPED.has(kind);
  }
  async listImageBuilds(ns: string) {
    return [...this.objects.values()].filter((o) => o.kind === 'ImageBuild' && o.metadata?.namespace === ns) as unknown as ImageBuild[];
  }
  async listPods() {
    return this.pods;
  }
  addSession(name: string, spec: Partial<DevSessionSpec>, ns = 'dev', extra: Partial<DevSession['metadata']> = {}): DevSession {
    const s: DevSession = { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name, namespace: ns, uid: `uid-${name}`, generation: 1, ...extra }, spec: { project: name, ...spec } };
    this.sessions.set(`${ns}/${name}`, s);
    return s;
  }
  session(name: string, ns = 'dev') {
    return this.sessions.get(`${ns}/${name}`);
  }
}

function setup() {
  const kube = new FakeKube();
  const clock = new FakeClock();
  const r = new DevSessionReconciler({ kube, sessions: { get: (ns, n) => kube.sessions.get(`${ns}/${n}`) }, clock });
  const ctx = (): ReconcileContext<KubernetesObject> => ({ controller: 'devsession', log: silentLogger(), signal: new AbortController().signal, retries: 0, cached: undefined });
  const run = (name: string, ns = 'dev') => r.reconcile({ namespace: ns, name }, ctx());
  return { kube, clock, run };
}

const cm = (name: string, extra = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data: {k: v}\n`;
const cond = (s: DevSession | undefined, type: string) => (s?.status?.conditions ?? []).find((c) => c.type === type);

describe('DevSessionReconciler', () => {
  it('adds the finalizer, applies labelled objects into the namespace, and reports Ready', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { owner: { user: 'alice', host: 'lap' }, deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a') + '---\n' + cm('b')] } }] });
    expect(await run('s')).toBeUndefined();
    const s = kube.session('s')!;
    expect(s.metadata.finalizers).toEqual(['dsa.dev/cleanup']);
    const a = kube.objects.get('ConfigMap/dev/a')!;
    expect(a.metadata?.labels).toMatchObject({ 'dsa.dev/session': 's', 'dsa.dev/deployment': 'cfg', 'app.kubernetes.io/managed-by': 'dsa' });
    expect(s.status).toMatchObject({ phase: 'Ready', observedGeneration: 1, owner: 'alice@lap', deploymentsReady: '1/1', imagesBuilt: '0/0' });
    expect(s.status?.inventory).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'dev', name: 'a', deployment: 'cfg' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'dev', name: 'b', deployment: 'cfg' },
    ]);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(cond(s, 'Stalled')?.status).toBe('False');
    // A second pass with nothing new writes no status (no self-triggered reconcile).
    const writes = kube.statusWrites;
    await run('s');
    expect(kube.statusWrites).toBe(writes);
  });

  it('prunes objects that are no longer rendered and keeps the agent-owned sync field', async () => {
    const { kube, run } = setup();
    const s = kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a'), cm('b')] } }] });
    await run('s');
    kube.session('s')!.status!.sync = 'active';
    s.spec.deployments = [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }];
    s.metadata.generation = 2;
    await run('s');
    expect(kube.objects.has('ConfigMap/dev/b')).toBe(false);
    expect(kube.deleted).toEqual(['ConfigMap/dev/b']);
    expect(kube.session('s')!.status).toMatchObject({ observedGeneration: 2, sync: 'active' });
    expect(cond(kube.session('s'), 'Ready')).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('a manifest the apiserver rejects stalls with ManifestRejected, terminally, and keeps the old inventory', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('good'), cm('bad')] } }] });
    kube.reject = (o) => (o.metadata?.name === 'bad' ? apiError(422, 'Invalid', 'ConfigMap "bad" is invalid: data[k]: Invalid value') : undefined);
    await expect(run('s')).rejects.toThrow(TerminalError);
    const s = kube.session('s')!;
    expect(s.status?.phase).toBe('Failed');
    expect(cond(s, 'Stalled')).toMatchObject({ status: 'True', reason: 'ManifestRejected' });
    expect(cond(s, 'Stalled')?.message).toMatch(/ConfigMap dev\/bad rejected by the apiserver: .*Invalid value/);
    expect(s.status?.inventory?.map((e) => e.name)).toEqual(['good']);
    // Retrying the same spec fails the same way, without a requeue.
    await expect(run('s')).rejects.toMatchObject({ reason: 'ManifestRejected' });
  });

  it('bad YAML stalls with InvalidSpec naming the deployment', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: ['kind: [unclosed'] } }] });
    await expect(run('s')).rejects.toThrow(/deployment cfg, manifest #1: invalid YAML/);
    expect(cond(kube.session('s'), 'Stalled')?.reason).toBe('InvalidSpec');
  });

  it('waits for dependencies, then deploys once they are Ready for their current generation', async () => {
    const { kube, run } = setup();
    kube.addSession('a', { deployments: [{ name: 'a', kubectl: { manifests: [cm('a')] } }] });
    kube.addSession('b', { dependencies: [{ name: 'a' }], deployments: [{ name: 'b', kubectl: { manifests: [cm('b')] } }] });
    await run('b');
    expect(kube.session('b')!.status).toMatchObject({ phase: 'Pending', dependencies: [{ name: 'a', ready: false }] });
    expect(cond(kube.session('b'), 'Reconciling')).toMatchObject({ status: 'True', reason: 'WaitingForDependencies' });
    expect(kube.objects.has('ConfigMap/dev/b')).toBe(false);
    await run('a');
    await run('b');
    expect(kube.session('b')!.status).toMatchObject({ phase: 'Ready', dependencies: [{ name: 'a', ready: true }] });
    expect(kube.applied.indexOf('ConfigMap/dev/a')).toBeLessThan(kube.applied.indexOf('ConfigMap/dev/b'));
    // A Ready condition for an older generation does not count.
    kube.session('a')!.metadata.generation = 2;
    await run('b');
    expect(kube.session('b')!.status?.phase).toBe('Pending');
  });

  it('a missing dependency requeues slowly', async () => {
    const { kube, run } = setup();
    kube.addSession('b', { dependencies: [{ name: 'ghost' }] });
    expect(await run('b')).toEqual({ requeueAfter: 60_000 });
    expect(kube.session('b')!.status?.message).toMatch(/ghost \(not found\)/);
  });

  it('a dependency cycle stalls with DependencyCycle naming the cycle', async () => {
    const { kube, run } = setup();
    kube.addSession('a', { dependencies: [{ name: 'b' }] });
    kube.addSession('b', { dependencies: [{ name: 'a' }] });
    await expect(run('a')).rejects.toThrow('dependency cycle: a -> b -> a');
    expect(cond(kube.session('a'), 'Stalled')).toMatchObject({ status: 'True', reason: 'DependencyCycle' });
    expect(kube.applied).toEqual([]);
  });

  it('creates ImageBuilds, waits for them, then replaces tags with the built tag', async () => {
    const { kube, run } = setup();
    const digest = 'sha256:' + 'a'.repeat(64);
    kube.addSession('s', {
      images: [{ name: 'api', image: 'reg.local:5000/api', context: { upload: { digest } } }],
      deployments: [{ name: 'api', kubectl: { manifests: ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: reg.local:5000/api}]\n'] } }],
    });
    await run('s');
    const ib = kube.objects.get('ImageBuild/dev/s-api') as Any;
    expect(ib.metadata.ownerReferences[0]).toMatchObject({ kind: 'DevSession', name: 's', controller: true });
    expect(kube.session('s')!.status).toMatchObject({ phase: 'Building', imagesBuilt: '0/1' });
    expect(kube.objects.has('Pod/dev/p')).toBe(false);

    ib.status = { observedGeneration: 1, phase: 'Succeeded', tag: ib.spec.tag, image: `reg.local:5000/api:${ib.spec.tag}` };
    kube.statusFor = (o) => (o.kind === 'Pod' ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } : undefined);
    await run('s');
    const pod = kube.objects.get('Pod/dev/p') as Any;
    expect(pod.spec.containers[0].image).toBe(`reg.local:5000/api:${ib.spec.tag}`);
    expect(kube.session('s')!.status).toMatchObject({ phase: 'Ready', imagesBuilt: '1/1', images: [{ name: 'api', imageBuild: 's-api', phase: 'Succeeded' }] });
  });

  it('a failed build stalls with ImageBuildFailed naming the image and message', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { images: [{ name: 'api', image: 'reg/api', context: { upload: { digest: 'sha256:' + 'b'.repeat(64) } } }] });
    kube.statusFor = (o) => (o.kind === 'ImageBuild' ? { observedGeneration: 1, phase: 'Failed', message: 'kaniko: COPY failed' } : undefined);
    await expect(run('s')).rejects.toThrow('image api failed to build: kaniko: COPY failed');
    expect(cond(kube.session('s'), 'Stalled')?.reason).toBe('ImageBuildFailed');
  });

  it('polls while a rollout is in progress', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { deployments: [{ name: 'web', kubectl: { manifests: ['apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}]}}}\n'] } }] });
    expect(await run('s')).toEqual({ requeueAfter: 5_000 });
    expect(kube.session('s')!.status).toMatchObject({ phase: 'Deploying', deploymentsReady: '0/1', deployments: [{ name: 'web', ready: false }] });
    expect(cond(kube.session('s'), 'Reconciling')).toMatchObject({ status: 'True', reason: 'RolloutInProgress' });
  });

  it('deletion removes the inventory, then the finalizer; keepDeployments keeps the objects', async () => {
    for (const keep of [false, true]) {
      const { kube, run } = setup();
      kube.addSession('s', { keepDeployments: keep, deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
      await run('s');
      kube.session('s')!.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
      await run('s');
      expect(kube.session('s')).toBeUndefined();
      expect(kube.objects.has('ConfigMap/dev/a')).toBe(keep);
    }
  });

  it('status.pods points at the running pod of each dev pod', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { images: [{ name: 'api', image: 'reg/api', skip: true, tags: ['v1'] }], dev: { pods: [{ name: 'api', selector: { imageName: 'api' } }] } });
    const pod = (name: string, phase: string, created: string): V1Pod => ({
      metadata: { name, creationTimestamp: new Date(created) },
      spec: { containers: [{ name: 'side', image: 'busybox' }, { name: 'main', image: 'reg/api:v1' }] },
      status: { phase, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    kube.pods = [pod('old', 'Running', '2025-01-01'), pod('new', 'Running', '2025-01-02'), pod('pending', 'Pending', '2025-01-03')];
    await run('s');
    expect(kube.session('s')!.status?.pods).toEqual([{ devPod: 'api', pod: 'new', container: 'main', namespace: 'dev' }]);
  });
});
