// status.pods — for each dev pod of a session, the running pod (and container) the agent should exec,
// port-forward and sync into — as its own small controller keyed by session, fed by pod informers.
//
// Why separate: pods come and go far more often than a session's spec changes; a pod event used to run the
// whole DevSession pass (render, compare every object) just to refresh this list. Here it is a cache read and,
// when the answer changed, one status write.
//
// status.pods is written with its own field manager (dsa-operator-devpods), so the DevSession reconciler's
// server-side apply of the rest of the status (which never sends `pods`) leaves it alone, and vice versa.
//
// Pods are read from an informer per namespace that has sessions with dev pods, started on first use: dev
// pods may select any pod (labelSelector, imageSelector), not only those dsa deployed, and watching every pod
// of the cluster would cost more memory than the operator needs for everything else.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { DEVSESSION, GROUP, VERSION, type DevSession, type DevPodStatus } from '@dsa/api';
import { Controller, RetryableError, patchStatus, realClock, type Clock, type Logger, type OperatorMetrics, type ReconcileContext, type Request, type Result, type SharedInformer } from '../../runtime/index.js';
import { pickDevPod } from './dev-pods.js';
import type { DevSessionReads } from './reads.js';
import type { OperatorCache } from '../operator-cache.js';

export const DEV_PODS_FIELD_MANAGER = 'dsa-operator-devpods';

export interface DevPodsWriter {
  /** SSA status.pods as DEV_PODS_FIELD_MANAGER (undefined removes ours). Returns the session as stored. */
  applyPods(session: DevSession, pods: DevPodStatus[] | undefined): Promise<DevSession | undefined>;
}

export class ClientNodeDevPodsWriter implements DevPodsWriter {
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async applyPods(session: DevSession, pods: DevPodStatus[] | undefined): Promise<DevSession | undefined> {
    return (await patchStatus(
      this.custom,
      { group: GROUP, version: VERSION, kind: DEVSESSION.kind, plural: DEVSESSION.plural, namespace: session.metadata.namespace ?? '', name: session.metadata.name },
      pods ? { pods } : {},
      { fieldManager: DEV_PODS_FIELD_MANAGER, force: true },
    )) as DevSession | undefined;
  }
}

/** The pods of a namespace from its informer; undefined while that informer has not synced. */
export interface PodLister {
  pods(namespace: string): Promise<V1Pod[] | undefined>;
}

/** The namespaces a session's dev pods look in. */
export function devPodNamespaces(s: DevSession): Set<string> {
  const ns = s.metadata.namespace ?? '';
  return new Set((s.spec.dev?.pods ?? []).map((dp) => dp.selector.namespace || ns));
}

/** status.pods for `s` from the pods of each namespace (pure). */
export function desiredDevPods(s: DevSession, podsOf: (namespace: string) => readonly V1Pod[]): DevPodStatus[] {
  const ns = s.metadata.namespace ?? '';
  const out: DevPodStatus[] = [];
  for (const dp of s.spec.dev?.pods ?? []) {
    const pns = dp.selector.namespace || ns;
    const picked = pickDevPod(dp, s.spec.images ?? [], podsOf(pns), pns);
    if (picked) out.push(picked);
  }
  return out;
}

export function samePods(a: readonly DevPodStatus[] | undefined, b: readonly DevPodStatus[] | undefined): boolean {
  const norm = (l: readonly DevPodStatus[] | undefined) => JSON.stringify((l ?? []).map((p) => [p.devPod, p.pod, p.container ?? '', p.namespace ?? '']));
  return norm(a) === norm(b);
}

export interface DevPodsReconcilerDeps {
  reads: Pick<DevSessionReads, 'session' | 'sessionWritten'>;
  pods: PodLister;
  writer: DevPodsWriter;
}

export class DevPodsReconciler {
  constructor(private readonly d: DevPodsReconcilerDeps) {}

  async reconcile(req: Request, _ctx?: ReconcileContext<KubernetesObject>): Promise<Result | void> {
    const s = this.d.reads.session(req.namespace, req.name);
    if (!s || s.metadata.deletionTimestamp) return;
    const lists = new Map<string, V1Pod[]>();
    for (const ns of devPodNamespaces(s)) {
      const pods = await this.d.pods.pods(ns);
      if (pods === undefined) throw new RetryableError('PodsNotCached', `the pods of namespace ${ns} are not cached yet`);
      lists.set(ns, pods);
    }
    const want = desiredDevPods(s, (ns) => lists.get(ns) ?? []);
    if (samePods(s.status?.pods, want)) return;
    const stored = await this.d.writer.applyPods(s, want.length ? want : undefined);
    this.d.reads.sessionWritten(stored);
  }
}

/** Pod informers started on demand, one per namespace; every pod event goes to `onPod`. */
export class OnDemandPodLister implements PodLister {
  private readonly handled = new Set<SharedInformer<V1Pod>>();
  onPod: ((pod: V1Pod) => void) | undefined;

  constructor(
    private readonly informerFor: (namespace: string) => SharedInformer<V1Pod>,
    private readonly syncTimeoutMs = 10_000,
  ) {}

  async pods(namespace: string): Promise<V1Pod[] | undefined> {
    const inf = this.informerFor(namespace);
    if (!this.handled.has(inf)) {
      this.handled.add(inf);
      const call = (p: V1Pod) => this.onPod?.(p);
      inf.addHandler({ add: call, update: call, delete: call });
      inf.start();
    }
    if (!inf.hasSynced() && !(await inf.waitForSync(this.syncTimeoutMs))) return undefined;
    return inf.list(namespace);
  }
}

/** Only dev-pod changes of the spec matter here (and a session appearing). */
export function devPodsChanged(o: KubernetesObject, old?: KubernetesObject): boolean {
  if (!old) return true;
  const a = (o as unknown as DevSession).spec?.dev?.pods;
  const b = (old as unknown as DevSession).spec?.dev?.pods;
  return JSON.stringify(a ?? []) !== JSON.stringify(b ?? []) || JSON.stringify((o as unknown as DevSession).spec?.images ?? []) !== JSON.stringify((old as unknown as DevSession).spec?.images ?? []);
}

export interface DevPodsControllerOptions {
  cache: OperatorCache;
  reads: DevSessionReads;
  writer: DevPodsWriter;
  workers?: number;
  metrics?: OperatorMetrics;
  logger?: Logger;
  clock?: Clock;
}

export function createDevPodsController(o: DevPodsControllerOptions): Controller<KubernetesObject> {
  const lister = new OnDemandPodLister((ns) => o.cache.podsIn(ns));
  const reconciler = new DevPodsReconciler({ reads: o.reads, pods: lister, writer: o.writer });
  const sessions = o.cache.sessions;
  const controller = new Controller<KubernetesObject>({
    name: 'devsession-pods',
    for: sessions,
    predicate: devPodsChanged,
    reconciler: (req, ctx) => reconciler.reconcile(req, ctx),
    workers: o.workers,
    metrics: o.metrics,
    logger: o.logger,
    clock: o.clock ?? realClock,
    // A pod informer that is still syncing is worth a quick retry, not minutes of backoff.
    backoff: { baseDelayMs: 200, maxDelayMs: 30_000 },
  });
  // A pod event concerns the sessions whose dev pods look in its namespace.
  lister.onPod = (pod) => {
    const ns = pod.metadata?.namespace ?? '';
    for (const s of sessions.list()) {
      if (devPodNamespaces(s as unknown as DevSession).has(ns)) controller.enqueue({ namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? '' });
    }
  };
  return controller;
}
