// The DevSession's part of the one summarize step (runtime/reconcile-pass.ts computes Ready/Reconciling/
// Stalled, observedGeneration and message the same way for every kind): phase and the printer columns.
// Pure, so every combination is unit-tested.
import { Reason, SessionPhase, type DevSession, type DevSessionStatus } from '@dsa/api';
import { summarizeStatus, type Outcome } from '../../runtime/index.js';

export type Phase = (typeof SessionPhase)[keyof typeof SessionPhase];
export type { Outcome };

/** `user@host` for the printer column. */
export function ownerString(spec: DevSession['spec']): string | undefined {
  const o = spec.owner;
  if (!o) return undefined;
  return o.host ? `${o.user}@${o.host}` : o.user;
}

/** The session outcome "everything is deployed and ready". */
export const done = (message: string): Outcome => ({ kind: 'done', reason: Reason.Succeeded, message });

/**
 * The DevSession's own fields for `outcome` from the work status `st` (images, deployments, inventory, …,
 * filled by the steps; a step that waits sets st.phase). A transient error or suspension keeps the phase.
 */
export function sessionFields(session: DevSession, st: DevSessionStatus, outcome: Outcome): DevSessionStatus {
  const out: DevSessionStatus = { ...st };
  const owner = ownerString(session.spec);
  if (owner) out.owner = owner;
  else delete out.owner;
  const previous = session.status?.phase;
  switch (outcome.kind) {
    case 'done':
      out.phase = SessionPhase.Ready;
      break;
    case 'stall':
      out.phase = SessionPhase.Failed;
      break;
    case 'wait':
      out.phase = st.phase ?? SessionPhase.Pending;
      break;
    case 'retry':
    case 'suspended':
      if (st.phase ?? previous) out.phase = st.phase ?? previous;
      else delete out.phase;
      break;
  }
  return out;
}

/** The complete status for `outcome`: the session's fields plus the shared summary. */
export function summarize(session: DevSession, st: DevSessionStatus, outcome: Outcome, now: Date | number): DevSessionStatus {
  return summarizeStatus(sessionFields(session, st, outcome), session.status, outcome, session.metadata.generation, now);
}

/** status.pods belongs to the dev-pods controller (its own field manager): not ours to write or compare. */
export function withoutDevPods(s: DevSessionStatus | undefined): DevSessionStatus | undefined {
  if (!s || s.pods === undefined) return s;
  const { pods: _pods, ...rest } = s;
  return rest;
}

/** The main reconciler's comparison: statusEqual over the fields it owns. */
export function sessionStatusEqual(a: DevSessionStatus | undefined, b: DevSessionStatus): boolean {
  return statusEqual(withoutDevPods(a), withoutDevPods(b)!);
}

/** Status equality that ignores lastTransitionTime (unchanged conditions keep theirs anyway). */
export function statusEqual(a: DevSessionStatus | undefined, b: DevSessionStatus): boolean {
  const norm = (s: DevSessionStatus | undefined) => {
    if (!s) return '{}';
    // Fields the agent owns are not ours to compare.
    const { sync: _sync, agentHeartbeatTime: _hb, syncPaths: _paths, conditions, ...rest } = s;
    const c = (conditions ?? []).map(({ lastTransitionTime: _t, ...x }) => x).sort((x, y) => x.type.localeCompare(y.type));
    return JSON.stringify(sortKeys({ ...rest, conditions: c }));
  };
  return norm(a) === norm(b);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).filter(([, x]) => x !== undefined).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}
