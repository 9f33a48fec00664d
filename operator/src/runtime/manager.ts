// Manager: owns the process lifecycle of the operator.
//
//   start(): ops server → start informers → wait for sync → leader election → (while leading) controllers
//   exit:    SIGTERM/SIGINT or stop()  → controllers drain (timeout) → informers stop → Lease released → server down
//            leadership lost           → same teardown, exit code 1 (so the pod restarts clean, as client-go does)
//
// The runtime never calls process.exit: start() resolves with { reason, exitCode } and main decides.
import type { Controller } from './controller.js';
import type { SharedInformer } from './informer.js';
import { LeaderElector, type LeaderElectorOptions, type StoppedReason } from './leader-election.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { createMetrics, type OperatorMetrics } from '../server/metrics.js';
import { OpsServer, type ReadinessReport } from '../server/http.js';
import { silentLogger, type Logger } from '../log.js';

export type ExitReason = 'signal' | 'stopped' | 'leadership-lost' | 'sync-timeout' | 'error';

export interface ManagerExit {
  reason: ExitReason;
  /** 0 for a requested stop, 1 otherwise. */
  exitCode: number;
  signal?: string;
  error?: unknown;
}

export interface ManagerOptions {
  logger?: Logger;
  metrics?: OperatorMetrics;
  clock?: Clock;
  /** Lease-based leader election; `false` means this replica always leads (single replica, local dev, tests). */
  leaderElection: false | Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'clock' | 'logger'>;
  /** Ops HTTP server; `false` disables it. */
  http?: false | { port?: number; host?: string };
  /** /readyz is OK for a synced standby (not leading). Default true: standbys are healthy replicas. */
  standbyReady?: boolean;
  /** Give up (exit 'sync-timeout') if informers have not synced by then. Default 2 minutes. */
  syncTimeoutMs?: number;
  /** Time in-flight reconciles get on shutdown. Default 30 s. */
  drainTimeoutMs?: number;
}

export class Manager {
  readonly metrics: OperatorMetrics;
  private readonly opts: ManagerOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly controllers: Controller<any>[] = [];
  private readonly extraInformers: SharedInformer<any>[] = [];
  private readonly stopHooks: Array<() => Promise<void> | void> = [];
  private elector: LeaderElector | undefined;
  private server: OpsServer | undefined;
  private boundPort: number | undefined;
  private started = false;
  private controllersStarted = false;
  private stopping: Promise<ManagerExit> | undefined;
  private resolveExit!: (exit: ManagerExit) => void;
  private readonly exit: Promise<ManagerExit>;
  private readonly stopSignal = new AbortController();

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.log = opts.logger ?? silentLogger();
    this.clock = opts.clock ?? realClock;
    this.metrics = opts.metrics ?? createMetrics();
    this.exit = new Promise((resolve) => (this.resolveExit = resolve));
  }

  add(controller: Controller<any>): this {
    if (this.started) throw new Error('manager: add controllers before start()');
    this.controllers.push(controller);
    return this;
  }

  /** An informer not owned by a controller (e.g. a cache read by reconcilers) that should gate readiness. */
  addInformer(informer: SharedInformer<any>): this {
    if (this.started) throw new Error('manager: add informers before start()');
    this.extraInformers.push(informer);
    return this;
  }

  /** Run `fn` at shutdown, after the controllers drained and the informers stopped (e.g. stop a shared cache). */
  onStop(fn: () => Promise<void> | void): this {
    this.stopHooks.push(fn);
    return this;
  }

  /** All distinct informers (controllers may share one). */
  informers(): SharedInformer<any>[] {
    return [...new Set([...this.controllers.flatMap((c) => c.informers()), ...this.extraInformers])];
  }

  isLeader(): boolean {
    return this.opts.leaderElection === false ? this.controllersStarted : (this.elector?.isLeader() ?? false);
  }

  /** Port the ops server is bound to (after start). */
  port(): number | undefined {
    return this.boundPort;
  }

  readiness(): ReadinessReport {
    const reasons: string[] = [];
    const informers = this.informers();
    for (const inf of informers) if (!inf.hasSynced()) reasons.push(`informer ${inf.name} not synced`);
    const leader = this.isLeader();
    if (!leader && !(this.opts.standbyReady ?? true)) reasons.push('not leader');
    if (this.stopping) reasons.push('shutting down');
    return {
      ready: reasons.length === 0,
      reasons,
      details: {
        leader,
        leaderIdentity: this.elector?.leader(),
        informers: Object.fromEntries(informers.map((i) => [i.name, i.status()])),
      },
    };
  }

  /** Run until stopped. Resolves with why it ended; main turns that into the process exit code. */
  async start(): Promise<ManagerExit> {
    if (this.started) return this.exit;
    this.started = true;
    try {
      await this.startInner();
    } catch (e) {
      this.log.error({ err: e }, 'manager failed to start');
      void this.stop('error', { error: e });
    }
    return this.exit;
  }

  private async startInner(): Promise<void> {
    if (this.opts.http !== false) {
      this.server = new OpsServer({
        port: this.opts.http?.port,
        host: this.opts.http?.host,
        registry: this.metrics.registry,
        readiness: () => this.readiness(),
        logger: this.log,
      });
      this.boundPort = await this.server.start();
    }
    const informers = this.informers();
    for (const inf of informers) {
      inf.onRestart = (n) => this.metrics.informerRestarts.set({ informer: inf.name }, n);
      inf.start();
    }
    const synced = await this.waitForSync(informers, this.opts.syncTimeoutMs ?? 120_000);
    if (this.stopping) return;
    if (!synced) {
      const pending = informers.filter((i) => !i.hasSynced()).map((i) => i.name);
      this.log.error({ pending }, 'informers did not sync in time');
      void this.stop('sync-timeout');
      return;
    }
    this.log.info({ informers: informers.length }, 'caches synced');

    const le = this.opts.leaderElection;
    if (le === false) {
      this.startControllers();
      return;
    }
    this.metrics.leader.set(0);
    this.elector = new LeaderElector({
      ...le,
      clock: this.clock,
      logger: this.log,
      onStartedLeading: () => {
        this.metrics.leader.set(1);
        this.startControllers();
      },
      onStoppedLeading: (reason: StoppedReason) => {
        this.metrics.leader.set(0);
        // Our own stop() releases the Lease deliberately; anything else means another replica may now lead,
        // so stop reconciling at once and exit non-zero.
        if (reason === 'lost') void this.stop('leadership-lost');
      },
    });
    void this.elector.run();
  }

  private waitForSync(informers: SharedInformer<any>[], timeoutMs: number): Promise<boolean> {
    let handle: TimerHandle | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      handle = this.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    const stopped = new Promise<boolean>((resolve) => this.stopSignal.signal.addEventListener('abort', () => resolve(false), { once: true }));
    const all = Promise.all(informers.map((i) => i.waitForSync())).then(() => true);
    return Promise.race([all, timeout, stopped]).finally(() => handle !== undefined && this.clock.clearTimeout(handle));
  }

  private startControllers(): void {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    for (const c of this.controllers) c.start();
    this.log.info({ controllers: this.controllers.map((c) => c.name) }, 'controllers started');
  }

  /**
   * Graceful shutdown (idempotent): controllers drain, informers stop, the Lease is released (only after the
   * drain, so no two replicas reconcile at once), the ops server closes. Resolves with the exit info.
   */
  stop(reason: ExitReason = 'stopped', extra: { signal?: string; error?: unknown } = {}): Promise<ManagerExit> {
    this.stopping ??= this.teardown(reason, extra);
    return this.stopping;
  }

  private async teardown(reason: ExitReason, extra: { signal?: string; error?: unknown }): Promise<ManagerExit> {
    this.log.info({ reason, signal: extra.signal }, 'manager stopping');
    this.stopSignal.abort();
    const drainTimeoutMs = this.opts.drainTimeoutMs ?? 30_000;
    const drained = await Promise.all(this.controllers.map((c) => c.stop(drainTimeoutMs)));
    await Promise.all(this.informers().map((i) => i.stop()));
    for (const hook of this.stopHooks) {
      try {
        await hook();
      } catch (e) {
        this.log.warn({ err: e }, 'stop hook failed');
      }
    }
    await this.elector?.stop();
    this.metrics.leader.set(0);
    await this.server?.stop();
    const exit: ManagerExit = {
      reason,
      exitCode: reason === 'signal' || reason === 'stopped' ? 0 : 1,
      ...(extra.signal ? { signal: extra.signal } : {}),
      ...(extra.error !== undefined ? { error: extra.error } : {}),
    };
    this.log.info({ ...exit, error: undefined, drained: drained.every(Boolean) }, 'manager stopped');
    this.resolveExit(exit);
    return exit;
  }

  /**
   * SIGTERM/SIGINT → graceful stop. Returns a function that removes the handlers. A second signal is logged and
   * ignored here; main may choose to exit hard on it.
   */
  handleSignals(proc: Pick<NodeJS.Process, 'once' | 'off'> = process): () => void {
    const onSignal = (signal: NodeJS.Signals) => {
      void this.stop('signal', { signal });
    };
    proc.once('SIGTERM', onSignal);
    proc.once('SIGINT', onSignal);
    return () => {
      proc.off('SIGTERM', onSignal);
      proc.off('SIGINT', onSignal);
    };
  }
}
