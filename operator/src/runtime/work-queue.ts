// Level-triggered keyed work queue with controller-runtime / client-go semantics:
//  - a key is queued at most once, however often it is added (dedupe; reconcile reads the latest state anyway);
//  - a key being processed is never handed to a second worker; adds during processing mark it dirty and it is
//    re-queued when the worker calls done(key);
//  - delayed adds (addAfter) keep the earliest deadline per key;
//  - addRateLimited applies per-key exponential backoff, reset by forget(key).
import { realClock, type Clock, type TimerHandle } from './clock.js';

export interface BackoffOptions {
  /** First retry delay (default 5 ms, as client-go's per-item limiter). */
  baseDelayMs?: number;
  /** Cap on the delay (default 5 minutes). */
  maxDelayMs?: number;
}

/** Per-key exponential backoff: base * 2^failures, capped. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;

  constructor(opts: BackoffOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 5 * 60_000;
  }

  /** Delay for the next retry of `key`; counts one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // Exponent capped so the multiplication can never overflow to Infinity.
    const delay = this.baseDelayMs * 2 ** Math.min(n, 52);
    return Math.min(delay, this.maxDelayMs);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

/** Metrics / observability hooks; all optional, must not throw. */
export interface WorkQueueHooks {
  onAdd?(key: string): void;
  onDepth?(depth: number): void;
  onRetry?(key: string, delayMs: number): void;
  /** A handler passed to runWorkers threw; the key is re-added rate-limited. */
  onHandlerError?(key: string, error: unknown): void;
}

export interface WorkQueueOptions {
  clock?: Clock;
  backoff?: BackoffOptions | ExponentialBackoff;
  hooks?: WorkQueueHooks;
}

export type WorkHandler = (key: string) => Promise<void>;

export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: ExponentialBackoff;
  private readonly hooks: WorkQueueHooks;

  private queue: string[] = [];
  /** Keys that need processing (queued, or re-added while in flight). */
  private readonly dirty = new Set<string>();
  /** Keys handed to a worker and not yet done(). */
  private readonly processing = new Set<string>();
  /** Delayed adds: earliest deadline per key. */
  private readonly delayed = new Map<string, { at: number; handle: TimerHandle }>();
  private waiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.backoff = opts.backoff instanceof ExponentialBackoff ? opts.backoff : new ExponentialBackoff(opts.backoff);
    this.hooks = opts.hooks ?? {};
  }

  /** Queue `key` now (no-op if already queued; marks dirty if in flight; ignored after shutdown). */
  add(key: string): void {
    if (this.shuttingDown) return;
    this.hooks.onAdd?.(key);
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.depthChanged();
    this.wakeOne();
  }

  /** Queue `key` after `ms`. Several pending delays for one key collapse into the earliest. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing) {
      if (existing.at <= at) return;
      this.clock.clearTimeout(existing.handle);
    }
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Re-queue after the key's next backoff delay (retry after an error). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    const delay = this.backoff.when(key);
    this.hooks.onRetry?.(key, delay);
    this.addAfter(key, delay);
  }

  /** Reset the key's backoff (call after a successful reconcile). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** How many consecutive rate-limited retries `key` has had. */
  numRequeues(key: string): number {
    return this.backoff.retries(key);
  }

  /**
   * Next key to process, waiting until one is available. Resolves `undefined` once the queue is shut down.
   * The caller MUST call done(key) when finished.
   */
  async get(): Promise<string | undefined> {
    for (;;) {
      if (this.shuttingDown) return undefined;
      const key = this.queue.shift();
      if (key !== undefined) {
        this.processing.add(key);
        this.dirty.delete(key);
        this.depthChanged();
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Mark `key` finished; if it was re-added meanwhile it goes back into the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.queue.push(key);
      this.depthChanged();
      this.wakeOne();
    }
    if (this.processing.size === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      idle.forEach((r) => r());
    }
  }

  /** Keys waiting to be handed out (not counting delayed or in-flight keys). */
  len(): number {
    return this.queue.length;
  }

  inFlight(): number {
    return this.processing.size;
  }

  /** Keys with a pending delayed add. */
  delayedCount(): number {
    return this.delayed.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Run `n` workers that take keys and call `handler`; at most `n` keys run concurrently and never the same key
   * twice. A handler that throws gets its key re-added rate-limited. Resolves when all workers have exited
   * (after shutdown and their current key is done).
   */
  runWorkers(n: number, handler: WorkHandler): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
        } catch (e) {
          this.hooks.onHandlerError?.(key, e);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    return Promise.all(Array.from({ length: Math.max(1, n) }, () => worker())).then(() => undefined);
  }

  /**
   * Stop handing out keys: workers exit after their current key, queued and delayed keys are dropped (the next
   * start, or the next leader, relists everything anyway — reconcile is level-triggered).
   */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    this.queue = [];
    this.dirty.clear();
    this.depthChanged();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }

  /** shutdown(), then wait for in-flight keys to finish. Resolves true if drained before `timeoutMs`. */
  async shutdownWithDrain(timeoutMs: number): Promise<boolean> {
    this.shutdown();
    if (this.processing.size === 0) return true;
    let handle: TimerHandle | undefined;
    const drained = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timedOut = new Promise<boolean>((resolve) => {
      handle = this.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([drained, timedOut]);
    if (handle !== undefined) this.clock.clearTimeout(handle);
    return result;
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  private depthChanged(): void {
    this.hooks.onDepth?.(this.queue.length);
  }
}
