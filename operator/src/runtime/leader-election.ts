// Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection package:
//  - acquire/renew = read the Lease, then create it or replace it carrying the read resourceVersion
//    (optimistic concurrency: a 409 means another candidate won the race);
//  - another holder's lease counts as expired when it has not CHANGED for leaseDuration measured on OUR clock
//    since we first observed it (not by comparing its renewTime with our clock: that would trust clock skew);
//  - the leader renews every retryPeriod; if it cannot renew for renewDeadline it stops leading
//    (onStoppedLeading), and the process is expected to exit so it restarts cleanly;
//  - on graceful stop the leader releases the Lease (empty holder, leaseDurationSeconds 1) so a standby takes
//    over within one retryPeriod instead of a full leaseDuration.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { V1Lease } from '@kubernetes/client-node';
import { realClock, sleep, type Clock, type TimerHandle } from './clock.js';
import { isNotFound, isConflict, isAlreadyExists, apiErrorMessage } from './api-errors.js';
import { silentLogger, type Logger } from '../log.js';

/** The three Lease calls leader election needs; implemented by CoordinationV1Api and by in-memory fakes. */
export interface LeaseClient {
  /** The Lease, or undefined when it does not exist. */
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  /** Create; throws an AlreadyExists (409) error if it exists. */
  create(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Replace with lease.metadata.resourceVersion as precondition; throws Conflict (409) when stale. */
  replace(namespace: string, name: string, lease: V1Lease): Promise<V1Lease>;
}

export function leaseClientFromApi(api: k8s.CoordinationV1Api): LeaseClient {
  return {
    get: async (namespace, name) => {
      try {
        return await api.readNamespacedLease({ namespace, name });
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    create: (namespace, body) => api.createNamespacedLease({ namespace, body }),
    replace: (namespace, name, body) => api.replaceNamespacedLease({ namespace, name, body }),
  };
}

/** Pod name (HOSTNAME in a pod) plus randomness, so two processes on one host never share an identity. */
export function defaultIdentity(env: Record<string, string | undefined> = process.env): string {
  const base = env.POD_NAME || env.HOSTNAME || hostname();
  return `${base}_${randomBytes(4).toString('hex')}`;
}

export type StoppedReason = 'lost' | 'released' | 'stopped';

export interface LeaderElectionCallbacks {
  onStartedLeading?(): void;
  /** Called once when leadership ends: 'lost' (renew failed / taken over) or 'released'/'stopped' (our stop()). */
  onStoppedLeading?(reason: StoppedReason): void;
  /** Observed holder changed (including to ourselves). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectorOptions extends LeaderElectionCallbacks {
  namespace: string;
  name: string;
  client: LeaseClient;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Release the Lease on stop() (default true). */
  releaseOnStop?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Source of jitter in [0,1); injectable so tests are deterministic. Default Math.random. */
  random?: () => number;
}

const toSeconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly opts: LeaderElectorOptions;
  private readonly client: LeaseClient;
  private readonly clock: Clock;
  private readonly log: Logger;

  private leading = false;
  private stopping = false;
  private readonly stopSignal = new AbortController();
  private runPromise: Promise<void> | undefined;
  /** Last Lease we read or wrote, and when (our clock) it last changed. */
  private observed: V1Lease | undefined;
  private observedAt = 0;
  private lastRenewAt = 0;
  private observedHolder: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.clock = opts.clock ?? realClock;
    this.identity = opts.identity ?? defaultIdentity();
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election: need leaseDuration > renewDeadline > retryPeriod');
    }
    this.log = (opts.logger ?? silentLogger()).child({ component: 'leader-election', lease: `${opts.namespace}/${opts.name}`, identity: this.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Holder identity last observed in the Lease (may be another replica). */
  leader(): string | undefined {
    return this.observedHolder;
  }

  /**
   * Campaign until leader, then renew until leadership is lost or stop() is called. Resolves when it ends.
   * Calling run() twice returns the same promise.
   */
  run(): Promise<void> {
    this.runPromise ??= this.loop();
    return this.runPromise;
  }

  /** Stop campaigning/renewing; release the Lease if we hold it. Resolves when the run loop has ended. */
  async stop(): Promise<void> {
    if (this.stopping) return this.runPromise;
    this.stopping = true;
    this.stopSignal.abort();
    await this.runPromise;
  }

  private async loop(): Promise<void> {
    // Acquire.
    while (!this.stopping) {
      if (await this.tryAcquireOrRenew()) break;
      await sleep(this.clock, this.jittered(this.retryPeriodMs), this.stopSignal.signal);
    }
    if (this.stopping) return;
    this.leading = true;
    this.lastRenewAt = this.clock.now();
    this.log.info('became leader');
    this.safe(() => this.opts.onStartedLeading?.());

    // Renew.
    let reason: StoppedReason = 'lost';
    for (;;) {
      await sleep(this.clock, this.retryPeriodMs, this.stopSignal.signal);
      if (this.stopping) {
        reason = 'stopped';
        break;
      }
      const deadline = this.lastRenewAt + this.renewDeadlineMs;
      const outcome = await this.withDeadline(this.tryAcquireOrRenew(), deadline);
      if (outcome === true) {
        this.lastRenewAt = this.clock.now();
        continue;
      }
      if (this.stopping) {
        reason = 'stopped';
        break;
      }
      // Someone else holds a valid lease: we lost it for sure, no point waiting for the deadline.
      if (this.observedHolder && this.observedHolder !== this.identity) {
        this.log.warn({ holder: this.observedHolder }, 'lease taken over by another candidate');
        break;
      }
      if (this.clock.now() >= deadline) {
        this.log.error({ renewDeadlineMs: this.renewDeadlineMs }, 'failed to renew lease within the renew deadline');
        break;
      }
    }
    this.leading = false;
    if (reason === 'stopped' && (this.opts.releaseOnStop ?? true)) {
      if (await this.release()) reason = 'released';
    }
    this.log.info({ reason }, 'stopped leading');
    this.safe(() => this.opts.onStoppedLeading?.(reason));
  }

  /** Resolve `p`, or 'timeout' once the clock passes `deadline` (a hung API call must not outlive the deadline). */
  private withDeadline<R>(p: Promise<R>, deadline: number): Promise<R | 'timeout'> {
    const remaining = deadline - this.clock.now();
    if (remaining <= 0) return p.then((v) => v);
    let handle: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      handle = this.clock.setTimeout(() => resolve('timeout'), remaining);
    });
    return Promise.race([p, timeout]).finally(() => handle !== undefined && this.clock.clearTimeout(handle));
  }

  /** One attempt. True when we hold the Lease afterwards. Never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name } = this.opts;
    const now = this.clock.now();
    let current: V1Lease | undefined;
    try {
      current = await this.client.get(namespace, name);
    } catch (e) {
      this.log.warn({ err: apiErrorMessage(e) }, 'reading lease failed');
      return false;
    }
    if (!current) {
      try {
        const created = await this.client.create(namespace, this.desired(undefined, now));
        this.observe(created);
        return true;
      } catch (e) {
        if (!isAlreadyExists(e) && !isConflict(e)) this.log.warn({ err: apiErrorMessage(e) }, 'creating lease failed');
        return false;
      }
    }
    this.observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== this.identity;
    const durationMs = (spec.leaseDurationSeconds ?? toSeconds(this.leaseDurationMs)) * 1000;
    if (heldByOther && this.observedAt + durationMs > now) return false;

    try {
      const updated = await this.client.replace(namespace, name, this.desired(current, now));
      this.observe(updated);
      return true;
    } catch (e) {
      if (isConflict(e)) this.log.debug('lost lease update race (409)');
      else this.log.warn({ err: apiErrorMessage(e) }, 'updating lease failed');
      return false;
    }
  }

  /** Lease content with us as holder; keeps acquireTime/transitions when renewing our own lease. */
  private desired(current: V1Lease | undefined, now: number): V1Lease {
    const spec = current?.spec ?? {};
    const renewing = spec.holderIdentity === this.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(current?.metadata ?? {}),
        name: this.opts.name,
        namespace: this.opts.namespace,
        // Optimistic concurrency: the replace fails with 409 if anyone wrote since our read.
        resourceVersion: current?.metadata?.resourceVersion,
      },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: toSeconds(this.leaseDurationMs),
        acquireTime: renewing && spec.acquireTime ? new k8s.V1MicroTime(spec.acquireTime) : new k8s.V1MicroTime(now),
        renewTime: new k8s.V1MicroTime(now),
        leaseTransitions: renewing ? (spec.leaseTransitions ?? 0) : current ? (spec.leaseTransitions ?? 0) + 1 : 0,
      },
    };
  }

  private observe(lease: V1Lease): void {
    const prev = this.observed;
    const changed =
      !prev ||
      prev.metadata?.resourceVersion !== lease.metadata?.resourceVersion ||
      prev.spec?.holderIdentity !== lease.spec?.holderIdentity;
    this.observed = lease;
    if (changed) this.observedAt = this.clock.now();
    const holder = lease.spec?.holderIdentity || undefined;
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      if (holder) this.safe(() => this.opts.onNewLeader?.(holder));
    }
  }

  /** Give the Lease up so a standby acquires it on its next retry. Best effort. */
  private async release(): Promise<boolean> {
    const { namespace, name } = this.opts;
    try {
      const current = await this.client.get(namespace, name);
      if (!current || current.spec?.holderIdentity !== this.identity) return false;
      const now = new k8s.V1MicroTime(this.clock.now());
      await this.client.replace(namespace, name, {
        ...current,
        metadata: { ...current.metadata, resourceVersion: current.metadata?.resourceVersion },
        spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      });
      this.log.info('released lease');
      return true;
    } catch (e) {
      this.log.warn({ err: apiErrorMessage(e) }, 'releasing lease failed');
      return false;
    }
  }

  /** ±10% jitter on campaign retries so candidates started together do not stay in lockstep. */
  private jittered(ms: number): number {
    return ms * (0.9 + (this.opts.random ?? Math.random)() * 0.2);
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, 'leader election callback threw');
    }
  }
}
