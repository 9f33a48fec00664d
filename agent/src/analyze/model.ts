// What `dsa analyze` finds, and what `dsa deploy`/`up` print when they stop waiting early. One shape
// for both: the checks (pods.ts, events.ts, resources.ts) are pure functions from listed objects to
// Problems; collect.ts adds the containers' last log lines; report.ts prints them.

/** The object a problem is about, as kubectl names it. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

/**
 * error: something is broken and will stay broken without a change (it makes `dsa analyze` exit
 * non-zero). warning: worth knowing (a rollout in progress, an earlier restart), not a failure.
 */
export type Severity = 'error' | 'warning';

export type ProblemKind =
  /** A container exits and is restarted over and over (CrashLoopBackOff, or terminated non-zero with restarts). */
  | 'CrashLoop'
  /** A container was killed for exceeding its memory limit. */
  | 'OOMKilled'
  /** An init container fails, so the app containers never start. */
  | 'InitFailed'
  /** The node cannot pull an image (ErrImagePull, ImagePullBackOff, InvalidImageName). */
  | 'ImagePull'
  /** The container cannot be created: a missing ConfigMap/Secret, a bad command (CreateContainerConfigError, …). */
  | 'ContainerConfig'
  /** The scheduler finds no node for the pod. */
  | 'Unschedulable'
  /** The container runs but its readiness probe fails. */
  | 'NotReady'
  /** The pod ended in phase Failed (evicted, a failed job pod, a container that exited with restartPolicy Never). */
  | 'PodFailed'
  /** A container restarted earlier and runs now. */
  | 'Restarted'
  /** A Warning event about an object no other check covers (quota, volumes, jobs, …). */
  | 'WarningEvent'
  /** A DevSession the operator stalled on (Stalled=True / phase Failed). */
  | 'SessionFailed'
  /** A DevSession whose reconciliation is retried after errors, or that no operator reconciles. */
  | 'SessionRetrying'
  /** A DevSession that is still building or deploying. */
  | 'SessionProgressing'
  /** An ImageBuild that failed. */
  | 'BuildFailed'
  /** An ImageBuild whose step (registry, git, build pod) fails and is retried. */
  | 'BuildRetrying';

export interface Problem {
  kind: ProblemKind;
  severity: Severity;
  object: ObjectRef;
  /** The container it is about, for pod problems. */
  container?: string;
  /** The image (its key under devspace.yaml `images:`), for build problems. */
  image?: string;
  /** One line: what is wrong. */
  summary: string;
  /** Supporting facts, one line each: the registry's reason, the failing probe, the scheduler's message, recent events. */
  details: string[];
  /** The last termination's exit code (crash loops, OOM kills, failed pods). */
  exitCode?: number;
  restarts?: number;
  /**
   * Which run of the container the log lines come from: the one that just ended (`previous`, a
   * container that was restarted) or the current one. Set by the checks; collect.ts fetches them.
   */
  logsFrom?: 'current' | 'previous';
  /** The container's last log lines (filled by collect.ts). */
  logs?: string[];
  /** What to do about it. */
  hint: string;
}

/** `dsa analyze -o json|yaml`: the stable envelope (docs/cli.md). */
export interface AnalyzeReport {
  apiVersion: 'dsa.dev/v1alpha1';
  kind: 'AnalyzeReport';
  namespace: string;
  /** The DevSessions looked at (the project's, or every one in the namespace). */
  sessions: string[];
  generatedAt: string;
  /** No problem of severity error. */
  healthy: boolean;
  counts: { errors: number; warnings: number; pods: number };
  problems: Problem[];
}

/** `Kind namespace/name`. */
export const showObject = (o: ObjectRef): string => `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

export const sameObject = (a: ObjectRef, b: ObjectRef): boolean => a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;

/** Errors first, then by object, keeping each object's problems in check order. Pure. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const rank = (p: Problem) => (p.severity === 'error' ? 0 : 1);
  const kindRank = (k: string) => ['DevSession', 'ImageBuild', 'Pod'].indexOf(k) + 1 || 9;
  return problems
    .map((p, i) => ({ p, i }))
    .sort((x, y) => rank(x.p) - rank(y.p) || kindRank(x.p.object.kind) - kindRank(y.p.object.kind) || showObject(x.p.object).localeCompare(showObject(y.p.object)) || x.i - y.i)
    .map((x) => x.p);
}
