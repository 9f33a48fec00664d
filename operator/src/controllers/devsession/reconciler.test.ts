// DevSession reconciler driven against an in-memory apiserver fake (DI, no module mocks). The real
// apiserver versions of these scenarios live in test-e2e/suites/controlplane/devsession.test.ts.
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevSession, DevSessionSpec, DevSessionStatus, ImageBuild } from '@dsa/api';
import { EventRecorder, FakeClock, StallError, TerminalError, silentLogger, type JsonPatchOp, type ReconcileContext } from '../../runtime/index.js';
import { DEFAULT_TRANSFORMS, insertTransform } from '../../deploy/transforms.js';
import type { Transform } from '../../deploy/pipeline.js';
import { apiError } from '../../runtime/testing.js';
import { DevSessionReconciler, type DevSessionReconcilerDeps } from './reconciler.js';
import type { DevSessionKube, ObjectRef, SessionObjects } from './kube.js';
import { UNCONFINED } from '../../confinement/confinement.js';
import type { DevSessionReads } from './reads.js';

type Any = Record<string, any>;
const key = (r: { apiVersion?: string; kind?: string; namespace?: string; name?: string }) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole']);

class FakeKube implements DevSessionKube {
  sessions = new Map<string, DevSession>();
  objects = new Map<string, KubernetesObject>();
  applied: string[] = [];
  deleted: string[] = [];
  gets = 0;
  /** LISTs of ImageBuilds sent to the apiserver (the informer cache should answer them). */
  imageBuildLists = 0;
  statusWrites = 0;
  reject?: (o: KubernetesObject) => unknown;
  /** Status the "controllers" give objects when applied. */
  statusFor?: (o: KubernetesObject) => unknown;
  /** Thrown by the next status write (once). */
  statusError?: unknown;
  /** Who each apply/get/delete was sent as ('operator' = the operator itself). */
  calls: Array<{ as: string; verb: string; key: string }> = [];
  /** RBAC of impersonated users: a 403 for what this returns true for. */
  forbid?: (user: string, verb: string, ref: ObjectRef) => boolean;
  secrets = new Map<string, Record<string, string>>();
  private rv = 1;

  as(user: string): SessionObjects {
    const check = (verb: string, ref: ObjectRef) => {
      this.calls.push({ as: user, verb, key: key(ref) });
      if (this.forbid?.(user, verb, ref)) {
        throw apiError(403, 'Forbidden', `${ref.kind.toLowerCase()}s "${ref.name}" is forbidden: User "${user}" cannot ${verb} resource "${ref.kind.toLowerCase()}s" in API group "" in the namespace "${ref.namespace}"`);
      }
    };
    const refOf = (o: KubernetesObject): ObjectRef => ({ apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', namespace: o.metadata?.namespace, name: o.metadata?.name ?? '' });
    return {
      apply: async (obj) => (check('patch', refOf(obj)), this.apply(obj)),
      get: async (ref) => (check('get', ref), this.get(ref)),
      delete: async (ref) => (check('delete', ref), this.delete(ref)),
      listImageBuilds: (ns) => this.listImageBuilds(ns),
      readDockerConfig: async () => undefined,
      readSecret: async (ns, name) => (check('get', { apiVersion: 'v1', kind: 'Secret', namespace: ns, name }), this.readSecret(ns, name)),
    };
  }
  async readSecret(ns: string, name: string) {
    return this.secrets.get(`${ns}/${name}`);
  }

  async applySessionStatus(s: DevSession, status: DevSessionStatus) {
    if (this.statusError) {
      const e = this.statusError;
      this.statusError = undefined;
      throw e;
    }
    this.statusWrites++;
    const cur = this.sessions.get(`${s.metadata.namespace}/${s.metadata.name}`)!;
    // The agent-owned field survives our apply.
    cur.status = { ...structuredClone(status), ...(cur.status?.sync !== undefined ? { sync: cur.status.sync } : {}) };
    cur.metadata.resourceVersion = String(++this.rv);
    return structuredClone(cur);
  }
  sessionPatcher(ns: string, name: string) {
    return async (ops: JsonPatchOp[]) => {
      const s = this.sessions.get(`${ns}/${name}`)!;
      for (const op of ops) {
        if (op.op === 'add' && op.path === '/metadata/finalizers') s.metadata.finalizers = [...(op.value as string[])];
        else if (op.op === 'add' && op.path === '/metadata/finalizers/-') s.metadata.finalizers!.push(op.value as string);
        else if (op.op === 'remove') s.metadata.finalizers!.splice(Number(op.path.split('/').pop()), 1);
      }
      s.metadata.resourceVersion = String(++this.rv);
      if (s.metadata.deletionTimestamp && !s.metadata.finalizers?.length) this.sessions.delete(`${ns}/${name}`);
      return structuredClone(s);
    };
  }
  async apply<T extends KubernetesObject>(obj: T): Promise<T> {
    const err = this.reject?.(obj);
    if (err) throw err;
    const k = key({ ...obj, ...obj.metadata });
    const prev = this.objects.get(k) as Any | undefined;
    // Like the apiserver: our Apply entry in managedFields, fields = what we sent.
    const managedFields = [{ manager: 'dsa-operator', operation: 'Apply', fieldsV1: { sent: Object.keys(obj).sort() } }];
    const stored = { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), generation: 1, managedFields }, status: this.statusFor?.(obj) ?? prev?.status } as T;
    this.objects.set(k, stored);
    this.applied.push(k);
    return structuredClone(stored);
  }
  async get(ref: ObjectRef) {
    this.gets++;
    const o = this.objects.get(key(ref));
    return o ? structuredClone(o) : undefined;
  }
  async delete(ref: ObjectRef) {
    this.deleted.push(key(ref));
    return this.objects.delete(key(ref));
  }
  async isNamespaced(_a: string, kind: string) {
    return !CLUSTER_SCOPED.has(kind);
  }
  async listImageBuilds(ns: string) {
    this.imageBuildLists++;
    return [...this.objects.values()].filter((o) => o.kind === 'ImageBuild' && o.metadata?.namespace === ns) as unknown as ImageBuild[];
  }
  async readDockerConfig() {
    return undefined;
  }
  addSession(name: string, spec: Partial<DevSessionSpec>, ns = 'dev', extra: Partial<DevSession['metadata']> = {}): DevSession {
    const s: DevSession = { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name, namespace: ns, uid: `uid-${name}`, generation: 1, resourceVersion: '1', ...extra }, spec: { project: name, ...spec } };
    this.sessions.set(`${ns}/${name}`, s);
    return s;
  }
  session(name: string, ns = 'dev') {
    return this.sessions.get(`${ns}/${name}`);
  }
}

/** The informer cache, as the fake apiserver holds it (always current). */
function fakeReads(kube: FakeKube): DevSessionReads {
  const ib = (o: KubernetesObject) => structuredClone(o) as unknown as ImageBuild;
  return {
    session: (ns, n) => (kube.sessions.has(`${ns}/${n}`) ? structuredClone(kube.sessions.get(`${ns}/${n}`)) : undefined),
    anySession: (ns, n) => (kube.sessions.has(`${ns}/${n}`) ? structuredClone(kube.sessions.get(`${ns}/${n}`)) : undefined),
    coversImageBuilds: () => true,
    imageBuild: (ns, n) => {
      const o = kube.objects.get(`ImageBuild/${ns}/${n}`);
      return o ? ib(o) : undefined;
    },
    imageBuilds: (ns, labels) =>
      [...kube.objects.values()].filter((o) => o.kind === 'ImageBuild' && o.metadata?.namespace === ns && Object.entries(labels).every(([k, v]) => o.metadata?.labels?.[k] === v)).map(ib),
    sessionWritten: () => undefined,
    imageBuildWritten: () => undefined,
  };
}

function setup(over: Partial<DevSessionReconcilerDeps> = {}) {
  const kube = new FakeKube();
  const clock = new FakeClock();
  const events: Array<{ reason?: string; note?: string; type?: string }> = [];
  const r = new DevSessionReconciler({
    kube,
    reads: fakeReads(kube),
    clock,
    imageConfigSource: { imageConfig: async () => undefined },
    events: new EventRecorder({ sink: { create: async (_ns, e) => void events.push(e as never) }, reportingInstance: 't' }),
    ...over,
  });
  const ctx = (): ReconcileContext<KubernetesObject> => ({ controller: 'devsession', log: silentLogger(), signal: new AbortController().signal, retries: 0, cached: undefined });
  const run = (name: string, ns = 'dev') => r.reconcile({ namespace: ns, name }, ctx());
  return { kube, clock, run, r, events };
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

  it('helm wait: true holds the later deployments until its objects are ready; wait: false counts it ready once applied', async () => {
    const chart = (wait: boolean) => ({ name: 'web', helm: { chart: { component: true as const }, values: { containers: [{ image: 'nginx' }] }, wait } });
    const waiting = setup();
    waiting.kube.addSession('s', { deployments: [chart(true), { name: 'cfg', kubectl: { manifests: [cm('after')] } }] });
    await waiting.run('s');
    expect(waiting.kube.objects.has('Deployment/dev/web')).toBe(true);
    expect(waiting.kube.objects.has('ConfigMap/dev/after')).toBe(false);
    expect(waiting.kube.session('s')!.status?.deployments).toEqual([
      expect.objectContaining({ name: 'web', ready: false }),
      expect.objectContaining({ name: 'cfg', ready: false, message: 'waiting for web (helm wait)' }),
    ]);

    const noWait = setup();
    noWait.kube.addSession('s', { deployments: [chart(false), { name: 'cfg', kubectl: { manifests: [cm('after')] } }] });
    await noWait.run('s');
    expect(noWait.kube.objects.has('ConfigMap/dev/after')).toBe(true);
    expect(noWait.kube.session('s')!.status?.deployments?.[0]).toMatchObject({ name: 'web', ready: true, message: expect.stringContaining('(helm wait: false)') });
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

  it('converged: a second pass, and a restarted operator, write nothing (no apply, no status, no event)', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a'), cm('b')] } }] });
    await run('s');
    const applies = kube.applied.length;
    const writes = kube.statusWrites;
    await run('s');
    expect(kube.applied.length).toBe(applies);
    expect(kube.statusWrites).toBe(writes);
    // A new reconciler (a restarted operator) has no memory of what it applied: the live objects say it.
    const events: unknown[] = [];
    const restarted = new DevSessionReconciler({
      kube,
      reads: fakeReads(kube),
      clock: new FakeClock(),
      events: new EventRecorder({ sink: { create: async (_ns, e) => events.push(e) }, reportingInstance: 't' }),
    });
    await restarted.reconcile({ namespace: 'dev', name: 's' }, { controller: 'devsession', log: silentLogger(), signal: new AbortController().signal, retries: 0, cached: undefined });
    expect(kube.applied.length).toBe(applies);
    expect(kube.statusWrites).toBe(writes);
    expect(events).toEqual([]);
    expect((kube.objects.get('ConfigMap/dev/a') as Any).metadata.annotations['dsa.dev/applied-hash']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a pass reads the session and its ImageBuilds from the cache: no GET of the session, no LIST of ImageBuilds', async () => {
    const { kube, run } = setup();
    kube.statusFor = (o) => (o.kind === 'ImageBuild' ? { observedGeneration: 1, phase: 'Succeeded', tag: 't1', image: 'reg/api:t1' } : undefined);
    kube.addSession('s', { images: [{ name: 'api', image: 'reg/api', context: { upload: { digest: 'sha256:' + 'd'.repeat(64) } } }] });
    await run('s');
    await run('s');
    expect(kube.session('s')!.status).toMatchObject({ phase: 'Ready', imagesBuilt: '1/1' });
    // DevSessionKube has no session GET at all (the session comes from `reads`); the ImageBuild prune must not LIST.
    expect(kube.imageBuildLists).toBe(0);
    expect(kube.calls.filter((c) => c.key.startsWith('DevSession') || c.key.startsWith('ImageBuild'))).toEqual([]);
  });

  it('an object applied before the session-uid label existed: re-labelled when applied again, left with a Warning when pruned', async () => {
    const { kube, run, events } = setup();
    // What an older operator left: session name and namespace labels, no uid, no applied-hash.
    const old = { 'dsa.dev/session': 's', 'dsa.dev/session-namespace': 'dev', 'dsa.dev/deployment': 'cfg' };
    for (const n of ['a', 'gone']) kube.objects.set(`ConfigMap/dev/${n}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, namespace: 'dev', labels: { ...old } }, data: { k: 'v' } } as KubernetesObject);
    const s = kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    s.status = { inventory: ['a', 'gone'].map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'dev', name, deployment: 'cfg' })) };
    await run('s');
    expect(kube.applied).toEqual(['ConfigMap/dev/a']);
    expect((kube.objects.get('ConfigMap/dev/a') as Any).metadata.labels['dsa.dev/session-uid']).toBe('uid-s');
    expect(kube.deleted).toEqual([]);
    expect(kube.objects.has('ConfigMap/dev/gone')).toBe(true);
    expect(events.filter((e) => e.reason === 'InventoryEntryIgnored')).toEqual([
      expect.objectContaining({ type: 'Warning', note: 'status.inventory lists ConfigMap dev/gone, but its labels do not name this session (name, namespace and uid): not deleted' }),
    ]);
    // Once re-labelled, the object is the session's own: a later prune deletes it.
    s.spec.deployments = [];
    s.metadata.generation = 2;
    await run('s');
    expect(kube.deleted).toEqual(['ConfigMap/dev/a']);
  });

  it('re-applies what changed, and an object whose fields another manager took', async () => {
    const { kube, run } = setup();
    const s = kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a'), cm('b')] } }] });
    await run('s');
    kube.applied = [];
    s.spec.deployments = [{ name: 'cfg', kubectl: { manifests: [cm('a'), cm('b').replace('{k: v}', '{k: changed}')] } }];
    s.metadata.generation = 2;
    await run('s');
    expect(kube.applied).toEqual(['ConfigMap/dev/b']);
    // Someone `kubectl edit`s a: its Update moves fields out of our managedFields entry.
    (kube.objects.get('ConfigMap/dev/a') as Any).metadata.managedFields[0].fieldsV1 = { sent: ['apiVersion'] };
    kube.applied = [];
    await run('s');
    expect(kube.applied).toEqual(['ConfigMap/dev/a']);
  });

  it('-d (a new requested-at) applies every object once more, unchanged or not; the same request again applies nothing', async () => {
    const { kube, run } = setup();
    const s = kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a'), cm('b')] } }] });
    await run('s');
    kube.applied = [];
    s.metadata.annotations = { ...s.metadata.annotations, 'dsa.dev/requested-at': '2026-11-30T05:00:00Z' };
    await run('s');
    expect([...kube.applied].sort()).toEqual(['ConfigMap/dev/a', 'ConfigMap/dev/b']);
    kube.applied = [];
    await run('s');
    expect(kube.applied).toEqual([]);
  });

  it('a transient error reaches status (Reconciling=True, ProgressingWithRetry, the message) before it is rethrown', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    await run('s');
    kube.session('s')!.metadata.generation = 2;
    kube.session('s')!.spec.deployments = [{ name: 'cfg', kubectl: { manifests: [cm('a2')] } }];
    kube.reject = () => apiError(503, 'ServiceUnavailable', 'etcdserver: request timed out');
    await expect(run('s')).rejects.toMatchObject({ code: 503 });
    const st = kube.session('s')!.status!;
    expect(cond(kube.session('s'), 'Reconciling')).toMatchObject({ status: 'True', reason: 'ProgressingWithRetry', observedGeneration: 2 });
    expect(cond(kube.session('s'), 'Ready')).toMatchObject({ status: 'False', reason: 'ProgressingWithRetry' });
    expect(cond(kube.session('s'), 'Stalled')?.status).toBe('False');
    expect(st.message).toBe('etcdserver: request timed out; retrying');
    expect(st.phase).toBe('Ready'); // the phase of what runs is kept
    // When the status write fails too, the step's error is still the one retried.
    kube.statusError = apiError(500, 'InternalError', 'status write failed');
    kube.reject = () => apiError(503, 'ServiceUnavailable', 'second');
    kube.session('s')!.metadata.generation = 3;
    await expect(run('s')).rejects.toMatchObject({ code: 503, message: expect.stringContaining('second') });
    // Recovery: Ready again for the current generation.
    kube.reject = undefined;
    await run('s');
    expect(cond(kube.session('s'), 'Ready')).toMatchObject({ status: 'True', observedGeneration: 3 });
  });

  it('a conflict (stale read) is retried at once without a status write', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    kube.reject = () => apiError(409, 'Conflict', 'the object has been modified');
    await expect(run('s')).rejects.toMatchObject({ code: 409 });
    expect(kube.statusWrites).toBe(0);
  });

  it('runs the deploy pipeline in order; a new transform joins with one entry, and its StallError stalls', async () => {
    const seen: string[] = [];
    const stamp: Transform = {
      name: 'stamp',
      run: async (objects, ctx) => {
        seen.push(`${ctx.deployment.name}:${objects.map((o) => o.metadata?.labels?.['dsa.dev/deployment']).join(',')}:${ctx.capabilities.nativeSidecars}`);
        return objects.map((o) => ({ ...o, metadata: { ...o.metadata, annotations: { stamped: ctx.targetNamespace } } }));
      },
    };
    const { kube, run } = setup({ transforms: insertTransform(DEFAULT_TRANSFORMS, stamp, { after: 'dev-overrides' }), capabilities: { get: async () => ({ nativeSidecars: true }) } });
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    await run('s');
    // After decorate (the label is there), before apply (the annotation is applied).
    expect(seen).toEqual(['cfg:cfg:true']);
    expect((kube.objects.get('ConfigMap/dev/a') as Any).metadata.annotations.stamped).toBe('dev');

    const refuse: Transform = { name: 'refuse', run: async () => Promise.reject(new StallError('ObjectNotAllowed', 'deployment cfg: ConfigMap dev/a: not today')) };
    const second = setup({ transforms: [...DEFAULT_TRANSFORMS, refuse] });
    second.kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    await expect(second.run('s')).rejects.toThrow(TerminalError);
    expect(cond(second.kube.session('s'), 'Stalled')).toMatchObject({ status: 'True', reason: 'ObjectNotAllowed', message: 'deployment cfg: ConfigMap dev/a: not today' });
    expect(second.kube.applied).toEqual([]);
  });

  it('confinement: with cross-namespace and cluster-scoped objects disallowed, the session stalls naming the object', async () => {
    // The default is confined (CONFINED): no cross-namespace, no cluster-scoped objects.
    const { kube, run } = setup();
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('ok'), cm('elsewhere', '  namespace: kube-system\n')] } }] });
    await expect(run('s')).rejects.toThrow(TerminalError);
    expect(cond(kube.session('s'), 'Stalled')).toMatchObject({ reason: 'ObjectNotAllowed' });
    expect(cond(kube.session('s'), 'Stalled')?.message).toMatch(/ConfigMap kube-system\/elsewhere: objects outside the session's namespace dev are not allowed/);
    expect(kube.applied).toEqual([]);
    kube.session('s')!.spec.deployments = [{ name: 'ns', kubectl: { manifests: ['apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n'] } }];
    kube.session('s')!.metadata.generation = 2;
    await expect(run('s')).rejects.toThrow(/Namespace other: cluster-scoped objects are not allowed/);
  });

  it('confinement off (UNCONFINED): other namespaces and cluster-scoped kinds are applied, as the operator itself', async () => {
    const { kube, run } = setup({ confinement: UNCONFINED });
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('elsewhere', '  namespace: other\n'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n'] } }] });
    await run('s');
    expect(kube.objects.has('ConfigMap/other/elsewhere')).toBe(true);
    expect(kube.objects.has('Namespace//other')).toBe(true);
    expect(kube.calls).toEqual([]);
  });
});

describe('DevSessionReconciler: tenant confinement', () => {
  const SA = 'system:serviceaccount:dev:dsa-deployer';

  it('applies, reads and deletes as the session ServiceAccount; spec.serviceAccountName picks another one', async () => {
    const { kube, run } = setup();
    const s = kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a'), cm('b')] } }] });
    await run('s');
    expect(kube.calls.filter((c) => c.verb === 'patch')).toEqual([
      { as: SA, verb: 'patch', key: 'ConfigMap/dev/a' },
      { as: SA, verb: 'patch', key: 'ConfigMap/dev/b' },
    ]);
    s.spec = { ...s.spec, serviceAccountName: 'ci-bot', deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] };
    s.metadata.generation = 2;
    kube.calls = [];
    await run('s');
    expect(new Set(kube.calls.map((c) => c.as))).toEqual(new Set(['system:serviceaccount:dev:ci-bot']));
    expect(kube.calls.find((c) => c.verb === 'delete')).toEqual({ as: 'system:serviceaccount:dev:ci-bot', verb: 'delete', key: 'ConfigMap/dev/b' });
    // Every applied object carries the session's uid: pruning trusts the live labels, not status.
    expect((kube.objects.get('ConfigMap/dev/a') as Any).metadata.labels['dsa.dev/session-uid']).toBe('uid-s');
  });

  it('what RBAC refuses the account stalls the session, saying who was impersonated, what was refused and how to grant it', async () => {
    const { kube, run } = setup();
    kube.forbid = (_u, verb, ref) => verb === 'patch' && ref.name === 'b';
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a'), cm('b')] } }] });
    // Retried slowly (an admin may grant it), so not a TerminalError.
    expect(await run('s')).toEqual({ requeueAfter: 60_000 });
    const stalled = cond(kube.session('s'), 'Stalled');
    expect(stalled).toMatchObject({ status: 'True', reason: 'Forbidden' });
    expect(stalled?.message).toBe(
      `deployment cfg: ConfigMap dev/b: ${SA} may not patch configmaps in namespace dev: grant it with a Role and RoleBinding for that ServiceAccount (ready-made: charts/dsa-operator/README.md, "Tenant namespaces")`,
    );
    expect(kube.objects.has('ConfigMap/dev/b')).toBe(false);
  });

  it('an invalid ServiceAccount name is an invalid spec', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { serviceAccountName: 'Not_Valid', deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    await expect(run('s')).rejects.toThrow(/spec.serviceAccountName: "Not_Valid" is not a valid ServiceAccount name/);
    expect(kube.applied).toEqual([]);
  });

  it('a forged status.inventory entry is never deleted: prune and cleanup check the live labels (name, namespace, uid)', async () => {
    const { kube, run, events } = setup();
    // (B's object would also be refused by RBAC; the operator does not even ask for an object outside the namespace.)
    // Another team's Deployment, and an object of an earlier session with the same name (another uid).
    kube.objects.set('Deployment/team-b/api', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'team-b', labels: { app: 'api' } } });
    kube.objects.set('ConfigMap/dev/old', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old', namespace: 'dev', labels: { 'dsa.dev/session': 's', 'dsa.dev/session-namespace': 'dev', 'dsa.dev/session-uid': 'uid-earlier' } } });
    const s = kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    s.status = {
      inventory: [
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-b', name: 'api', deployment: 'cfg' },
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'dev', name: 'old', deployment: 'cfg' },
      ],
    };
    await run('s');
    expect(kube.objects.has('Deployment/team-b/api')).toBe(true);
    expect(kube.objects.has('ConfigMap/dev/old')).toBe(true);
    expect(kube.deleted).toEqual([]);
    const warnings = events.filter((e) => e.reason === 'InventoryEntryIgnored');
    expect(warnings.map((e) => e.note)).toEqual([
      'status.inventory lists ConfigMap dev/old, but its labels do not name this session (name, namespace and uid): not deleted',
      "status.inventory lists Deployment team-b/api, outside the session's namespace dev: not deleted",
    ]);
    expect(warnings.every((e) => e.type === 'Warning')).toBe(true);
    // The forged entries are gone from status; what the session applied is there.
    expect(kube.session('s')!.status?.inventory?.map((e) => e.name)).toEqual(['a']);
    // Deletion: the same check.
    kube.session('s')!.status!.inventory!.push({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-b', name: 'api' });
    kube.session('s')!.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
    await run('s');
    expect(kube.session('s')).toBeUndefined();
    expect(kube.deleted).toEqual(['ConfigMap/dev/a']);
    expect(kube.objects.has('Deployment/team-b/api')).toBe(true);
  });

  it('cleanup as an account that may no longer delete leaves the objects, says so, and still releases the session', async () => {
    const { kube, run, events } = setup();
    kube.addSession('s', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('a')] } }] });
    await run('s');
    kube.forbid = (_u, verb) => verb === 'delete';
    kube.session('s')!.metadata.deletionTimestamp = '2025-01-01T00:00:00Z';
    await run('s');
    expect(kube.session('s')).toBeUndefined();
    expect(kube.objects.has('ConfigMap/dev/a')).toBe(true);
    expect(events.find((e) => e.reason === 'Forbidden')?.note).toBe(`left in place, ${SA} may not delete them: ConfigMap dev/a`);
  });

  it('builds run in the session namespace only', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { images: [{ name: 'api', image: 'reg/api', context: { upload: { digest: 'sha256:' + 'c'.repeat(64) } }, builder: { namespace: 'team-b' }, registry: { pushSecret: 'their-push' } }] });
    await expect(run('s')).rejects.toThrow(TerminalError);
    expect(cond(kube.session('s'), 'Stalled')).toMatchObject({ reason: 'ObjectNotAllowed' });
    expect(cond(kube.session('s'), 'Stalled')?.message).toMatch(/image api: builds outside the session's namespace dev are not allowed \(builder.namespace team-b/);
    expect([...kube.objects.keys()].filter((k) => k.startsWith('ImageBuild/'))).toEqual([]);
  });

  it('ImageBuild children carry the session ServiceAccount; the operator applies them in the session namespace', async () => {
    const { kube, run } = setup();
    kube.addSession('s', { serviceAccountName: 'builder', images: [{ name: 'api', image: 'reg/api', context: { upload: { digest: 'sha256:' + 'c'.repeat(64) } } }] });
    await run('s');
    expect((kube.objects.get('ImageBuild/dev/s-api') as Any).spec.serviceAccountName).toBe('builder');
    expect(kube.calls.filter((c) => c.key.startsWith('ImageBuild'))).toEqual([]);
  });

  it('secret variables: placeholders in helm values and manifests are filled from the Secret, read as the session account', async () => {
    const { kube, run } = setup();
    const s = kube.addSession('s', {
      secretVars: { secretName: 's-vars', names: ['DB_PASSWORD'] },
      deployments: [
        { name: 'cfg', kubectl: { manifests: [cm('a').replace('{k: v}', '{password: "${dsa.secret.DB_PASSWORD}", other: "${dsa.secret.NOT_LISTED}"}')] } },
        { name: 'chart', helm: { chart: { component: true }, values: { containers: [{ image: 'nginx', env: [{ name: 'PW', value: 'pw=${dsa.secret.DB_PASSWORD}' }] }] } } },
      ],
    });
    // The agent may create the Secret next: retried slowly.
    expect(await run('s')).toEqual({ requeueAfter: 60_000 });
    expect(cond(kube.session('s'), 'Stalled')?.message).toBe(`spec.secretVars: Secret dev/s-vars not found (read as ${SA})`);
    kube.secrets.set('dev/s-vars', { DB_PASSWORD: 'hunter2' });
    s.metadata.generation = 2;
    await run('s');
    expect((kube.objects.get('ConfigMap/dev/a') as Any).data).toEqual({ password: 'hunter2', other: '${dsa.secret.NOT_LISTED}' });
    const dep = kube.objects.get('Deployment/dev/chart') as Any;
    expect(JSON.stringify(dep.spec.template.spec.containers[0].env)).toContain('pw=hunter2');
    expect(JSON.stringify(kube.session('s')!.status)).not.toContain('hunter2');
    expect(kube.calls).toContainEqual({ as: SA, verb: 'get', key: 'Secret/dev/s-vars' });
  });
});
