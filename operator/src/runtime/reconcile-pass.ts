// One reconcile shape for every kind (Flux's reconcile + deferred SummarizeAndPatch):
//
//   reconcilePass({ steps, status, patch, … })
//     steps()        ordered sub-steps; return an Outcome, or throw
//     ── deferred, always runs, also after a throw ──
//     summarize      Outcome → Ready / Reconciling / Stalled (the same table for every kind), observedGeneration,
//                    message; the kind adds its own fields (phase, images, …) through status()
//     patch          /status with SSA, only when something changed (our own write would otherwise wake us again)
//     result         done/wait → requeueAfter; stall → TerminalError (or a slow requeue); retry → the original
//                    error is rethrown for the controller's backoff — after it reached status
//
// Every error reaches status: a StallError/TerminalError as Stalled=True, a RetryableError with its own
// reason, anything else as Reconciling=True ProgressingWithRetry with the error's one-line message. The only
// exception is a 409 conflict (a stale read the controller retries at once): writing it would flap the
// status for a few milliseconds, so it is rethrown untouched.
import { apiErrorMessage, isConflict } from './api-errors.js';
import { setCondition, type Condition } from './conditions.js';
import { StallError, TerminalError, isRetryableError, isTerminalError } from './errors.js';
import type { Result } from './controller.js';
import type { Logger } from '../log.js';

/** How a reconcile pass ended. */
export type Outcome =
  /** Converged: everything asked for exists and is ready. */
  | { kind: 'done'; reason: string; message: string; requeueAfterMs?: number }
  /** Progressing normally, waiting on something (dependencies, builds, rollouts). */
  | { kind: 'wait'; reason: string; message: string; requeueAfterMs?: number }
  /**
   * Cannot progress as specified. retryAfterMs: try again after that long (the world may fix it); without it
   * only a spec change helps (terminal) — unless requeueAfterMs asks for a later pass for housekeeping (e.g.
   * garbage-collecting a failed build pod), which keeps the stall but is not an error.
   */
  | { kind: 'stall'; reason: string; message: string; retryAfterMs?: number; requeueAfterMs?: number }
  /** A step failed transiently; `error` is rethrown for backoff once the status says so. */
  | { kind: 'retry'; reason: string; message: string; error: unknown }
  /** spec.suspend: nothing moves, Ready keeps what it was. */
  | { kind: 'suspended'; message: string };

export const RETRY_REASON = 'ProgressingWithRetry';
export const SUSPENDED_REASON = 'Suspended';
/** Status messages are for people; an error text (or a pasted manifest in it) must not bloat the object. */
export const MAX_MESSAGE_LENGTH = 2048;

const ConditionType = { Ready: 'Ready', Reconciling: 'Reconciling', Stalled: 'Stalled' } as const;

export function truncateMessage(s: string, max = MAX_MESSAGE_LENGTH): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * The outcome a thrown error stands for, or undefined for a conflict (retried at once, not reported).
 * A TerminalError or StallError stalls; everything else is retried.
 */
export function outcomeFromError(e: unknown): Outcome | undefined {
  if (isConflict(e)) return undefined;
  if (e instanceof StallError) return { kind: 'stall', reason: e.reason, message: e.message, ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) };
  if (isTerminalError(e)) return { kind: 'stall', reason: e.reason, message: e.message };
  if (isRetryableError(e)) return { kind: 'retry', reason: e.reason, message: e.message, error: e.cause ?? e };
  return { kind: 'retry', reason: RETRY_REASON, message: `${apiErrorMessage(e)}; retrying`, error: e };
}

/**
 * Ready / Reconciling / Stalled for `outcome`, identical for every kind. All three are always present (False
 * when they do not apply), each with observedGeneration; lastTransitionTime moves only when a status flips.
 */
export function summarizeConditions(conditions: readonly ConditionLike[] | undefined, outcome: Outcome, generation: number | undefined, now: Date | number): Condition[] {
  let c = (conditions ?? []).map((x) => ({ ...x, message: x.message ?? '' }));
  const set = (type: string, status: 'True' | 'False', reason: string, message: string) => {
    c = setCondition(c, { type, status, reason, message: truncateMessage(message) }, generation, now);
  };
  switch (outcome.kind) {
    case 'done':
      set(ConditionType.Ready, 'True', outcome.reason, outcome.message);
      set(ConditionType.Reconciling, 'False', outcome.reason, 'reconciliation finished');
      set(ConditionType.Stalled, 'False', outcome.reason, 'not stalled');
      break;
    case 'wait':
    case 'retry':
      set(ConditionType.Ready, 'False', outcome.reason, outcome.message);
      set(ConditionType.Reconciling, 'True', outcome.reason, outcome.message);
      set(ConditionType.Stalled, 'False', outcome.reason, 'not stalled');
      break;
    case 'stall':
      set(ConditionType.Ready, 'False', outcome.reason, outcome.message);
      set(
        ConditionType.Reconciling,
        'False',
        outcome.reason,
        outcome.retryAfterMs === undefined ? 'stalled; waiting for a change of the spec' : `stalled; retrying in ${Math.round(outcome.retryAfterMs / 1000)}s or after a change of the spec`,
      );
      set(ConditionType.Stalled, 'True', outcome.reason, outcome.message);
      break;
    case 'suspended':
      // What exists keeps running: Ready stays as it was; say why nothing moves.
      set(ConditionType.Reconciling, 'False', SUSPENDED_REASON, outcome.message);
      break;
  }
  return c;
}

/** A condition as API types declare it (message optional). */
export type ConditionLike = Omit<Condition, 'message'> & { message?: string };

/** The status fields every kind shares and summarize owns. */
export interface SummaryFields {
  observedGeneration?: number;
  message?: string;
  conditions?: ConditionLike[];
}

/** `work` (the kind's fields) completed with conditions, observedGeneration and message for `outcome`. */
export function summarizeStatus<S extends SummaryFields>(work: S, current: SummaryFields | undefined, outcome: Outcome, generation: number | undefined, now: Date | number): S {
  const out: S = { ...work };
  if (generation !== undefined) out.observedGeneration = generation;
  else delete out.observedGeneration;
  out.message = truncateMessage(outcome.message);
  out.conditions = summarizeConditions(current?.conditions, outcome, generation, now);
  return out;
}

/** What the controller does after the pass: a Result, or throw (TerminalError / the original error). */
export function resultOf(outcome: Outcome, reported: boolean): Result | undefined {
  switch (outcome.kind) {
    case 'done':
    case 'wait':
      return outcome.requeueAfterMs ? { requeueAfter: outcome.requeueAfterMs } : undefined;
    case 'stall':
      if (outcome.retryAfterMs !== undefined) return { requeueAfter: outcome.retryAfterMs };
      if (outcome.requeueAfterMs !== undefined) return outcome.requeueAfterMs > 0 ? { requeueAfter: outcome.requeueAfterMs } : undefined;
      throw new TerminalError(outcome.reason, outcome.message, { alreadyReported: reported });
    case 'retry':
      throw outcome.error;
    case 'suspended':
      return undefined;
  }
}

export interface ReconcilePassOptions<S extends SummaryFields> {
  generation: number | undefined;
  /** The ordered steps. May throw; see outcomeFromError. */
  steps: () => Promise<Outcome>;
  /** The status as known before this pass (read from the cache, or our own last write). */
  current: () => S | undefined;
  /** The kind's own status fields for the pass's outcome (called once, after the steps, also after a throw). */
  status: (outcome: Outcome) => S;
  /** Equal ignoring what summarize does not own (transition times, fields of other managers). */
  equal: (current: S | undefined, next: S) => boolean;
  /** Write `next` through /status (server-side apply of the complete status). */
  patch: (next: S) => Promise<void>;
  now: () => number;
  log: Logger;
  /**
   * After the status was written (or found unchanged): events on transitions, and work that must only happen
   * once the status records it (e.g. deleting a finished build pod). Errors here are retried like step errors.
   */
  afterPatch?: (outcome: Outcome, written: boolean, status: S) => Promise<void>;
}

/**
 * Run the steps, then summarize and patch — whatever happened — and turn the outcome into the controller's
 * result. The deferred part never swallows an error: when the status write itself fails, a transient error of
 * the steps is rethrown (it is the one to retry), otherwise the write error is (so the status is retried).
 */
export async function reconcilePass<S extends SummaryFields>(o: ReconcilePassOptions<S>): Promise<Result | void> {
  let outcome: Outcome;
  try {
    outcome = await o.steps();
  } catch (e) {
    const fromError = outcomeFromError(e);
    if (!fromError) throw e;
    outcome = fromError;
  }
  const current = o.current();
  const next = summarizeStatus(o.status(outcome), current, outcome, o.generation, o.now());
  let written = false;
  if (!o.equal(current, next)) {
    try {
      await o.patch(next);
      written = true;
    } catch (we) {
      if (outcome.kind === 'retry') {
        o.log.warn({ err: apiErrorMessage(we) }, 'could not write the retry status');
        throw outcome.error;
      }
      throw we;
    }
  }
  await o.afterPatch?.(outcome, written, next);
  if (outcome.kind === 'retry') o.log.debug({ reason: outcome.reason, err: outcome.message }, 'step failed; retrying with backoff');
  return resultOf(outcome, !written);
}
