// Kubernetes events: when each happened, which object it is about, and which Warning events are
// problems in their own right (not evidence for a pod problem the pod checks report). Pure.
import type { CoreV1Event } from '@kubernetes/client-node';
import { showObject, type ObjectRef, type Problem } from './model.js';

/** Events older than this are history, not a current problem (DevSpace's analyze uses 30 minutes). */
export const EVENT_WINDOW_MS = 30 * 60_000;

/**
 * Warnings that say nothing about the user's workload. MissingClusterDNS: a kubelet without cluster DNS
 * (small dev clusters) warns about every pod it starts; the pod runs fine.
 */
const BENIGN_REASONS = new Set(['MissingClusterDNS', 'DNSConfigForming']);

/**
 * Warning reasons that mean something failed (as opposed to "was slow" or "retried"): an object
 * carrying one of these within EVENT_WINDOW_MS is an error.
 */
const FAILURE_REASONS = new Set([
  'FailedCreate',
  'FailedMount',
  'FailedAttachVolume',
  'ProvisioningFailed',
  'FailedBinding',
  'BackoffLimitExceeded',
  'DeadlineExceeded',
  'FailedScheduling',
  'FailedCreatePodSandBox',
  'FailedPostStartHook',
  'FailedPreStopHook',
  'Evicted',
]);

/** When the event last happened (the fields the various event writers fill). */
export function eventTime(e: CoreV1Event): Date | undefined {
  const t = e.lastTimestamp ?? e.series?.lastObservedTime ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  if (t === undefined || t === null) return undefined;
  const d = new Date(t as unknown as string);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function eventObject(e: CoreV1Event): ObjectRef {
  const o = e.involvedObject ?? {};
  return { kind: o.kind ?? '?', namespace: o.namespace ?? e.metadata?.namespace ?? '', name: o.name ?? '?' };
}

/** How often it happened (events are deduplicated with a count, or a series). */
export function eventCount(e: CoreV1Event): number {
  return e.series?.count ?? e.count ?? 1;
}

/** Events about `ref`, newest first. */
export function eventsAbout(events: readonly CoreV1Event[], ref: ObjectRef): CoreV1Event[] {
  return events
    .filter((e) => {
      const o = eventObject(e);
      return o.kind === ref.kind && o.name === ref.name && (o.namespace === ref.namespace || !o.namespace);
    })
    .sort((a, b) => (eventTime(b)?.getTime() ?? 0) - (eventTime(a)?.getTime() ?? 0));
}

/** `3m`, `45s`, `2h`: how long ago, for event lines. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86_400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** `Warning BackOff (12s ago, 4×): Back-off restarting failed container app` — one line. */
export function eventLine(e: CoreV1Event, now: Date): string {
  const t = eventTime(e);
  const n = eventCount(e);
  const when = t ? `${age(now.getTime() - t.getTime())} ago` : 'time unknown';
  return `${e.type ?? 'Normal'} ${e.reason ?? ''} (${when}${n > 1 ? `, ${n}×` : ''}): ${oneLine(e.message ?? '')}`;
}

export const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

/** Recent Warning events, without the benign ones. */
export function recentWarnings(events: readonly CoreV1Event[], now: Date, windowMs = EVENT_WINDOW_MS): CoreV1Event[] {
  return events.filter((e) => {
    if (e.type !== 'Warning' || BENIGN_REASONS.has(e.reason ?? '')) return false;
    const t = eventTime(e);
    return t !== undefined && now.getTime() - t.getTime() <= windowMs;
  });
}

export interface EventCheckOptions {
  now: Date;
  windowMs?: number;
  /**
   * Kinds whose state is judged from the objects themselves (Pods by their status, DevSessions and
   * ImageBuilds by their conditions): their events are evidence, not separate problems.
   */
  judgedKinds?: ReadonlySet<string>;
}

const DEFAULT_JUDGED = new Set(['Pod', 'DevSession', 'ImageBuild']);

/**
 * Warning events about objects no other check judges (ReplicaSets that cannot create pods, claims
 * that cannot be provisioned, jobs over their backoff limit): one problem per object and reason, the
 * latest occurrence.
 */
export function eventProblems(events: readonly CoreV1Event[], opts: EventCheckOptions): Problem[] {
  const judged = opts.judgedKinds ?? DEFAULT_JUDGED;
  const latest = new Map<string, CoreV1Event>();
  for (const e of recentWarnings(events, opts.now, opts.windowMs)) {
    const o = eventObject(e);
    if (judged.has(o.kind)) continue;
    const key = `${showObject(o)}\u0000${e.reason ?? ''}`;
    const prev = latest.get(key);
    if (!prev || (eventTime(e)?.getTime() ?? 0) > (eventTime(prev)?.getTime() ?? 0)) latest.set(key, e);
  }
  return [...latest.values()].map((e) => {
    const reason = e.reason ?? 'Warning';
    const failure = FAILURE_REASONS.has(reason);
    return {
      kind: 'WarningEvent',
      severity: failure ? 'error' : 'warning',
      object: eventObject(e),
      summary: `${reason}: ${oneLine(e.message ?? '')}`,
      details: [eventLine(e, opts.now)],
      hint: eventHint(reason, e.message ?? ''),
    } satisfies Problem;
  });
}

function eventHint(reason: string, message: string): string {
  if (reason === 'FailedCreate' && /exceeded quota/i.test(message)) return 'a ResourceQuota of the namespace is full: lower the requests/limits, delete unused objects, or raise the quota';
  if (reason === 'FailedCreate' && /violates PodSecurity|forbidden/i.test(message)) return 'the namespace\'s admission rules (pod security, policies) refuse the pods: change the pod spec (securityContext) or the namespace\'s policy';
  if (reason === 'FailedCreate') return 'the controller cannot create its pods: the message says why (quota, admission, a missing service account)';
  if (reason === 'ProvisioningFailed' || reason === 'FailedBinding') return 'the PersistentVolumeClaim cannot get a volume: check its storageClassName and that the cluster has a provisioner for it';
  if (reason === 'FailedMount' || reason === 'FailedAttachVolume') return 'a volume cannot be mounted: check that the ConfigMap/Secret/claim it names exists';
  if (reason === 'BackoffLimitExceeded' || reason === 'DeadlineExceeded') return 'the Job gave up: see its pods\' logs for why they failed';
  return 'kubectl describe on the object shows the context of this event';
}
