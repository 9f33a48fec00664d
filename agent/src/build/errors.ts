// A local build that failed or cannot start: one line for the user (the CLI maps it to exit 1),
// with the last lines of the builder's output kept apart so they can be printed under it.
import { RuntimeError } from '../errors.js';

export class LocalBuildError extends RuntimeError {
  constructor(
    message: string,
    /** Last lines of the builder's output (docker build/push, the custom command), oldest first. */
    readonly outputTail: readonly string[] = [],
    options?: { cause?: unknown; hint?: string },
  ) {
    super(message, options);
  }
}
