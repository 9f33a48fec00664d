// Controller: informers → keyed work queue → N workers → Reconciler, with controller-runtime result semantics.
//
//   success                      → forget(key) (reset backoff); requeueAfter > 0 → addAfter(key, requeueAfter)
//   TerminalError                → log, count, Warning event; no retry (reconciler has set Stalled)
//   409 Conflict                 → immediate requeue (stale read; the cache will catch up), rate-limited after
//                                  a few consecutive conflicts so a persistent conflict cannot spin
//   any other error              → addRateLimited(key) (per-key exponential backoff)
import type { KubernetesObject } from '@kubernetes/client-node';
import { realClock, type Clock } from './clock.js';
import { WorkQueue, type BackoffOptions } from './work-queue.js';
import { keyOf, parseKey, requestOf, type Request } from './keys.js';
import { ownerKeyMapper, type OwnerType } from './owner-refs.js';
import { isTerminalError } from './errors.js';
import { isConflict, apiErrorMessage } from './api-errors.js';
import type { SharedInformer } from './informer.js';
import type { EventRecorder } from './events.js';
import type { OperatorMetrics, ReconcileResult } from '../server/metrics.js';
import { silentLogger, type Logger } from '../log.js';

export type { Request } from './keys.js';

export interface Result {
  /** Reconcile again after this many ms (polling, e.g. a running build). */
  requeueAfter?: number;
}

export interface ReconcileContext<T extends KubernetesObject = KubernetesObject> {
  controller: string;
  /** Logger with controller/namespace/name fields. */
  log: Logger;
  /** Aborted when the controller is stopping and the drain timeout has passed; long waits should honour it. */
  signal: AbortSignal;
  /** Consecutive failed attempts for this key so far (0 on the first try). */
  retries: number;
  /** The primary object from the informer cache (may be stale or undefined if deleted). Re-read before writes. */
  cached: T | undefined;
}

export interface Reconciler<T extends KubernetesObject = KubernetesObject> {
  reconcile(req: Request, ctx: ReconcileContext<T>): Promise<Result | void>;
}

export type ReconcileFn<T extends KubernetesObject = KubernetesObject> = Reconciler<T>['reconcile'];

/** Secondary watch: events on `informer` map to zero or more primary requests. */
export interface WatchSource<O extends KubernetesObject = KubernetesObject> {
  informer: SharedInformer<O>;
  map: (obj: O) => Request[];
}

export interface ControllerOptions<T extends KubernetesObject> {
  /** Controller name: metrics label and log field, e.g. "devsession". */
  name: string;
  /** Primary resource informer (controller-runtime's For()). */
  for: SharedInformer<T>;
  /** apiVersion/kind of the primary resource; required for `owns`. */
  forType?: OwnerType;
  /** Children whose controller ownerReference points at a `forType` object (Owns()). */
  owns?: SharedInformer<any>[];
  /** Arbitrary secondary watches (Watches()). */
  watches?: WatchSource<any>[];
  reconciler: Reconciler<T> | ReconcileFn<T>;
  /** Parallel reconciles across different keys (default 1, as controller-runtime). */
  workers?: number;
  backoff?: BackoffOptions;
  /** Consecutive conflicts requeued immediately before falling back to backoff (default 5). */
  maxImmediateConflictRetries?: number;
  /** Filter for primary events (e.g. skip status-only updates). Default: everything. Resyncs always pass. */
  predicate?: (obj: T, old?: T) => boolean;
  metrics?: OperatorMetrics;
  events?: EventRecorder;
  logger?: Logger;
  clock?: Clock;
}

export class Controller<T extends KubernetesObject = KubernetesObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly opts: ControllerOptions<T>;
  private readonly reconcileFn: ReconcileFn<T>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly conflicts = new Map<string, number>();
  private readonly abort = new AbortController();
  private workersDone: Promise<void> | undefined;
  private state: 'new' | 'running' | 'stopped' = 'new';

  constructor(opts: ControllerOptions<T>) {
    if (opts.owns?.length && !opts.forType) throw new Error(`controller ${opts.name}: owns requires forType`);
    this.opts = opts;
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: opts.name });
    const r = opts.reconciler;
    this.reconcileFn = typeof r === 'function' ? r : r.reconcile.bind(r);
    const m = opts.metrics;
    const labels = { controller: opts.name };
    this.queue = new WorkQueue({
      clock: this.clock,
      backoff: opts.backoff,
      hooks: {
        onAdd: () => m?.workqueueAdds.inc(labels),
        onDepth: (d) => m?.workqueueDepth.set(labels, d),
        onRetry: () => m?.workqueueRetries.inc(labels),
      },
    });
    m?.workqueueDepth.set(labels, 0);
    // Handlers are registered now (not in start) so keys seen while this replica is a standby are already queued
    // when it becomes leader. Dedupe bounds the queue by the number of objects.
    const pred = opts.predicate ?? (() => true);
    const enqueueObj = (o: T) => this.queue.add(keyOf(requestOf(o)));
    this.unsubscribe.push(
      opts.for.addHandler({
        add: (o) => pred(o) && enqueueObj(o),
        update: (o, old) => pred(o, old) && enqueueObj(o),
        delete: (o) => enqueueObj(o),
        resync: (o) => enqueueObj(o),
      }),
    );
    const sources: WatchSource<any>[] = [
      ...(opts.owns ?? []).map((informer) => ({ informer, map: ownerKeyMapper(opts.forType!) })),
      ...(opts.watches ?? []),
    ];
    for (const s of sources) {
      const enqueueMapped = (o: KubernetesObject) => {
        for (const req of s.map(o)) this.queue.add(keyOf(req));
      };
      this.unsubscribe.push(
        s.informer.addHandler({ add: enqueueMapped, update: enqueueMapped, delete: enqueueMapped, resync: enqueueMapped }),
      );
    }
  }

  /** Informers this controller reads (the Manager starts and syncs them). */
  informers(): SharedInformer<any>[] {
    return [this.opts.for, ...(this.opts.owns ?? []), ...(this.opts.watches ?? []).map((w) => w.informer)];
  }

  /** Enqueue a request from outside (e.g. a timer or another controller). */
  enqueue(req: Request): void {
    this.queue.add(keyOf(req));
  }

  /** Start the workers. Everything already in the primary cache is enqueued. Single use: no restart after stop. */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    for (const key of this.opts.for.keys()) this.queue.add(key);
    this.workersDone = this.queue.runWorkers(this.opts.workers ?? 1, async (key) => {
      await this.processKey(key);
    });
    this.log.info({ workers: this.opts.workers ?? 1 }, 'controller started');
  }

  /**
   * Stop: no new keys are handed out, in-flight reconciles get `drainTimeoutMs` to finish, then their signal is
   * aborted. Resolves true when drained in time.
   */
  async stop(drainTimeoutMs = 30_000): Promise<boolean> {
    if (this.state === 'stopped') return true;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    this.unsubscribe.forEach((u) => u());
    const drained = await this.queue.shutdownWithDrain(drainTimeoutMs);
    if (!drained) {
      this.log.warn({ drainTimeoutMs, inFlight: this.queue.inFlight() }, 'reconciles still running at shutdown; aborting');
      this.abort.abort(new Error('controller stopped'));
    } else if (wasRunning) {
      await this.workersDone;
    }
    this.log.info({ drained }, 'controller stopped');
    return drained;
  }

  isRunning(): boolean {
    return this.state === 'running';
  }

  /** One reconcile of `key` with result handling. Public for tests; workers call it. */
  async processKey(key: string): Promise<ReconcileResult> {
    const req = parseKey(key);
    const log = this.log.child({ namespace: req.namespace || undefined, name: req.name });
    const started = this.clock.now();
    const ctx: ReconcileContext<T> = {
      controller: this.name,
      log,
      signal: this.abort.signal,
      retries: this.queue.numRequeues(key),
      cached: this.opts.for.get(req.namespace, req.name),
    };
    let result: ReconcileResult;
    try {
      const res = await this.reconcileFn(req, ctx);
      this.queue.forget(key);
      this.conflicts.delete(key);
      const after = res?.requeueAfter;
      if (after !== undefined && after > 0) {
        this.queue.addAfter(key, after);
        result = 'requeue';
      } else {
        result = 'success';
      }
      log.debug({ requeueAfter: after }, 'reconciled');
    } catch (e) {
      if (isTerminalError(e)) {
        result = 'terminal';
        this.queue.forget(key);
        this.conflicts.delete(key);
        log.error({ reason: e.reason, err: e.message }, 'reconcile failed terminally; not retrying');
        // A stall already in status before this pass was reported when it happened (no event per restart).
        if (ctx.cached && this.opts.events && !e.alreadyReported) {
          await this.opts.events.recordOnce(ctx.cached, 'TerminalError', { type: 'Warning', reason: e.reason, action: 'Reconcile', note: e.message });
        }
      } else if (isConflict(e)) {
        result = 'conflict';
        const n = (this.conflicts.get(key) ?? 0) + 1;
        this.conflicts.set(key, n);
        log.debug({ conflicts: n }, 'conflict; requeueing');
        if (n <= (this.opts.maxImmediateConflictRetries ?? 5)) this.queue.add(key);
        else this.queue.addRateLimited(key);
      } else {
        result = 'error';
        this.conflicts.delete(key);
        log.error({ err: e, message: apiErrorMessage(e), retries: ctx.retries }, 'reconcile failed; retrying with backoff');
        this.queue.addRateLimited(key);
      }
    } finally {
      const m = this.opts.metrics;
      m?.reconcileDuration.observe({ controller: this.name }, (this.clock.now() - started) / 1000);
    }
    const m = this.opts.metrics;
    m?.reconcileTotal.inc({ controller: this.name, result });
    if (result === 'error' || result === 'terminal') m?.reconcileErrors.inc({ controller: this.name });
    return result;
  }
}
