// Fail fast: while `dsa deploy`/`up` wait for a session, look at the pods and builds behind it and stop
// as soon as the rollout cannot succeed without a change (a crash loop, an image that cannot be pulled,
// a pod no node fits, a failed build, a registry that speaks another protocol). The same checks as
// `dsa analyze`, limited to the session's pods of the CURRENT revision: while a fix rolls out, the old
// ReplicaSet's crash-looping pod must not stop the deploy that replaces it.
//
// Each check says how long its problem must persist (failFastAfterMs); the tracker measures that on our
// own clock, from the first time we saw it (the cluster's timestamps may be skewed against ours).
import type { V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { LABELS, shortenName, type DevSession } from '@dsa/api';
import { withLogs } from './collect.js';
import type { AnalyzeKube } from './kube.js';
import { showObject, sortProblems, type Problem } from './model.js';
import { isBuildPod, podProblems, podRef, type PodProblem } from './pods.js';
import { explainRegistries, httpRegistryProbe, type ProbeResult, type RegistryProbe } from './registry-probe.js';
import { imageBuildProblems, sessionProblems, type ResourceProblem } from './resources.js';

const REVISION = 'deployment.kubernetes.io/revision';

type Timed = Problem & { failFastAfterMs?: number };

/** The label selector of the pods (and ReplicaSets) the operator deployed for `session`. */
export function sessionSelector(session: Pick<DevSession, 'metadata'>): string {
  return `${LABELS.session}=${shortenName(session.metadata.name)},${LABELS.sessionNamespace}=${shortenName(session.metadata.namespace ?? 'default')}`;
}

/** Where the session's objects live: its namespace, its deployments' namespaces, what its inventory records. */
export function sessionNamespaces(session: DevSession): string[] {
  const ns = session.metadata.namespace ?? 'default';
  return [...new Set([ns, ...(session.spec.deployments ?? []).map((d) => d.namespace || ns), ...(session.status?.inventory ?? []).map((e) => e.namespace || ns)])];
}

const controllerOf = (o: { metadata?: { ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }> } }) =>
  o.metadata?.ownerReferences?.find((r) => r.controller) ?? o.metadata?.ownerReferences?.[0];

const revisionOf = (rs: V1ReplicaSet) => Number(rs.metadata?.annotations?.[REVISION] ?? '0') || 0;

/** For each Deployment (by owner uid), its newest ReplicaSet. Pure. */
export function newestReplicaSets(replicaSets: readonly V1ReplicaSet[]): Map<string, V1ReplicaSet> {
  const newest = new Map<string, V1ReplicaSet>();
  for (const rs of replicaSets) {
    const owner = controllerOf(rs);
    if (owner?.kind !== 'Deployment') continue;
    const prev = newest.get(owner.uid);
    if (!prev || revisionOf(rs) > revisionOf(prev)) newest.set(owner.uid, rs);
  }
  return newest;
}

/** The pods of the current revision: pods of a Deployment's superseded ReplicaSets are on their way out. Pure. */
export function currentPods(pods: readonly V1Pod[], replicaSets: readonly V1ReplicaSet[]): V1Pod[] {
  const newest = newestReplicaSets(replicaSets);
  const superseded = new Set(
    replicaSets
      .filter((rs) => {
        const owner = controllerOf(rs);
        return owner?.kind === 'Deployment' && newest.get(owner.uid) !== rs;
      })
      .map((rs) => rs.metadata?.uid),
  );
  return pods.filter((p) => !p.metadata?.deletionTimestamp && !isBuildPod(p) && !superseded.has(controllerOf(p)?.uid));
}

const podReady = (p: V1Pod) => p.status?.phase === 'Succeeded' || p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/**
 * Whether the rollout behind the session is over: every Deployment of the inventory has a newest
 * ReplicaSet with all its replicas ready and no older one left with pods, and every current pod is
 * ready. What `kubectl rollout status` checks, from what the fail-fast reads anyway. Pure.
 */
export function rolloutSettled(session: DevSession, pods: readonly V1Pod[], replicaSets: readonly V1ReplicaSet[] | undefined): boolean {
  if (pods.some((p) => p.metadata?.deletionTimestamp)) return false;
  // Without ReplicaSets (no permission to list them) the pods alone decide.
  if (!replicaSets) return pods.filter((p) => !isBuildPod(p)).every(podReady);
  const ns = session.metadata.namespace ?? 'default';
  const newest = newestReplicaSets(replicaSets);
  for (const e of session.status?.inventory ?? []) {
    if (e.kind !== 'Deployment') continue;
    const mine = replicaSets.filter((rs) => controllerOf(rs)?.kind === 'Deployment' && controllerOf(rs)?.name === e.name && (rs.metadata?.namespace ?? ns) === (e.namespace || ns));
    const top = mine.find((rs) => newest.get(controllerOf(rs)!.uid) === rs);
    if (!top) return false;
    if ((top.status?.readyReplicas ?? 0) < (top.spec?.replicas ?? 1)) return false;
    if (mine.some((rs) => rs !== top && (rs.status?.replicas ?? 0) > 0)) return false;
  }
  return currentPods(pods, replicaSets).every(podReady);
}

/**
 * A pod counts as up only once it has been ready this long: a container that exits at once can be
 * reported ready for an instant (no probe), and its Deployment counted available, before it crashes.
 */
export const MIN_READY_MS = 2_000;

/** How long until every ready current pod has been ready for MIN_READY_MS (0: all have). Pure. */
export function freshlyReadyMs(pods: readonly V1Pod[], nowMs: number): number {
  let wait = 0;
  for (const p of pods) {
    if (p.status?.phase === 'Succeeded') continue;
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    const since = ready?.lastTransitionTime ? new Date(ready.lastTransitionTime).getTime() : NaN;
    if (Number.isFinite(since)) wait = Math.max(wait, MIN_READY_MS - (nowMs - since));
  }
  return Math.max(0, wait);
}

/** What the rollout waits for, in a few words: `pod api-7f9c: ContainerCreating`. Pure. */
export function waitingOn(pods: readonly V1Pod[]): string | undefined {
  for (const p of pods) {
    if (podReady(p)) continue;
    const st = p.status ?? {};
    const scheduled = st.conditions?.find((c) => c.type === 'PodScheduled');
    if (scheduled?.status === 'False') return `pod ${p.metadata?.name}: ${scheduled.reason ?? 'not scheduled'}`;
    const cs = [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])].find((c) => !c.ready && !(c.state?.terminated?.exitCode === 0));
    const state = cs?.state?.waiting?.reason ?? (cs?.state?.running ? 'running, not ready yet' : cs?.state?.terminated ? `exited ${cs.state.terminated.exitCode}` : (st.phase ?? 'Pending'));
    return `pod ${p.metadata?.name}${cs ? `/${cs.name}` : ''}: ${state}`;
  }
  return undefined;
}

/** First-seen times per problem; a problem blocks once it persisted its failFastAfterMs. */
export class FailFastTracker {
  private readonly since = new Map<string, number>();

  /** The problems that now block the rollout. Problems not seen this time are forgotten. */
  observe(problems: readonly Timed[], now: number): Problem[] {
    const seen = new Set<string>();
    const blocking: Problem[] = [];
    for (const p of problems) {
      if (p.failFastAfterMs === undefined) continue;
      const key = `${p.kind}|${showObject(p.object)}|${p.container ?? ''}`;
      seen.add(key);
      const first = this.since.get(key) ?? now;
      this.since.set(key, first);
      if (now - first >= p.failFastAfterMs) blocking.push(p);
    }
    for (const k of [...this.since.keys()]) if (!seen.has(k)) this.since.delete(k);
    return blocking;
  }
}

export interface RolloutInspection {
  /** Problems that will not go away by waiting, with details and log lines: the deploy stops. */
  blocking: Problem[];
  /** What is being waited for, for the progress line. */
  waitingOn?: string;
  /** The rollouts behind every session are complete (see rolloutSettled). */
  settled: boolean;
  /** Some current pod became ready less than MIN_READY_MS ago: this long until it counts. */
  freshMs?: number;
}

export interface RolloutInspectorOptions {
  now?: () => number;
  /** Log lines shown per failing container (default 20). */
  logLines?: number;
  /** Asks a registry the operator cannot reach over HTTPS whether it speaks plain HTTP (default: a real, bounded probe). */
  probe?: RegistryProbe;
}

/** Looks at the sessions' builds and current pods; remembers problems across calls (one per deploy). */
export class RolloutInspector {
  private readonly tracker = new FailFastTracker();
  private readonly now: () => number;
  private readonly probes = new Map<string, Promise<ProbeResult>>();

  constructor(
    private readonly kube: AnalyzeKube,
    private readonly opts: RolloutInspectorOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** `sessions` as last read: dependencies and root. */
  async inspect(sessions: readonly DevSession[]): Promise<RolloutInspection> {
    const nowMs = this.now();
    const found = await this.collect(sessions, new Date(nowMs));
    const blocking = this.tracker.observe(found.problems, nowMs);
    if (blocking.length === 0) return { blocking: [], ...(found.waiting ? { waitingOn: found.waiting } : {}), settled: found.settled, ...(found.freshMs ? { freshMs: found.freshMs } : {}) };
    return { blocking: await this.explain(blocking, found.pods, new Date(nowMs)), settled: false };
  }

  /**
   * Every error behind the sessions now, whatever its age, with events and log lines: what the deploy
   * prints when it stops for another reason (the session stalled, a build failed, the timeout).
   */
  async diagnose(sessions: readonly DevSession[]): Promise<Problem[]> {
    const now = new Date(this.now());
    const found = await this.collect(sessions, now, true);
    return this.explain(found.problems.filter((p) => p.severity === 'error'), found.pods, now);
  }

  private async collect(sessions: readonly DevSession[], now: Date, allStates = false): Promise<{ problems: Timed[]; pods: Map<string, V1Pod>; settled: boolean; waiting?: string; freshMs: number }> {
    const problems: Timed[] = [];
    const podsByProblem = new Map<string, V1Pod>();
    let settled = true;
    let freshMs = 0;
    let waiting: string | undefined;
    for (const s of sessions) {
      // The root's own stall is the wait's to report; a dependency's stall stops the root for good too.
      problems.push(...sessionProblems(s, now).filter((p: ResourceProblem) => allStates || p.kind === 'SessionFailed'));
      const selector = sessionSelector(s);
      for (const ns of sessionNamespaces(s)) {
        const [pods, rs, builds] = await Promise.all([
          this.kube.listPods(ns, selector),
          this.kube.listReplicaSets(ns, selector).catch(() => undefined),
          ns === (s.metadata.namespace ?? 'default') ? this.kube.listImageBuilds(ns, selector).catch(() => []) : Promise.resolve([]),
        ]);
        for (const ib of builds) problems.push(...imageBuildProblems(ib));
        const current = currentPods(pods, rs ?? []);
        for (const pod of current) {
          for (const p of podProblems(pod, [], { now })) {
            problems.push(p);
            podsByProblem.set(showObject(p.object), pod);
          }
        }
        if (!rolloutSettled(s, pods, rs)) settled = false;
        freshMs = Math.max(freshMs, freshlyReadyMs(current, now.getTime()));
        waiting ??= waitingOn(current);
      }
    }
    const explained = await explainRegistries(problems, this.opts.probe ?? httpRegistryProbe(), this.probes);
    return { problems: explained, pods: podsByProblem, settled, freshMs, ...(waiting ? { waiting } : {}) };
  }

  /** Blocking problems again with the pod's events (the registry's reason, the probe) and log lines. */
  private async explain(blocking: readonly Problem[], pods: ReadonlyMap<string, V1Pod>, now: Date): Promise<Problem[]> {
    const namespaces = [...new Set(blocking.filter((p) => p.object.kind === 'Pod').map((p) => p.object.namespace))];
    const events = (await Promise.all(namespaces.map((ns) => this.kube.listWarningEvents(ns).catch(() => [])))).flat();
    const enriched = blocking.map((p): Problem => {
      const pod = pods.get(showObject(p.object));
      if (!pod || !events.length) return p;
      const again = podProblems(pod, events, { now }).find((q: PodProblem) => q.kind === p.kind && q.container === p.container);
      return again ? { ...again, object: podRef(pod) } : p;
    });
    return withLogs(this.kube, sortProblems(enriched).map(strip), { lines: this.opts.logLines ?? 20 });
  }
}

function strip(p: Timed): Problem {
  const { failFastAfterMs: _f, ...rest } = p;
  return rest;
}
