// metav1.Condition helpers. Pure functions returning new arrays, so reconcilers can build the desired status
// and compare it with the current one before writing.

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  /** CamelCase, e.g. "Ready", "Reconciling", "Stalled". */
  type: string;
  status: ConditionStatus;
  /** Generation of the object this condition was computed from. */
  observedGeneration?: number;
  /** RFC 3339, seconds precision (metav1.Time). Changes only when `status` changes. */
  lastTransitionTime: string;
  /** CamelCase, non-empty. */
  reason: string;
  message: string;
}

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

/** metav1.Time wire format: RFC 3339 with seconds precision. */
export function formatTime(d: Date | number): string {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Set (add or update) condition `input.type`. `lastTransitionTime` moves to `now` only when the status changes (or
 * the condition is new); reason/message/observedGeneration are always updated. Order of other conditions is kept.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: Date | number,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const existing = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    observedGeneration: generation,
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : formatTime(now),
    reason: input.reason,
    message: input.message ?? '',
  };
  if (generation === undefined) delete next.observedGeneration;
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return getCondition(conditions, type)?.status === 'True';
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/**
 * True when the condition is True AND was computed for `generation`, i.e. it describes the current spec
 * (kstatus-style "is it ready for what I asked?").
 */
export function isConditionTrueFor(conditions: readonly Condition[] | undefined, type: string, generation: number | undefined): boolean {
  const c = getCondition(conditions, type);
  return c?.status === 'True' && (generation === undefined || c.observedGeneration === generation);
}

/** Equal ignoring lastTransitionTime — lets a reconciler skip a status write that would change nothing. */
export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const strip = (l: readonly Condition[] | undefined) =>
    JSON.stringify((l ?? []).map(({ lastTransitionTime: _t, ...rest }) => rest).sort((x, y) => x.type.localeCompare(y.type)));
  return strip(a) === strip(b);
}
