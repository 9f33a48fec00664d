// The sync service of `dsa up` (docs/sync.md): one SyncSession per dev pod that has sync paths or
// reverse ports, connected through `pods/exec` to the dsa-sync sidecar of the pod the DevSession
// publishes for it (status.pods), following it to a new pod after a rollout, a crash or an eviction.
// It turns the engine's events into what people see on stderr (initial progress, one line per
// batch, conflicts, errors), into the agent status (the SYNC column and status.syncPaths), and into
// the commands after sync (onUpload/onDownload exec, printLogs). It holds logs and terminal back
// until the initial sync of every waitInitialSync path is done (DevSpace's waitInitialSync).
//
// A pod without the sidecar (an operator without --sidecar-image, or an older one) is said once and
// leaves the rest of `dsa up` running; so does a sidecar that speaks another protocol version.
import * as fs from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { DevPortMapping, DevSession, SyncExec } from '@dsa/api';
import { SIDECAR_CONTAINER } from '@dsa/api/sync';
import type { AgentEnv } from '../env.js';
import { targetFromStatus, type PodTarget } from '../devloop/pods.js';
import type { DevService, DevServiceContext, DevServiceDefinition } from '../devloop/service.js';
import type { Changed, PathRef, SyncEvent, SyncPathConfig } from './events.js';
import { execTransport } from './exec-transport.js';
import { SyncSession, type SyncSessionOptions } from './session.js';
import { OnceMarks, commandLabel, commandLine, commandRunner, planCommandRuns, MAX_RUNS_PER_BATCH, type CommandResult, type CommandRunner } from './sync-commands.js';
import { batchLine, initialDoneLine, newPathView, pathLabel, progressLine, syncColumn, syncPathStatus, type PathView } from './sync-report.js';

export interface SyncServiceOptions {
  /** `dsa up --quiet`: no per-batch lines, progress or per-file logs; warnings and errors stay. */
  quiet?: boolean;
  /** A transport to the sidecar instead of the Kubernetes exec (tests: a `dsa-sidecar serve` child). */
  connect?: (target: PodTarget, signal: AbortSignal) => Promise<Duplex>;
  /** Where commands run (tests record container runs). Default: child processes and the exec API. */
  commands?: CommandRunner;
  /** Engine tuning (tests). */
  engine?: Pick<SyncSessionOptions, 'retryDelaysMs' | 'pathRetryDelaysMs' | 'connection' | 'restartDebounceMs' | 'settleMs'>;
  /** Least time between two progress lines when stderr is not a terminal. Default 1000 ms. */
  progressEveryMs?: number;
  /** A command after sync is stopped after this long (DevSpace: 10 min). */
  commandTimeoutMs?: number;
  /** dsa's version, for the handshake. */
  software?: string;
}

/** What the service runs for one dev pod, from the DevSession. */
export interface DevPodSyncSpec {
  devPod: string;
  /** localPath absolute (resolved against the project folder). */
  paths: SyncPathConfig[];
  /** The DevSession's localPath of each path, as people wrote it. */
  shown: string[];
  reversePorts: DevPortMapping[];
}

/** The dev pods to sync: those with sync paths or reverse ports. Pure. */
export function syncSpecs(session: DevSession, projectDir: string): DevPodSyncSpec[] {
  return (session.spec.dev?.pods ?? [])
    .filter((p) => (p.sync ?? []).length > 0 || (p.reversePorts ?? []).length > 0)
    .map((p) => ({
      devPod: p.name,
      paths: (p.sync ?? []).map((s, i) => ({ ...s, devPod: p.name, sync: i, localPath: path.resolve(projectDir, s.localPath) })),
      shown: (p.sync ?? []).map((s) => s.localPath),
      reversePorts: (p.reversePorts ?? []).map((r) => ({ localPort: r.localPort, remotePort: r.remotePort, ...(r.bindAddress ? { bindAddress: r.bindAddress } : {}) })),
    }));
}

/** Whether a pod has the sidecar the agent execs into (a native sidecar is an init container). */
export function hasSyncSidecar(pod: V1Pod): boolean {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c) => c.name === SIDECAR_CONTAINER);
}

export function noSidecarMessage(pod: string, devPod: string): string {
  return (
    `pod ${pod} (dev pod ${devPod}) has no ${SIDECAR_CONTAINER} sidecar, so its files are not synced: the dsa operator adds it only ` +
    'when it runs with --sidecar-image (env DSA_SIDECAR_IMAGE, Helm value sidecar.image); set it or update the operator, then run dsa up again. ' +
    'Ports, logs and the terminal keep running.'
  );
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 10 * 60_000;
/** Download batches waiting for their onDownload commands, per path, before they are merged. */
const MAX_QUEUED_BATCHES = 16;

export function syncService(opts: SyncServiceOptions = {}): DevServiceDefinition {
  return {
    name: 'sync',
    // DevSpace's waitInitialSync: logs and the terminal start once the initial sync is done.
    before: ['logs', 'terminal'],
    create(ctx, session) {
      const specs = syncSpecs(session, ctx.projectDir);
      if (specs.length === 0) return undefined;
      return new SyncRun(ctx, specs, opts);
    },
  };
}

/** Lines on stderr: an updating progress line on a terminal, at most one per interval otherwise. */
class Output {
  private open = false;
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly env: AgentEnv,
    readonly quiet: boolean,
    private readonly everyMs: number,
  ) {}

  private clear(): void {
    if (!this.open) return;
    this.env.stderr.write('\r\x1b[K');
    this.open = false;
  }

  info(line: string): void {
    this.clear();
    this.env.log.info(line);
  }

  /** Per batch and per file: silenced by --quiet. */
  detail(line: string): void {
    if (this.quiet) this.env.log.debug(line);
    else this.info(line);
  }

  warn(line: string): void {
    this.clear();
    this.env.log.warn(line);
  }

  error(line: string): void {
    this.clear();
    this.env.log.error(line);
  }

  progress(key: string, line: string): void {
    if (this.quiet) return;
    if (this.env.isTTY.stderr) {
      this.env.stderr.write(`\r\x1b[K${line}`);
      this.open = true;
      return;
    }
    const now = Date.now();
    if (now - (this.lastAt.get(key) ?? Number.NEGATIVE_INFINITY) < this.everyMs) return;
    this.lastAt.set(key, now);
    this.env.log.info(line);
  }

  end(): void {
    this.clear();
  }
}

class SyncRun implements DevService {
  readonly out: Output;
  readonly commands: CommandRunner;
  readonly stateDir: string;
  readonly sessionKey: string;
  private readonly pods = new Map<string, DevPodSync>();
  private stopped = false;
  private publishTimer: NodeJS.Timeout | undefined;
  private readyResolve!: () => void;
  private readonly readyP: Promise<void>;

  constructor(
    readonly ctx: DevServiceContext,
    private specs: DevPodSyncSpec[],
    readonly opts: SyncServiceOptions,
  ) {
    this.out = new Output(ctx.env, opts.quiet === true, opts.progressEveryMs ?? 1000);
    this.commands = opts.commands ?? commandRunner(() => ctx.clients.exec());
    this.stateDir = path.join(ctx.projectDir, '.dsa', 'sync');
    this.sessionKey = `${ctx.ref.namespace}.${ctx.ref.name}`;
    this.readyP = new Promise((resolve) => (this.readyResolve = resolve));
  }

  /** Several sync paths: lines name theirs. */
  get several(): boolean {
    return [...this.pods.values()].reduce((n, p) => n + p.views.length, 0) > 1;
  }

  async start(): Promise<void> {
    for (const spec of this.specs) this.startPod(spec);
    this.changed();
  }

  private startPod(spec: DevPodSyncSpec): void {
    const pod = new DevPodSync(this, spec);
    this.pods.set(spec.devPod, pod);
    pod.start();
  }

  ready(): Promise<void> {
    this.checkReady();
    return this.readyP;
  }

  async update(session: DevSession): Promise<void> {
    if (this.stopped) return;
    // The spec changed (a redeploy with other sync paths): those dev pods start over.
    const next = syncSpecs(session, this.ctx.projectDir);
    const key = (s: DevPodSyncSpec) => JSON.stringify(s);
    const wanted = new Map(next.map((s) => [s.devPod, s]));
    for (const [name, pod] of [...this.pods]) {
      const spec = wanted.get(name);
      if (spec && key(spec) === key(pod.spec)) continue;
      this.pods.delete(name);
      await pod.stop();
      if (spec) this.out.info(`sync: the sync settings of dev pod ${name} changed; starting it again`);
    }
    for (const spec of next) if (!this.pods.has(spec.devPod)) this.startPod(spec);
    this.specs = next;
    for (const pod of this.pods.values()) pod.follow(session);
    this.changed();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.pods.values()].map((p) => p.stop()));
    this.out.end();
    clearTimeout(this.publishTimer);
    this.publish();
    this.readyResolve();
  }

  /** Something a status or readiness depends on changed. */
  changed(): void {
    this.checkReady();
    if (this.publishTimer) return;
    // Events come in bursts; the status is rebuilt once per burst (the heartbeat throttles writes).
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      this.publish();
    }, 20);
  }

  private publish(): void {
    const views = [...this.pods.values()].flatMap((p) => p.views);
    const sync = syncColumn(views);
    this.ctx.setStatus(sync === undefined ? { syncPaths: [] } : { sync, syncPaths: views.map(syncPathStatus) });
  }

  private checkReady(): void {
    const waiting = [...this.pods.values()].some((p) => p.views.some((v, i) => p.spec.paths[i]?.waitInitialSync !== false && !v.settled));
    if (!waiting) this.readyResolve();
  }
}

/** One dev pod: its engine, the pod it follows, its paths' views, its commands. */
class DevPodSync {
  readonly views: PathView[];
  private readonly engine: SyncSession;
  private readonly once: OnceMarks;
  private readonly abort = new AbortController();
  /** The pod of the current connection, and of the one being made. */
  private connectedPod: string | undefined;
  private connectingPod: string | undefined;
  private everConnected = false;
  private lostSaid = false;
  private lastFailure = '';
  private moving: string | undefined;
  private noSidecarPod: string | undefined;
  private sidecarSaid = false;
  private fatal = false;
  private wake: (() => void) | undefined;
  private readonly lastError = new Map<number, string>();
  /** Paths (by sync index) that failed and have not synced since. */
  private readonly failedPaths = new Set<number>();
  private readonly downloads = new Map<number, { queue: Array<{ changed: Changed; initial: boolean }>; running: boolean }>();

  constructor(
    private readonly run: SyncRun,
    readonly spec: DevPodSyncSpec,
  ) {
    this.views = spec.paths.map((p, i) => newPathView(spec.devPod, p.sync, spec.shown[i] ?? p.localPath, p.containerPath));
    const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 100);
    this.once = new OnceMarks(path.join(run.stateDir, `${clean(run.sessionKey)}--${clean(spec.devPod)}--once.json`));
    this.engine = new SyncSession({
      connect: (signal) => this.connect(signal),
      paths: spec.paths,
      reversePorts: spec.reversePorts,
      stateDir: run.stateDir,
      sessionKey: run.sessionKey,
      ...(run.opts.software ? { software: run.opts.software } : {}),
      ...run.opts.engine,
      afterUpload: (ref, changed, initial) => this.afterUpload(ref, changed, initial),
    });
    this.engine.on((e) => {
      try {
        this.onEvent(e);
      } finally {
        this.run.changed();
      }
    });
  }

  private get ctx(): DevServiceContext {
    return this.run.ctx;
  }

  private get out(): Output {
    return this.run.out;
  }

  start(): void {
    this.engine.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.engine.stop();
  }

  /** A new version of the session: follow the dev pod to its new pod. */
  follow(session: DevSession): void {
    this.wake?.();
    const t = targetFromStatus(session, { devPod: this.spec.devPod });
    const current = this.connectedPod ?? this.connectingPod;
    if (t && current && t.pod !== current && this.moving !== t.pod) {
      this.moving = t.pod;
      this.engine.reconnect(`dev pod ${this.spec.devPod} moved to pod ${t.pod}`);
    }
  }

  /** Resolves when the session changes (update()) or the sync stops. */
  private nextSession(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  /** The engine's transport: the sidecar of the pod the session names now, once there is one that has it. */
  private async connect(signal: AbortSignal): Promise<Duplex> {
    for (;;) {
      if (signal.aborted || this.abort.signal.aborted) throw new Error('the sync stopped');
      const t = targetFromStatus(this.ctx.session(), { devPod: this.spec.devPod });
      if (!t || t.pod === this.noSidecarPod) {
        await this.nextSession(signal);
        continue;
      }
      const pod = await this.ctx.kube.getPod(t.namespace, t.pod).catch(() => undefined);
      if (pod && !hasSyncSidecar(pod)) {
        this.noSidecar(t.pod);
        continue;
      }
      this.connectingPod = t.pod;
      for (const v of this.views) v.pod = t.pod;
      return this.run.opts.connect ? this.run.opts.connect(t, signal) : execTransport(this.ctx.clients.kubeConfig, { namespace: t.namespace, pod: t.pod })(signal);
    }
  }

  private noSidecar(pod: string): void {
    this.noSidecarPod = pod;
    if (!this.sidecarSaid) {
      this.sidecarSaid = true;
      this.out.warn(noSidecarMessage(pod, this.spec.devPod));
    }
    for (const v of this.views) {
      v.pod = pod;
      v.state = 'error';
      v.lastError = `no ${SIDECAR_CONTAINER} sidecar in pod ${pod}`;
      v.settled = true;
    }
    this.run.changed();
  }

  private view(ref: PathRef | undefined): PathView | undefined {
    return ref ? this.views.find((v) => v.sync === ref.sync) : undefined;
  }

  private label(v: PathView): string {
    return this.run.several ? pathLabel(v) : 'sync';
  }

  /** `src/app.ts` of a path, as seen from the project folder. */
  private shown(v: PathView, rel: string): string {
    return path.posix.join(v.localPath.replace(/\\/g, '/'), rel);
  }

  private onEvent(e: SyncEvent): void {
    const v = this.view('path' in e ? e.path : undefined);
    switch (e.type) {
      case 'connected': {
        const pod = this.connectingPod ?? '?';
        const before = this.connectedPod;
        this.connectedPod = pod;
        this.noSidecarPod = undefined;
        this.lastFailure = '';
        const paths = this.spec.paths.map((p, i) => `${this.spec.shown[i]} ↔ ${p.containerPath}`).join(', ');
        if (!this.everConnected) this.out.info(`sync: connected to pod ${pod} (${e.peer})${paths ? `: ${paths}` : ''}`);
        else if (this.moving || (before && before !== pod)) this.out.info(`sync: following dev pod ${this.spec.devPod} to pod ${pod}`);
        else if (this.lostSaid) this.out.info(`sync: reconnected to pod ${pod}`);
        this.everConnected = true;
        this.lostSaid = false;
        this.moving = undefined;
        // Errors that were about the pod (no sidecar) are over; a path failing on its own stays failed.
        const engine = this.engine.status();
        for (const [i, view] of this.views.entries()) {
          if (view.state === 'error' && !this.fatal && engine[i]?.state !== 'error') {
            view.state = 'connecting';
            view.lastError = undefined;
          }
        }
        // The pod moved while this connection was being made: go to the new one.
        const t = targetFromStatus(this.ctx.session(), { devPod: this.spec.devPod });
        if (t && t.pod !== pod) {
          this.moving = t.pod;
          this.engine.reconnect(`dev pod ${this.spec.devPod} moved to pod ${t.pod}`);
        }
        return;
      }
      case 'disconnected': {
        const pod = this.connectedPod;
        this.connectedPod = undefined;
        this.connectingPod = undefined;
        for (const view of this.views) if (view.state !== 'error' && view.state !== 'stopped') view.state = 'connecting';
        if (this.abort.signal.aborted) return;
        if (pod) {
          // Leaving a pod on purpose (it was replaced) is said once connected to the new one.
          if (!this.lostSaid && !this.moving) this.out.warn(`sync: lost the connection to pod ${pod} (${e.reason}); reconnecting`);
          this.lostSaid = !this.moving;
        } else if (e.reason !== this.lastFailure) {
          // Failing to connect (exec refused, pod not running yet): each new reason once.
          this.lastFailure = e.reason;
          if (this.everConnected) this.ctx.env.log.debug(`sync: ${e.reason}`);
          else this.out.warn(`sync: cannot connect to the sidecar of dev pod ${this.spec.devPod} yet: ${e.reason}; retrying`);
        }
        return;
      }
      case 'state':
        if (!v) return;
        // Live sync starts once the initial sync and the commands after it are done: waitInitialSync holds until then.
        if (e.state === 'watching' || (e.state === 'stopped' && v.state === 'initial')) v.settled = true;
        if (e.state === 'error') {
          v.lastError = e.message ?? v.lastError;
          v.settled = true;
          this.failedPaths.add(v.sync);
        } else if (e.state === 'watching' && this.failedPaths.delete(v.sync)) {
          // A failed path works again (it retried by itself): say so; its next failure is news again.
          this.out.info(`sync ${v.localPath}: syncing again`);
          v.lastError = undefined;
          this.lastError.delete(v.sync);
        }
        v.state = e.state;
        if (e.state === 'initial') v.progress = undefined;
        return;
      case 'initial-progress':
        if (!v) return;
        v.progress = { files: e.files, totalFiles: e.totalFiles, bytes: e.bytes, totalBytes: e.totalBytes, bytesPerSecond: e.bytesPerSecond };
        this.out.progress(`${v.devPod}/${v.sync}`, progressLine(v, this.label(v)));
        return;
      case 'initial-done':
        if (!v) return;
        v.progress = undefined;
        v.uploadedFiles += e.uploaded;
        v.downloadedFiles += e.downloaded;
        v.uploadedBytes += e.uploadedBytes;
        v.downloadedBytes += e.downloadedBytes;
        v.lastSyncTime = this.ctx.env.now?.() ?? new Date();
        this.out.info(initialDoneLine(this.run.several ? pathLabel(v) : 'sync', e));
        return;
      case 'batch':
        if (!v) return;
        if (e.direction === 'up') {
          v.uploadedFiles += e.files;
          v.uploadedBytes += e.bytes;
        } else {
          v.downloadedFiles += e.files;
          v.downloadedBytes += e.bytes;
        }
        v.lastSyncTime = this.ctx.env.now?.() ?? new Date();
        this.out.detail(batchLine(e.direction, e.files, e.bytes, e.ms, this.run.several ? pathLabel(v) : undefined));
        return;
      case 'conflict': {
        if (!v) return;
        v.conflicts++;
        const file = this.shown(v, e.file);
        const copy = e.copy ? this.shown(v, e.copy) : undefined;
        if (copy && e.winner === 'local') this.out.warn(`sync conflict: ${file} changed here and in the container; yours is kept, the container's version is in ${copy}`);
        else if (copy && e.winner === 'remote') this.out.warn(`sync conflict: ${file} changed here and in the container; the container's version is kept, yours is in ${copy}`);
        else this.out.warn(`sync conflict in ${v.localPath}: ${e.message}`);
        return;
      }
      case 'uploaded':
      case 'downloaded': {
        const cfg = v && this.spec.paths[this.views.indexOf(v)];
        if (!v || !cfg) return;
        if (cfg.printLogs) this.printFiles(v, e.type === 'uploaded' ? '↑' : '↓', e);
        if (e.type === 'downloaded' && cfg.onDownload?.exec?.length) this.queueDownload(cfg, { files: e.files, dirs: e.dirs, deleted: e.deleted }, e.initial);
        return;
      }
      case 'restart':
        if (e.ok) this.out.detail(`sync: ${e.message} in pod ${this.connectedPod ?? '?'}`);
        else this.out.warn(`sync: could not restart the app in pod ${this.connectedPod ?? '?'}: ${e.message}`);
        return;
      case 'tunnel':
        if (e.ok) this.out.info(`sync: ${e.message}`);
        else this.out.warn(`sync: reverse forwarding of port ${e.port.remotePort} in the pod → localhost:${e.port.localPort} failed: ${e.message}`);
        return;
      case 'warning':
        this.out.warn(`${v ? `sync ${v.localPath}` : 'sync'}: ${e.message}`);
        return;
      case 'error': {
        if (e.fatal) {
          // The engine gave up (another protocol version): nothing to retry; the rest of dsa up goes on.
          this.fatal = true;
          for (const view of this.views) {
            view.state = 'error';
            view.lastError = e.message;
            view.settled = true;
          }
          this.out.error(`sync of dev pod ${this.spec.devPod} stopped: ${e.message}`);
          return;
        }
        const key = v?.sync ?? -1;
        if (this.lastError.get(key) === e.message) return;
        this.lastError.set(key, e.message);
        if (v) v.lastError = e.message;
        this.out.error(`${v ? `sync ${v.localPath}` : 'sync'}: ${e.message}`);
        return;
      }
    }
  }

  /** A path's local folder as the DevSession names it. */
  private shownRoot(cfg: SyncPathConfig): string {
    return this.views.find((v) => v.sync === cfg.sync)?.localPath ?? cfg.localPath;
  }

  private printFiles(v: PathView, arrow: string, c: Changed): void {
    const lines = [...c.files.map((f) => this.shown(v, f)), ...c.dirs.map((d) => `${this.shown(v, d)}/`), ...c.deleted.map((d) => `deleted ${this.shown(v, d)}`)];
    const max = 1000;
    for (const l of lines.slice(0, max)) this.out.detail(`${arrow} ${l}`);
    if (lines.length > max) this.out.detail(`${arrow} … and ${lines.length - max} more`);
  }

  // ── commands after sync ──────────────────────────────────────────────────────────────────────

  /** The engine's hook: onUpload commands, before it asks for a restart (and before the start signal). */
  private async afterUpload(ref: PathRef, changed: Changed, initial: boolean): Promise<void> {
    const cfg = this.spec.paths.find((p) => p.sync === ref.sync);
    const execs = cfg?.onUpload?.exec ?? [];
    if (!cfg || execs.length === 0) return;
    const failure = await this.runCommands('onUpload', cfg, execs, changed, initial);
    // failOnError: the engine drops the connection and starts over (its error event says why).
    if (failure) throw new Error(failure);
  }

  private queueDownload(cfg: SyncPathConfig, changed: Changed, initial: boolean): void {
    let q = this.downloads.get(cfg.sync);
    if (!q) this.downloads.set(cfg.sync, (q = { queue: [], running: false }));
    const last = q.queue.at(-1);
    if (q.queue.length >= MAX_QUEUED_BATCHES && last && last.initial === initial) {
      // Commands slower than the downloads: what waits is merged (bounded, like the engine's dirty set).
      const cap = (a: string[], b: string[]) => [...a, ...b].slice(0, 10_000);
      last.changed = { files: cap(last.changed.files, changed.files), dirs: cap(last.changed.dirs, changed.dirs), deleted: cap(last.changed.deleted, changed.deleted) };
    } else q.queue.push({ changed, initial });
    if (q.running) return;
    q.running = true;
    void (async () => {
      try {
        while (q.queue.length && !this.abort.signal.aborted) {
          const next = q.queue.shift()!;
          const failure = await this.runCommands('onDownload', cfg, cfg.onDownload?.exec ?? [], next.changed, next.initial);
          // failOnError: that path starts over (its error event says why); the others go on.
          if (failure) this.engine.restartPath(cfg.sync, failure);
        }
      } finally {
        q.running = false;
      }
    })();
  }

  /** Runs a batch's commands in order; resolves with the failure of a failOnError command, if one failed. */
  private async runCommands(list: 'onUpload' | 'onDownload', cfg: SyncPathConfig, execs: readonly SyncExec[], changed: Changed, initial: boolean): Promise<string | undefined> {
    const { runs, dropped } = planCommandRuns(execs, changed, initial);
    if (dropped) this.out.warn(`sync ${this.shownRoot(cfg)}: ${list} commands ran for the first ${MAX_RUNS_PER_BATCH} files of the batch only (${dropped} more skipped)`);
    // A single-file sync syncs the file's folder: `{}` names a file in that folder, on either side.
    const localRoot = cfg.file ? path.dirname(cfg.localPath) : cfg.localPath;
    const containerRoot = cfg.file ? path.posix.dirname(cfg.containerPath) : cfg.containerPath;
    for (const r of runs) {
      if (this.abort.signal.aborted) return undefined;
      const where = r.exec.where ?? 'container';
      const t = targetFromStatus(this.ctx.session(), { devPod: this.spec.devPod });
      const pod = this.connectedPod ?? t?.pod;
      const onceKey = `${list}:${cfg.sync}:${r.index}`;
      if (r.exec.once && pod && this.once.has(pod, onceKey)) continue;
      const label = commandLabel(r.exec);
      const item = r.item === undefined ? undefined : where === 'local' ? path.join(localRoot, r.item) : path.posix.join(containerRoot, r.item);
      const line = commandLine(r.exec, item);
      const place = where === 'local' ? 'locally' : `in pod ${pod ?? '?'}`;
      this.out.detail(`sync: running ${label}${r.item !== undefined ? ` for ${r.item}` : ''}${r.matched !== undefined ? ` (${r.matched} changed)` : ''} ${place}`);
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.run.opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS)]);
      let res: CommandResult;
      if (where === 'local') {
        fs.mkdirSync(localRoot, { recursive: true });
        res = await this.run.commands.local(line, localRoot, signal);
      } else if (!t || !pod) {
        res = { code: undefined, output: '', error: `dev pod ${this.spec.devPod} has no running pod` };
      } else {
        const argv = 'shell' in line ? ['sh', '-c', line.shell] : line.argv;
        res = await this.run.commands.container({ ...t, pod }, argv, signal);
      }
      if (this.abort.signal.aborted) return undefined;
      if (res.code === 0) {
        if (r.exec.once && pod) this.once.add(pod, onceKey);
        continue;
      }
      const why = res.code !== undefined ? `exit code ${res.code}` : signal.aborted ? 'timed out' : (res.error ?? 'it could not run');
      const lastLine = res.output.trim().split('\n').at(-1)?.slice(0, 300);
      const message = `${list} command ${label} failed ${place}: ${why}${lastLine ? `: ${lastLine}` : ''}`;
      if (r.exec.failOnError) return message;
      this.out.warn(`sync ${this.shownRoot(cfg)}: ${message}`);
    }
    return undefined;
  }
}
