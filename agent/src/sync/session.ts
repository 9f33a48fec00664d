// The agent's sync engine for one dev pod: connects to the pod's sidecar through a transport (exec
// in production, a child process in tests), runs every sync path (initial sync, then live sync),
// serves reverse port forwards, asks for restarts after uploads, and reconnects after a dropped
// connection (at most 1 s between tries) with a fresh initial sync, which the persisted base makes
// cheap. A sync path that fails (its local folder is unusable, the pod does not serve it, a command
// with failOnError failed) fails alone: it reports the error and starts over after a pause that
// grows (1 s … 15 s) while the other paths keep syncing on the same connection. Independent of the
// CLI: it reports through typed events and never prints.
import { connect as netConnect } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { DevPortMapping } from '@dsa/api';
import {
  Connection,
  VersionMismatchError,
  isListenHost,
  parseRestartReply,
  pipeSocket,
  type Channel,
  type ConnectionOptions,
  type RestartReply,
} from '@dsa/api/sync';
import { BaseStore, baseFileName } from './base-store.js';
import type { Changed, PathRef, SyncEvent, SyncListener, SyncPathConfig } from './events.js';
import { PathSync } from './path-sync.js';

/** Opens a byte stream to `dsa-sidecar serve` in the dev pod (a fresh one per call). */
export type TransportFactory = (signal: AbortSignal) => Promise<Duplex>;

export interface SyncSessionOptions {
  connect: TransportFactory;
  paths: readonly SyncPathConfig[];
  reversePorts?: readonly DevPortMapping[];
  /** Folder for the bases (the project's `.dsa/sync`). */
  stateDir: string;
  /** Identifies the session in base file names (e.g. `<namespace>.<session>`). */
  sessionKey: string;
  /** dsa's version, for the handshake. */
  software?: string;
  /** Delays between reconnect attempts (the last one repeats). Default 100, 250, 500, 1000 ms. */
  retryDelaysMs?: readonly number[];
  /** Delays before a failed sync path starts over (the last one repeats). Default 1, 2, 4, 8, 15 s. */
  pathRetryDelaysMs?: readonly number[];
  connection?: Partial<Pick<ConnectionOptions, 'pingIntervalMs' | 'idleTimeoutMs' | 'handshakeTimeoutMs' | 'protocolVersion'>>;
  /** Restart requests are sent this long after the last upload batch (debounce). Default 200 ms. */
  restartDebounceMs?: number;
  /**
   * Runs after an upload batch changed the container, and once after an initial sync that changed it
   * (`initial`, with everything it changed there): the onUpload commands. Awaited before the restart
   * request, before the path's next batch and, for the initial sync, before the start signal. A
   * rejection (failOnError) ends the connection: the sync starts over.
   */
  afterUpload?: (path: PathRef, changed: Changed, initial: boolean) => Promise<void>;
  /** Touch the start file after the initial sync (DevSpace's startContainer). Default true. */
  signalStart?: boolean;
  /** Wait for more local changes before an upload batch (ms). Default 3. */
  settleMs?: number;
  now?: () => Date;
}

const DEFAULT_RETRY = [100, 250, 500, 1000];
const DEFAULT_PATH_RETRY = [1000, 2000, 4000, 8000, 15_000];

/** A path's local side: prepared (folder and watcher ready), or being prepared again and again after failures. */
interface Preparation {
  prepared: boolean;
  /** The last attempt failed (the path is in error until one succeeds). */
  failed: boolean;
  running?: Promise<void>;
  /** Resolved (and replaced) whenever prepared/failed change. */
  changed: Promise<void>;
  signal: () => void;
}

export class SyncSession {
  private readonly listeners = new Set<SyncListener>();
  private readonly paths: PathSync[];
  private readonly abort = new AbortController();
  private conn: Connection | undefined;
  private loop: Promise<void> | undefined;
  private initialResolve!: () => void;
  private initialReject!: (e: Error) => void;
  private initialPending: Set<PathSync>;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartPending = false;
  private readonly preparations = new Map<PathSync, Preparation>();
  /** Cuts the wait before the next connection attempt short (reconnect()). */
  private wakeRetry: (() => void) | undefined;
  /** Resolves once every path finished its first initial sync (`waitInitialSync`); rejects on a fatal error. */
  readonly initialSyncDone: Promise<void>;

  constructor(private readonly opts: SyncSessionOptions) {
    const now = opts.now ?? (() => new Date());
    this.paths = opts.paths.map(
      (cfg, i) =>
        new PathSync(i, cfg, {
          emit: (e) => this.emit(e),
          store: new BaseStore(path.join(opts.stateDir, baseFileName(opts.sessionKey, cfg.devPod, cfg.sync))),
          now,
          settleMs: opts.settleMs,
          onRemoteChanged: async (changed, initial) => {
            await this.opts.afterUpload?.({ devPod: cfg.devPod, sync: cfg.sync, localPath: cfg.localPath, containerPath: cfg.containerPath }, changed, initial);
            if (cfg.onUpload?.restartContainer) this.scheduleRestart(initial);
          },
        }),
    );
    this.initialPending = new Set(this.paths);
    for (const p of this.paths) this.preparations.set(p, newPreparation());
    this.initialSyncDone = new Promise<void>((resolve, reject) => {
      this.initialResolve = resolve;
      this.initialReject = reject;
    });
    this.initialSyncDone.catch(() => undefined);
    if (!this.paths.length) this.initialResolve();
  }

  on(listener: SyncListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: SyncEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's bug must not stop the sync */
      }
    }
  }

  /** Start syncing (returns at once; follow the events, or await initialSyncDone). */
  start(): void {
    if (this.loop) return;
    this.loop = this.run().catch((e: Error) => {
      this.emit({ type: 'error', message: e.message, fatal: true });
      this.initialReject(e);
    });
  }

  /** Stop: close the connection and the watchers. The bases stay on disk for the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.conn?.close('the agent stopped');
    await this.loop?.catch(() => undefined);
    await Promise.all([...this.preparations.values()].map((s) => s.running?.catch(() => undefined)));
    await Promise.all(this.paths.map((p) => p.close()));
    this.initialReject(new Error('sync stopped'));
  }

  /**
   * Start sync path `sync` over (a command with failOnError failed after a download): that path
   * fails with `reason` and runs its initial sync again after a pause; the others go on.
   */
  restartPath(sync: number, reason: string): void {
    this.paths.find((p) => p.cfg.sync === sync)?.abort(new Error(reason));
  }

  /**
   * Drop the current connection (if any) and connect again at once: the dev pod moved to another pod
   * (the transport picks its target on each connect), or a failing command asks for a fresh start.
   * The new connection runs the initial sync again, which the bases make cheap.
   */
  reconnect(reason: string): void {
    const conn = this.conn;
    if (conn && !conn.isClosed) conn.close(reason);
    this.wakeRetry?.();
  }

  /** Per path state, for status. */
  status(): Array<{ path: PathRef; state: PathSync['state']; pendingLocal: number }> {
    return this.paths.map((p) => ({ path: p.ref, state: p.state, pendingLocal: p.pendingLocal }));
  }

  /** Ask the supervisor in the pod to restart the app's process now. */
  async restart(): Promise<RestartReply> {
    const conn = this.conn;
    if (!conn || conn.isClosed) return { ok: false, error: 'not connected to the dev sidecar' };
    const ch = conn.open({ kind: 'restart' });
    await ch.end();
    const reply = parseRestartReply(await ch.readMsg());
    await drain(ch);
    return reply;
  }

  private async run(): Promise<void> {
    // Local folders and watchers first (each path on its own: a broken one retries alone).
    for (const p of this.paths) this.ensurePrepared(p);
    await Promise.all([...this.preparations.values()].map((s) => waitChange(s, () => s.prepared || s.failed)));
    const delays = this.opts.retryDelaysMs ?? DEFAULT_RETRY;
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      let reason: string;
      try {
        const stream = await this.opts.connect(this.abort.signal);
        const conn = await Connection.establish(stream, {
          role: 'agent',
          software: this.opts.software ?? 'dsa',
          ...this.opts.connection,
          onChannel: (ch) => this.onChannel(ch),
        });
        this.conn = conn;
        attempt = 0;
        this.emit({ type: 'connected', peer: conn.peer.software });
        reason = await this.serve(conn);
      } catch (e) {
        if (e instanceof VersionMismatchError) throw e; // retrying cannot help
        reason = (e as Error).message;
      }
      this.conn = undefined;
      if (this.abort.signal.aborted) break;
      const wait = delays[Math.min(attempt, delays.length - 1)] ?? 1000;
      attempt++;
      for (const p of this.paths) if (p.state !== 'error') p.state = 'connecting';
      this.emit({ type: 'disconnected', reason, retryInMs: wait });
      const retry = new AbortController();
      this.wakeRetry = () => retry.abort();
      await sleep(wait, AbortSignal.any([this.abort.signal, retry.signal]));
      this.wakeRetry = undefined;
    }
  }

  /** Everything over one connection; resolves with why it ended. */
  private async serve(conn: Connection): Promise<string> {
    for (const port of this.opts.reversePorts ?? []) void this.listen(conn, port);
    // The start signal (startContainer) goes once every path finished its initial sync on this
    // connection, or failed: a broken path must not keep the app from ever starting.
    let remaining = this.paths.length;
    const runs = this.paths.map(async (p) => {
      let counted = false;
      const settle = () => {
        if (counted) return;
        counted = true;
        if (--remaining === 0 && this.opts.signalStart !== false) void this.signalStart(conn);
      };
      await this.runPath(p, conn, settle);
    });
    const reason = await conn.closed;
    await Promise.all(runs);
    return reason.message;
  }

  /** One path on one connection: its runs, and after a failure a pause and another run. */
  private async runPath(p: PathSync, conn: Connection, settle: () => void): Promise<void> {
    const prep = this.preparations.get(p)!;
    let attempt = 0;
    while (!conn.isClosed && !this.abort.signal.aborted) {
      if (!prep.prepared) {
        this.ensurePrepared(p);
        if (prep.failed) settle();
        await Promise.race([prep.changed, conn.closed]);
        continue;
      }
      let initialDone = false;
      try {
        await p.run(conn, () => {
          initialDone = true;
          if (this.initialPending.delete(p) && this.initialPending.size === 0) this.initialResolve();
          settle();
        });
        return; // the connection ended, or noWatch finished
      } catch (e) {
        if (conn.isClosed || this.abort.signal.aborted) return;
        this.pathFailed(p, e as Error);
        settle();
        if (p.needsPrepare) {
          // The local folder went: prepare it again (the preparation retries with its own pauses).
          prep.prepared = false;
          await p.unprepare();
          this.ensurePrepared(p);
          continue;
        }
        if (initialDone) attempt = 0;
        const wait = this.pathDelay(attempt++);
        await Promise.race([sleep(wait, this.abort.signal), conn.closed]);
      }
    }
  }

  private pathDelay(attempt: number): number {
    const delays = this.opts.pathRetryDelaysMs ?? DEFAULT_PATH_RETRY;
    return delays[Math.min(attempt, delays.length - 1)] ?? 1000;
  }

  /** A path failed: it says why, and no longer holds waitInitialSync back. */
  private pathFailed(p: PathSync, e: Error): void {
    p.state = 'error';
    this.emit({ type: 'state', path: p.ref, state: 'error', message: e.message });
    this.emit({ type: 'error', path: p.ref, message: e.message, fatal: false });
    if (this.initialPending.delete(p) && this.initialPending.size === 0) this.initialResolve();
  }

  /** Prepares a path's local side, again and again with growing pauses while it fails. */
  private ensurePrepared(p: PathSync): void {
    const prep = this.preparations.get(p)!;
    if (prep.prepared || prep.running || this.abort.signal.aborted) return;
    prep.running = (async () => {
      for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
        try {
          await p.prepare();
          prep.prepared = true;
          prep.failed = false;
          changed(prep);
          return;
        } catch (e) {
          prep.failed = true;
          this.pathFailed(p, e as Error);
          changed(prep);
          await sleep(this.pathDelay(attempt), this.abort.signal);
        }
      }
    })().finally(() => {
      prep.running = undefined;
      changed(prep);
    });
  }

  private async signalStart(conn: Connection): Promise<void> {
    try {
      const ch = conn.open({ kind: 'start' });
      await ch.end();
      const reply = (await ch.readMsg()) as { ok?: unknown; error?: unknown } | null;
      await drain(ch);
      if (reply?.ok !== true) this.emit({ type: 'warning', message: `the sidecar could not signal the start: ${String(reply?.error ?? 'no answer')}` });
    } catch {
      /* the connection went; the next one signals again */
    }
  }

  /** After uploads (or an initial sync that changed the container), restart the app, debounced. */
  private scheduleRestart(_initial: boolean): void {
    this.restartPending = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.restartPending) return;
      this.restartPending = false;
      void this.restart().then(
        (r) => this.emit({ type: 'restart', ok: r.ok, message: r.ok ? `restart requested (#${r.counter ?? '?'})` : (r.error ?? 'restart failed') }),
        (e: Error) => this.emit({ type: 'restart', ok: false, message: e.message }),
      );
    }, this.opts.restartDebounceMs ?? 200);
  }

  // --- reverse port forwarding ---

  private async listen(conn: Connection, port: DevPortMapping): Promise<void> {
    // bindAddress is where the pod listens; the sidecar takes an IP address (or localhost) only.
    let host = port.bindAddress;
    if (host && !isListenHost(host)) {
      this.emit({ type: 'warning', message: `reverse port ${port.remotePort}: bindAddress ${JSON.stringify(host)} is not an IP address; listening on the pod's loopback` });
      host = undefined;
    }
    try {
      const ch = conn.open({ kind: 'listen', port: port.remotePort, ...(host ? { host } : {}) });
      const reply = (await ch.readMsg()) as { ok?: unknown; error?: unknown; addresses?: unknown; warning?: unknown } | null;
      if (reply?.ok === true) {
        const where = Array.isArray(reply.addresses) ? reply.addresses.map(String).join(', ') : `port ${port.remotePort}`;
        this.emit({ type: 'tunnel', port, ok: true, message: `reverse forwarding ${where} in the pod → localhost:${port.localPort}` });
        if (typeof reply.warning === 'string') this.emit({ type: 'warning', message: reply.warning });
        await drain(ch); // open until the connection ends
      } else {
        this.emit({ type: 'tunnel', port, ok: false, message: String(reply?.error ?? 'the sidecar refused to listen') });
      }
    } catch {
      /* connection gone */
    }
  }

  private async onChannel(ch: Channel): Promise<void> {
    if (ch.params.kind !== 'tunnel') throw new Error(`the agent does not serve ${ch.params.kind} channels`);
    const remotePort = ch.params.port;
    const mapping = (this.opts.reversePorts ?? []).find((m) => m.remotePort === remotePort);
    if (!mapping) throw new Error(`no reverse forward for port ${remotePort}`);
    // DevSpace dials localhost on the developer's machine too; bindAddress is the pod side's.
    const host = 'localhost';
    const socket = netConnect({ host, port: mapping.localPort });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', (e: Error) => reject(new Error(`cannot connect to ${host}:${mapping.localPort} on this machine: ${e.message}`)));
    }).catch((e: Error) => {
      this.emit({ type: 'warning', message: `reverse forward of port ${remotePort}: ${e.message}` });
      socket.destroy();
      throw e;
    });
    await pipeSocket(socket, ch);
  }
}

function newPreparation(): Preparation {
  const prep = { prepared: false, failed: false } as Preparation;
  prep.changed = new Promise((r) => (prep.signal = r));
  return prep;
}

function changed(prep: Preparation): void {
  const signal = prep.signal;
  prep.changed = new Promise((r) => (prep.signal = r));
  signal();
}

async function waitChange(prep: Preparation, done: () => boolean): Promise<void> {
  while (!done() && prep.running) await prep.changed;
}

async function drain(ch: Channel): Promise<void> {
  for (;;) if ((await ch.read()) === null) return;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
