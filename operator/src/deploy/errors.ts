// Failures a deployment step can end in, and what the reconciler does with them:
//  - StallError: the spec cannot be satisfied as written (missing chart, bad manifest, rejected object).
//    Stalled=True with `reason`; retried on the next spec change, or after `retryAfterMs` when the world
//    may fix itself (a git server coming back, a CRD being installed) — never sooner than a minute.
//  - anything else: transient (apiserver hiccup, network) → the controller's rate-limited backoff.
import type { ReasonName } from '@dsa/api';

export const SLOW_RETRY_MS = 60_000;

export class StallError extends Error {
  override readonly name = 'StallError';
  constructor(
    readonly reason: ReasonName,
    message: string,
    /** Retry after this long even without a spec change; undefined = only on spec change. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStallError(e: unknown): e is StallError {
  return e instanceof StallError;
}
