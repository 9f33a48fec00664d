// The one summarize step (Flux's SummarizeAndPatch): the outcome of the sub-steps → conditions, phase,
// message and printer columns. Pure, so every combination is unit-tested.
import { ConditionType, Reason, SessionPhase, type DevSession, type DevSessionStatus } from '@dsa/api';
import { setCondition, type Condition } from '../../runtime/index.js';

export type Phase = (typeof SessionPhase)[keyof typeof SessionPhase];

/** How a reconcile ended. */
export type Outcome =
  | { kind: 'done'; message: string }
  /** Progressing normally, waiting on something (dependencies, builds, rollouts). */
  | { kind: 'wait'; reason: string; message: string; phase: Phase; requeueAfterMs?: number }
  /** Cannot progress as specified. retryAfterMs undefined = only a spec change helps. */
  | { kind: 'stall'; reason: string; message: string; retryAfterMs?: number }
  | { kind: 'suspended' };

/** `user@host` for the printer column. */
export function ownerString(spec: DevSession['spec']): string | undefined {
  const o = spec.owner;
  if (!o) return undefined;
  return o.host ? `${o.user}@${o.host}` : o.user;
}

/**
 * Final status from the work status `st` (images, deployments, inventory, …, already filled by the
 * steps) and the outcome. Conditions keep lastTransitionTime unless their status flips.
 */
export function summarize(session: DevSession, st: DevSessionStatus, outcome: Outcome, now: Date | number): DevSessionStatus {
  const gen = session.metadata.generation;
  let conditions = (session.status?.conditions ?? []) as Condition[];
  const set = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status, reason, message }, gen, now);
  };
  const out: DevSessionStatus = { ...st };
  if (gen !== undefined) out.observedGeneration = gen;
  const owner = ownerString(session.spec);
  if (owner) out.owner = owner;
  else delete out.owner;
  switch (outcome.kind) {
    case 'done':
      set(ConditionType.Ready, 'True', Reason.Succeeded, outcome.message);
      set(ConditionType.Reconciling, 'False', Reason.Succeeded, 'reconciliation finished');
      set(ConditionType.Stalled, 'False', Reason.Succeeded, 'not stalled');
      out.phase = SessionPhase.Ready;
      out.message = outcome.message;
      break;
    case 'wait':
      set(ConditionType.Ready, 'False', outcome.reason, outcome.message);
      set(ConditionType.Reconciling, 'True', outcome.reason, outcome.message);
      set(ConditionType.Stalled, 'False', outcome.reason, 'not stalled');
      out.phase = outcome.phase;
      out.message = outcome.message;
      break;
    case 'stall':
      set(ConditionType.Ready, 'False', outcome.reason, outcome.message);
      set(ConditionType.Reconciling, 'False', outcome.reason, 'stalled; waiting for a change of the spec');
      set(ConditionType.Stalled, 'True', outcome.reason, outcome.message);
      out.phase = SessionPhase.Failed;
      out.message = outcome.message;
      break;
    case 'suspended': {
      // Keep Ready as it was (what exists keeps running); say why nothing moves.
      const msg = 'reconciliation is suspended (spec.suspend)';
      set(ConditionType.Reconciling, 'False', 'Suspended', msg);
      out.message = msg;
      break;
    }
  }
  out.conditions = conditions;
  return out;
}

/** Status equality that ignores lastTransitionTime (unchanged conditions keep theirs anyway). */
export function statusEqual(a: DevSessionStatus | undefined, b: DevSessionStatus): boolean {
  const norm = (s: DevSessionStatus | undefined) => {
    if (!s) return '{}';
    // Fields the agent owns are not ours to compare.
    const { sync: _sync, agentHeartbeatTime: _hb, conditions, ...rest } = s;
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
