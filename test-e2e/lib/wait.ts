// Polling helper shared by the e2e suites: one place for timeouts and their error messages.

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Poll `fn` until it returns a truthy value, which is returned. Errors thrown by `fn` count as "not yet" (the API
 * may be briefly unavailable) but the last one is reported on timeout, with `what`, so a failing test says what
 * it was waiting for and why it never happened.
 */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      lastValue = v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastError !== undefined ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : `last value: ${JSON.stringify(lastValue)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${detail})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Run every cleanup step even when an earlier one fails (the cluster may be gone), then throw the first error.
 * For afterAll hooks: a half-done cleanup must not leave servers or namespaces behind.
 */
export async function cleanupAll(steps: Array<() => Promise<unknown> | unknown>): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length) throw errors[0];
}
