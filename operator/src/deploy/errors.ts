// Failures a deployment step can end in, and what the reconciler does with them:
//  - StallError (runtime/errors.ts): the spec cannot be satisfied as written (missing chart, bad manifest,
//    rejected object). Stalled=True with `reason`; retried on the next spec change, or after `retryAfterMs`
//    when the world may fix itself (a git server coming back, a CRD being installed) — never sooner than a
//    minute.
//  - anything else: transient (apiserver hiccup, network) → status says so, then the controller's
//    rate-limited backoff.
export { StallError, isStallError } from '../runtime/errors.js';

export const SLOW_RETRY_MS = 60_000;
