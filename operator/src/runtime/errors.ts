// Error types that change how the controller treats a failed reconcile.

/**
 * A failure that retrying cannot fix (invalid spec, build definitively failed, ...). The controller logs it,
 * counts it and records a Warning event, but does NOT requeue; the reconciler is expected to have set
 * `Stalled=True` (with the same reason) before throwing. A new generation of the object re-triggers reconcile.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** CamelCase machine-readable reason, also used as the Event reason. */
  readonly reason: string;

  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
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
