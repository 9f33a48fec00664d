// Error types that change how a reconcile pass ends (see reconcile-pass.ts for the one place that maps them to
// status and to the controller's retry behaviour).

/**
 * A failure that retrying cannot fix (invalid spec, build definitively failed, ...). The controller logs it,
 * counts it and records a Warning event, but does NOT requeue; the reconciler is expected to have set
 * `Stalled=True` (with the same reason) before throwing. A new generation of the object re-triggers reconcile.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** CamelCase machine-readable reason, also used as the Event reason. */
  readonly reason: string;
  /**
   * The stall was already in status before this pass (nothing changed): the controller skips the Warning
   * event, so an operator restart over stalled objects records nothing.
   */
  readonly alreadyReported: boolean;

  constructor(reason: string, message: string, options?: { cause?: unknown; alreadyReported?: boolean }) {
    super(message, options);
    this.reason = reason;
    this.alreadyReported = options?.alreadyReported ?? false;
  }
}

export function isTerminalError(e: unknown): e is TerminalError {
  return e instanceof TerminalError || (e instanceof Error && e.name === 'TerminalError' && typeof (e as TerminalError).reason === 'string');
}

/**
 * A write lost an optimistic-concurrency race that our own code detected (e.g. a JSON-patch `test` op failed).
 * Carries code 409 so `isConflict` treats it like an apiserver Conflict: the controller requeues immediately.
 */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  readonly code = 409;
}

/**
 * The spec cannot be satisfied as written (missing chart, bad manifest, rejected object, dependency cycle):
 * Stalled=True with `reason`. Retried on the next spec change, or after `retryAfterMs` when the world may fix
 * itself (a git server coming back, a CRD being installed).
 */
export class StallError extends Error {
  override readonly name = 'StallError';
  constructor(
    readonly reason: string,
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

/**
 * A step failed in a way worth retrying with backoff, and knows how to say so: `reason` becomes the
 * Reconciling=True reason and `message` the status message (e.g. "cannot check whether … exists, the registry
 * is unreachable: …; retrying"). The controller retries `cause` (the original error).
 */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRetryableError(e: unknown): e is RetryableError {
  return e instanceof RetryableError;
}
