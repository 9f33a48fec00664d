// One sync path on the agent's side: its local replica and watcher, its base, and for each
// connection the initial sync (scan both sides, plan, transfer both ways at once) followed by live
// sync (local changes → upload batches, remote change events → local applies), with the conflict
// rules of docs/sync.md ("Live sync and conflicts").
import * as fs from 'node:fs';
import path from 'node:path';
import {
  INLINE_CONTENT_MAX,
  REFUSED_NOTICES_MAX,
  RESULT_CHUNK,
  RecordReader,
  RecordWriter,
  Replica,
  conflictPath,
  compareForCreate,
  compareForDelete,
  isInternalPath,
  isWithin,
  matcherFor,
  parseHashes,
  parsePathReply,
  parseRefusedNotice,
  parseWriteResults,
  planInitialSync,
  sameAcross,
  sameSide,
  showPath,
  toSig,
  watchTree,
  type BaseEntry,
  type Channel,
  type Connection,
  type ExcludeMatcher,
  type Plan,
  type Rec,
  type Sig,
  type TreeWatcher,
  type WireChange,
  type WriteResult,
} from '@dsa/api/sync';
import { BaseStore } from './base-store.js';
import { ChangeSet, type ChangeKind } from './change-set.js';
import type { Changed, PathRef, PathState, SyncEvent, SyncPathConfig } from './events.js';
import { RateLimiter } from './rate-limit.js';

/** A path-level failure the user must fix (the pod has no such path, the local root is unusable). */

/** Excluded both ways on every sync path, before the user's patterns (so a `!` cannot re-include them). */
export const BUILTIN_EXCLUDES: readonly string[] = ['/.dsa/'];
export class SyncPathError extends Error {
  override readonly name = 'SyncPathError';
}

export interface PathSyncDeps {
  emit: (e: SyncEvent) => void;
  store: BaseStore;
  now: () => Date;
  /**
   * Called after an upload batch changed the container, and once after an initial sync that did (with
   * everything it changed there); awaited before the next batch and, for the initial sync, before the
   * initial sync counts as done. The session runs the onUpload commands, then asks for a restart. A
   * rejection ends this connection (the sync starts over: DevSpace's failOnError).
   */
  onRemoteChanged: (changed: Changed, initial: boolean) => Promise<void>;
  /** Wait this long after a local change for more before sending a batch (ms). */
  settleMs?: number;
}

/** Parallel channels for large initial transfers (the sidecar applies each channel's files in order). */
const INITIAL_STREAMS = 3;
const PROGRESS_EVERY_MS = 250;
const DEFAULT_SETTLE_MS = 3;

type Upload = { p: string; sig: Sig | null; expect: Sig | null | undefined; recursive?: boolean };
type DownloadReq = { p: string; target: string; expect: Sig | null; copy: boolean };

interface Progress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

export class PathSync {
  readonly ref: PathRef;
  state: PathState = 'connecting';
  /** The folder synced on the laptop (for `file: true`, the file's folder). */
  private readonly localRoot: string;
  /** Exclude patterns as both sides apply them (a single-file sync adds "everything but the file"). */
  private readonly excludes: { exclude: string[]; uploadExclude: string[]; downloadExclude: string[] };
  /** noWatch: the initial sync ran; nothing more to do. */
  private finished = false;
  private replica!: Replica;
  private readonly upload: ExcludeMatcher;
  private readonly download: ExcludeMatcher;
  private base: Map<string, BaseEntry> | undefined;
  private baseComplete = false;
  private replicaId = '';
  private readonly dirty = new Set<string>();
  private wake: (() => void) | undefined;
  private watcher: TreeWatcher | undefined;
  private stopped = false;
  /** Uploads an earlier agent sent without recording the outcome (from the journal). */
  private inFlight = new Map<string, Sig | null>();
  private readonly upLimit: RateLimiter;
  private readonly downLimit: RateLimiter;
  /** Per path, the newest observation number (WireChange.q) seen on this connection. */
  private remoteSeq = new Map<string, number>();
  /** The current run (initial + live sync on one connection), and its watch channel. */
  private scope: RunScope | undefined;
  private watchCh: Channel | undefined;
  /** The local folder failed under the watcher: unprepare() and prepare() before the next run. */
  needsPrepare = false;
  /** Container names the sidecar refused that were told already (once each, bounded). */
  private readonly refusedShown = new Set<string>();
  private refusedMoreShown = false;

  constructor(
    readonly handle: number,
    readonly cfg: SyncPathConfig,
    private readonly deps: PathSyncDeps,
  ) {
    this.ref = { devPod: cfg.devPod, sync: cfg.sync, localPath: cfg.localPath, containerPath: cfg.containerPath };
    this.localRoot = cfg.file ? path.dirname(cfg.localPath) : cfg.localPath;
    const only = cfg.file ? singleFilePatterns(path.basename(cfg.localPath)) : [];
    // dsa's own state folder (the bases live in <project>/.dsa/sync) never crosses: syncing it would
    // turn every base write into an upload, and that upload into the next base write.
    this.excludes = { exclude: [...only, ...BUILTIN_EXCLUDES, ...(cfg.excludePaths ?? [])], uploadExclude: cfg.uploadExcludePaths ?? [], downloadExclude: cfg.downloadExcludePaths ?? [] };
    const m = matcherFor(this.excludes);
    this.upload = m.upload;
    this.download = m.download;
    this.upLimit = new RateLimiter(cfg.bandwidthLimits?.upload);
    this.downLimit = new RateLimiter(cfg.bandwidthLimits?.download);
  }

  private uploadIgnored(rel: string, isDir: boolean): boolean {
    return !!this.cfg.disableUpload || this.upload.ignores(rel, isDir);
  }

  private downloadIgnored(rel: string, isDir: boolean): boolean {
    return !!this.cfg.disableDownload || this.download.ignores(rel, isDir);
  }

  private setState(state: PathState, message?: string): void {
    this.state = state;
    this.deps.emit({ type: 'state', path: this.ref, state, ...(message ? { message } : {}) });
  }

  /**
   * Open the local root (created if missing), load the base, start the local watcher. Rejects with
   * SyncPathError when the local folder cannot be used; may be called again after unprepare().
   */
  async prepare(): Promise<void> {
    const local = (e: unknown) => new SyncPathError(`local sync path ${this.cfg.localPath}: ${(e as Error).message}`);
    try {
      fs.mkdirSync(this.localRoot, { recursive: true });
      this.replica = await Replica.open(this.localRoot, { allowConflictCopies: true, onWarning: (m) => this.deps.emit({ type: 'warning', path: this.ref, message: m }) });
    } catch (e) {
      throw local(e);
    }
    if (!this.base) {
      const snap = this.deps.store.load();
      if (snap) {
        this.base = snap.entries;
        this.baseComplete = snap.complete;
        this.replicaId = snap.replicaId;
        this.inFlight = snap.inFlight ?? new Map();
      }
    }
    if (this.cfg.disableUpload || this.cfg.noWatch) return;
    const watcher = watchTree(this.replica.root, {
      ignore: (rel, isDir) => isInternalPath(rel) || this.upload.ignores(rel, isDir),
      polling: this.cfg.polling,
      onEvents: (events) => {
        for (const e of events) this.dirty.add(e.path);
        this.wake?.();
      },
      onError: (err) => {
        const e = err as Error & { fatal?: boolean };
        if (e.fatal) {
          // The local folder went (removed, replaced): this path starts over once it is usable again.
          this.needsPrepare = true;
          this.abort(local(e));
          return;
        }
        this.deps.emit({ type: 'error', path: this.ref, message: `watching ${this.cfg.localPath}: ${err.message}`, fatal: false });
      },
      onWarning: (w) => this.deps.emit({ type: 'warning', path: this.ref, message: w.message }),
    });
    this.watcher = watcher;
    try {
      await watcher.ready;
    } catch (e) {
      this.watcher = undefined;
      await watcher.close();
      throw local(e);
    }
  }

  /** The local folder failed (see needsPrepare): drop the watcher so prepare() can start over. */
  async unprepare(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    this.needsPrepare = false;
    await w?.close();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.downloadWake?.();
    await this.watcher?.close();
    this.setState('stopped');
  }

  /**
   * End the current run with `error` (it rejects with it): a command with failOnError failed, or
   * the local folder went. The session starts this path again after a pause; other paths go on.
   */
  abort(error: Error): void {
    const scope = this.scope;
    if (!scope || scope.over) return;
    scope.stop(error);
    this.watchCh?.reset(error.message);
    this.wake?.();
    this.downloadWake?.();
  }

  // ---------------------------------------------------------------------------------------------
  // One connection

  /**
   * Initial sync, then live sync until the connection ends (resolves) or this path fails (rejects,
   * the connection stays for the other paths). `onInitialDone` fires once the initial sync finished.
   */
  async run(conn: Connection, onInitialDone: () => void): Promise<void> {
    if (this.finished) {
      onInitialDone();
      return;
    }
    const scope = new RunScope(conn);
    this.scope = scope;
    try {
      this.setState('initial');
      const watchCh = await this.initialSync(conn);
      if (scope.over) return;
      onInitialDone();
      if (this.cfg.noWatch) {
        // DevSpace's noWatch: the initial sync only.
        this.finished = true;
        watchCh.reset('noWatch');
        await this.watcher?.close();
        this.setState('stopped', 'initial sync done (noWatch)');
        return;
      }
      this.setState('watching');
      const fail = (e: unknown) => this.abort(e instanceof Error ? e : new Error(String(e)));
      await Promise.all([this.consumeRemote(scope, watchCh).catch(fail), this.uploadLoop(scope).catch(fail)]);
    } catch (e) {
      scope.stop(e instanceof Error ? e : new Error(String(e)));
    } finally {
      scope.stop();
      this.watchCh?.reset('sync path stopped');
      this.watchCh = undefined;
      this.scope = undefined;
    }
    if (scope.failure && !conn.isClosed && !this.stopped) throw scope.failure;
  }

  private async initialSync(conn: Connection): Promise<Channel> {
    const t0 = performance.now();
    const cfg = this.cfg;
    const pathCh = conn.open({
      kind: 'path',
      path: this.handle,
      devPod: cfg.devPod,
      sync: cfg.sync,
      excludes: this.excludes,
      polling: cfg.polling === true,
      ...(cfg.throttleChangeDetection ? { throttleMs: cfg.throttleChangeDetection } : {}),
    });
    const reply = parsePathReply(await pathCh.readMsg());
    await pathCh.end();
    if (!reply.ok) throw new SyncPathError(reply.error ?? 'the sidecar refused the sync path');
    if (this.base && this.replicaId !== reply.replicaId) {
      // Another pod (or its volumes were recreated): what we knew about the remote side is void.
      this.base = undefined;
      this.baseComplete = false;
    }
    this.replicaId = reply.replicaId;

    this.remoteSeq = new Map();
    // The remote watch is ready before the remote scan starts, so no change in between is missed;
    // the local scan runs meanwhile (local events from now on go to the live phase).
    const watchCh = conn.open({ kind: 'watch', path: this.handle });
    this.watchCh = watchCh;
    this.dirty.clear();
    const bothIgnored = (rel: string, isDir: boolean) => this.uploadIgnored(rel, isDir) && this.downloadIgnored(rel, isDir);
    const [local, remote] = await Promise.all([
      this.replica.scan(bothIgnored),
      (async () => {
        const ready = (await watchCh.readMsg()) as { ready?: unknown } | null;
        if (!ready || ready.ready !== true) throw new Error('the sidecar could not watch the sync path');
        return this.remoteScan(conn);
      })(),
    ]);

    this.adoptInFlight(remote);
    if (!this.base || !this.baseComplete) {
      // Start (or continue) a first sync: persist the replica id right away, flagged incomplete.
      this.base ??= new Map();
      this.deps.store.save({ replicaId: this.replicaId, complete: false, entries: this.base });
    }
    const strategy = cfg.initialSync ?? 'mirrorLocal';
    let stats = { uploaded: 0, downloaded: 0, deletedRemote: 0, deletedLocal: 0, bytes: 0, uploadedBytes: 0, downloadedBytes: 0, conflicts: 0, upChanged: new ChangeSet().changed() };
    if (strategy === 'disabled') {
      // No initial sync: the current state of both sides is the starting point of live sync.
      for (const [p, l] of local) {
        const r = remote.get(p);
        if (r) this.base.set(p, { l, r });
      }
    } else {
      const input = {
        local,
        remote,
        base: this.baseComplete || this.base.size ? this.base : undefined,
        baseComplete: this.baseComplete,
        strategy,
        compareBy: cfg.initialSyncCompareBy ?? 'mtime',
        uploadIgnored: (p: string, d: boolean) => this.upload.ignores(p, d),
        downloadIgnored: (p: string, d: boolean) => this.download.ignores(p, d),
        disableUpload: cfg.disableUpload,
        disableDownload: cfg.disableDownload,
        now: this.deps.now(),
      };
      let plan = planInitialSync(input);
      if (plan.hashCheck.length) {
        const { same, different } = await this.compareHashes(conn, plan.hashCheck);
        plan = planInitialSync({ ...input, sameContent: same, differentContent: different });
      }
      stats = await this.execute(conn, plan, t0);
    }
    this.baseComplete = true;
    this.deps.store.save({ replicaId: this.replicaId, complete: true, entries: this.base });
    const { upChanged: _up, ...counts } = stats;
    this.deps.emit({ type: 'initial-done', path: this.ref, ...counts, ms: Math.round(performance.now() - t0) });
    if (stats.uploaded + stats.deletedRemote > 0) await this.deps.onRemoteChanged(stats.upChanged, true);
    return watchCh;
  }

  /**
   * Uploads sent by an agent that died before recording their outcome: when the container holds
   * exactly what was sent, that is the base (the upload happened); otherwise leave the base alone.
   */
  private adoptInFlight(remote: ReadonlyMap<string, Sig>): void {
    if (!this.base || !this.inFlight.size) return;
    for (const [p, sent] of this.inFlight) {
      const R = remote.get(p) ?? null;
      if (sent === null) {
        if (!R) this.base.delete(p);
      } else if (R && sameAcross(sent, R)) {
        this.base.set(p, { l: sent, r: R });
      }
    }
    this.inFlight.clear();
  }

  private async remoteScan(conn: Connection): Promise<Map<string, Sig>> {
    const ch = conn.open({ kind: 'scan', path: this.handle });
    await ch.end();
    const r = new RecordReader(ch);
    const out = new Map<string, Sig>();
    for (;;) {
      const rec = await r.next();
      if (rec === null) break;
      if (rec.tag === 'S' && rec.change && rec.change.t !== '-') {
        out.set(rec.change.p, toSig(rec.change));
        this.fresh(rec.change.p, rec.change.q);
      } else if (rec.tag === 'S' && !rec.change) this.deps.emit({ type: 'warning', path: this.ref, message: `container: ${rec.message}` });
      else if (rec.tag === 'msg') this.onMessage(rec.value);
    }
    return out;
  }

  private async compareHashes(conn: Connection, paths: string[]): Promise<{ same: Set<string>; different: Set<string> }> {
    const ch = conn.open({ kind: 'hash', path: this.handle });
    const remoteP = (async () => {
      const out = new Map<string, string | null>();
      for (;;) {
        const msg = await ch.readMsg();
        if (msg === null) break;
        for (const [p, h] of parseHashes(msg)) out.set(p, h);
      }
      return out;
    })();
    for (let i = 0; i < paths.length; i += RESULT_CHUNK) await ch.send({ paths: paths.slice(i, i + RESULT_CHUNK) });
    await ch.end();
    const localHashes = new Map<string, string | null>();
    for (const p of paths) localHashes.set(p, await this.replica.hash(p));
    const remoteHashes = await remoteP;
    const same = new Set<string>();
    const different = new Set<string>();
    for (const p of paths) {
      const l = localHashes.get(p);
      if (l && l === remoteHashes.get(p)) same.add(p);
      else different.add(p);
    }
    return { same, different };
  }

  // ---------------------------------------------------------------------------------------------
  // Executing an initial plan

  private async execute(conn: Connection, plan: Plan, t0: number) {
    const base = this.base!;
    for (const [p, e] of plan.keep) base.set(p, e);
    const stats = { uploaded: 0, downloaded: 0, deletedRemote: 0, deletedLocal: 0, bytes: 0, uploadedBytes: 0, downloadedBytes: 0, conflicts: plan.conflicts.length, upChanged: new ChangeSet().changed() };
    for (const c of plan.conflicts) {
      const copy = plan.conflictCopies.find((x) => x.p === c.p);
      this.deps.emit({
        type: 'conflict',
        path: this.ref,
        file: c.p,
        winner: c.winner,
        ...(copy ? { copy: copy.copy } : {}),
        message:
          c.winner === 'none'
            ? `${c.p} changed on both sides; left as it is on each side`
            : `${c.p} changed on both sides; the ${c.winner} version wins${copy ? `, the ${copy.side} one is kept as ${copy.copy}` : ''}`,
      });
    }
    const progress: Progress = {
      files: 0,
      bytes: 0,
      totalFiles: plan.upload.length + plan.download.length + plan.deleteLocal.length + plan.deleteRemote.length + plan.conflictCopies.length,
      totalBytes: [...plan.upload, ...plan.download].reduce((n, t) => n + (t.sig.t === 'f' ? t.sig.s : 0), 0),
    };
    let lastProgress = 0;
    const tick = (files: number, bytes: number) => {
      progress.files += files;
      progress.bytes += bytes;
      const now = performance.now();
      if (now - lastProgress >= PROGRESS_EVERY_MS || progress.files === progress.totalFiles) {
        lastProgress = now;
        const secs = Math.max((now - t0) / 1000, 0.001);
        this.deps.emit({ type: 'initial-progress', path: this.ref, ...progress, bytesPerSecond: Math.round(progress.bytes / secs) });
      }
    };

    // Losers on the local side move aside before anything overwrites them.
    const verified = new Set<string>();
    const movedAside = new Set<string>();
    for (const c of plan.conflictCopies) {
      if (c.side !== 'local') continue;
      try {
        this.replica.renameNoReplace(c.p, c.copy, verified);
        movedAside.add(c.p);
      } catch (e) {
        this.deps.emit({ type: 'error', path: this.ref, message: `cannot keep the local version of ${c.p}: ${(e as Error).message}`, fatal: false });
      }
    }
    // Local deletions (mirrorRemote, or deletions made in the container while we were away).
    const deletedLocally = new ChangeSet();
    for (const d of plan.deleteLocal) {
      const res = this.replica.remove(d.p, { recursive: d.recursive, expect: d.recursive ? undefined : d.expect });
      if (!res.conflict) {
        this.forgetBase(d.p);
        deletedLocally.add(d.p, 'deleted');
        stats.deletedLocal++;
      } else {
        this.dirty.add(d.p);
      }
      tick(1, 0);
    }

    const downloads: DownloadReq[] = [
      ...plan.download.map((t) => ({ p: t.p, target: t.p, expect: movedAside.has(t.p) ? null : (t.expect ?? null), copy: false })),
      ...plan.conflictCopies.filter((c) => c.side === 'remote').map((c) => ({ p: c.p, target: c.copy, expect: null, copy: true })),
    ];
    const uploads: Upload[] = [
      ...plan.deleteRemote.map((d) => ({ p: d.p, sig: null, expect: d.expect, recursive: d.recursive })),
      ...plan.upload.map((t) => ({ p: t.p, sig: t.sig, expect: t.expect })),
    ];
    const [down, up] = await Promise.all([
      this.downloadMany(conn, downloads, (files, bytes) => tick(files, bytes)),
      this.uploadMany(conn, uploads, (files, bytes) => tick(files, bytes), false),
    ]);
    stats.downloaded = down.applied.files.length + down.applied.dirs.length;
    stats.deletedLocal += down.applied.deleted.length;
    stats.bytes = down.bytes + up.bytes;
    stats.uploadedBytes = up.bytes;
    stats.downloadedBytes = down.bytes;
    stats.uploaded = up.applied.files.length + up.applied.dirs.length;
    stats.deletedRemote = up.applied.deleted.length;
    stats.upChanged = up.applied.changed();
    if (up.applied.size) this.deps.emit({ type: 'uploaded', path: this.ref, initial: true, ...up.applied.changed() });
    if (down.applied.size || deletedLocally.size) {
      const changed = down.applied.changed();
      changed.deleted.push(...deletedLocally.deleted);
      this.deps.emit({ type: 'downloaded', path: this.ref, initial: true, ...changed });
    }
    return stats;
  }

  // ---------------------------------------------------------------------------------------------
  // Uploads (initial and live)

  /** Send uploads/deletions over up to INITIAL_STREAMS write channels; results update the base. */
  private async uploadMany(conn: Connection, items: Upload[], tick: (files: number, bytes: number) => void, live: boolean): Promise<{ applied: ChangeSet; bytes: number }> {
    if (!items.length) return { applied: new ChangeSet(), bytes: 0 };
    // Deletions children-first, then creations parents-first; one stream keeps that order.
    const deletes = items.filter((i) => i.sig === null).sort((a, b) => compareForDelete(a.p, b.p));
    const creates = items.filter((i) => i.sig !== null).sort((a, b) => compareForCreate(a.p, b.p));
    const streams: Upload[][] = [];
    const n = live || creates.length < 64 ? 1 : INITIAL_STREAMS;
    // Directories first in stream 0 (others' files may need them); the rest spread round-robin by size.
    const dirs = creates.filter((i) => i.sig!.t === 'd');
    const rest = creates.filter((i) => i.sig!.t !== 'd');
    streams.push([...deletes, ...dirs]);
    for (let i = 1; i < n; i++) streams.push([]);
    if (n === 1) streams[0]!.push(...rest);
    const parts = await (async () => {
      if (n === 1) return Promise.all([this.uploadStream(conn, streams[0]!, tick)]);
      // Make sure directories exist before spreading files over parallel streams.
      const first = await this.uploadStream(conn, streams[0]!, tick);
      const spread: Upload[][] = Array.from({ length: n }, () => []);
      const load = new Array<number>(n).fill(0);
      for (const it of rest) {
        let k = 0;
        for (let j = 1; j < n; j++) if (load[j]! < load[k]!) k = j;
        spread[k]!.push(it);
        load[k]! += (it.sig?.s ?? 0) + 512;
      }
      const others = await Promise.all(spread.map((s) => this.uploadStream(conn, s, tick)));
      return [first, ...others];
    })();
    const applied = new ChangeSet();
    for (const p of parts) applied.addAll(p.applied);
    return { applied, bytes: parts.reduce((a, p) => a + p.bytes, 0) };
  }

  private async uploadStream(conn: Connection, items: Upload[], tick: (files: number, bytes: number) => void): Promise<{ applied: ChangeSet; bytes: number }> {
    if (!items.length) return { applied: new ChangeSet(), bytes: 0 };
    const ch = conn.open({ kind: 'write', path: this.handle });
    // Intents of the items in a frame are on disk before the frame leaves (see BaseStore).
    let intents: Array<[string, Sig | null]> = [];
    const w = new RecordWriter(ch, () => {
      if (!intents.length) return;
      try {
        this.deps.store.intend(intents);
      } catch {
        /* the journal is best effort; the next full save repairs it */
      }
      intents = [];
    });
    const sent = new Map<string, { sig: Sig | null; item: Upload; bytes: number }>();
    const applied = new ChangeSet();
    let bytes = 0;
    const results = (async () => {
      for (;;) {
        const msg = await ch.readMsg();
        if (msg === null) break;
        const list = parseWriteResults(msg);
        const changes: Array<[string, BaseEntry | null]> = [];
        for (const r of list) {
          const s = sent.get(r.p);
          if (!s) continue;
          sent.delete(r.p);
          this.onUploadResult(r, s.item, s.sig, changes, applied);
          tick(1, s.bytes);
        }
        this.journal(changes);
      }
    })();
    try {
      for (const it of items) {
        if (it.sig === null) {
          intents.push([it.p, null]);
          await w.head({ p: it.p, t: '-', ...(it.expect !== undefined ? { e: it.expect } : {}), ...(it.recursive ? { r: true } : {}) });
          sent.set(it.p, { sig: null, item: it, bytes: 0 });
          continue;
        }
        const e = it.expect !== undefined ? { e: it.expect } : {};
        if (it.sig.t !== 'f') {
          // Current state, not the planned one: it may have changed since the scan.
          const now = this.replica.stat(it.p);
          if (!now || now.t !== it.sig.t) {
            this.dirty.add(it.p);
            tick(1, 0);
            continue;
          }
          intents.push([it.p, now]);
          await w.head({ p: it.p, ...now, ...e });
          sent.set(it.p, { sig: now, item: it, bytes: 0 });
          continue;
        }
        const small = this.replica.readSmall(it.p, INLINE_CONTENT_MAX);
        if (!small) {
          this.dirty.add(it.p); // gone or no longer a file: the live phase settles it
          tick(1, 0);
          continue;
        }
        if (small.data) {
          await this.upLimit.take(small.data.length);
          intents.push([it.p, small.sig]);
          await w.head({ p: it.p, ...small.sig, ...e });
          await w.content(small.data);
          await w.endFile(!small.changed);
          sent.set(it.p, { sig: small.changed ? null : small.sig, item: it, bytes: small.data.length });
          bytes += small.data.length;
          continue;
        }
        const f = await this.replica.openFile(it.p);
        if (!f) {
          this.dirty.add(it.p);
          tick(1, 0);
          continue;
        }
        try {
          intents.push([it.p, f.sig]);
          await w.head({ p: it.p, ...f.sig, ...e });
          const got = await w.contentFrom(async (buf, off, len) => {
            await this.upLimit.take(len);
            return f.read(buf, off, len);
          }, f.sig.s);
          if (got < f.sig.s) await w.content(Buffer.alloc(f.sig.s - got));
          const intact = got === f.sig.s && !(await f.changed());
          await w.endFile(intact);
          sent.set(it.p, { sig: intact ? f.sig : null, item: it, bytes: f.sig.s });
          bytes += f.sig.s;
        } finally {
          await f.close();
        }
      }
      await w.flush();
      await ch.end();
    } catch (e) {
      ch.reset(`upload: ${(e as Error).message}`);
      await results.catch(() => undefined);
      throw e;
    }
    await results;
    return { applied, bytes };
  }

  private onUploadResult(r: WriteResult, item: Upload, localSig: Sig | null, changes: Array<[string, BaseEntry | null]>, applied: ChangeSet): void {
    const base = this.base!;
    if ('q' in r) this.fresh(r.p, r.q);
    if ('ok' in r) {
      applied.add(r.p, item.sig === null ? 'deleted' : item.sig.t === 'd' ? 'dir' : 'file');
      if (item.sig === null) {
        for (const k of [...base.keys()]) {
          if (isWithin(k, r.p)) {
            base.delete(k);
            changes.push([k, null]);
          }
        }
        return;
      }
      if (localSig === null) return; // cannot happen for an applied file; be safe
      const entry = { l: localSig, r: r.sig };
      base.set(r.p, entry);
      changes.push([r.p, entry]);
      return;
    }
    if ('conflict' in r) {
      this.onUploadConflict(r.p, item, r.current, changes);
      return;
    }
    if (/changed while being read/.test(r.error)) {
      this.dirty.add(r.p);
      return;
    }
    this.deps.emit({ type: 'error', path: this.ref, message: `cannot write ${r.p} in the container: ${r.error}`, fatal: false });
  }

  /**
   * The container's file changed since the version the upload expected to replace. The local
   * version wins (it is the newer edit from the developer's point of view); the container's version
   * is kept on the laptop as a conflict copy, and the upload is retried against it.
   */
  private onUploadConflict(p: string, item: Upload, current: Sig | null, changes: Array<[string, BaseEntry | null]>): void {
    const base = this.base!;
    const known = base.get(p);
    if (known && sameSide(known.r, current)) {
      // We already learnt this remote state (its event arrived meanwhile): just try again.
      this.dirty.add(p);
      return;
    }
    if (item.sig === null && current) {
      // Deleted here, modified there: the modification wins; it comes back on the laptop.
      base.delete(p);
      changes.push([p, null]);
      this.queueDownload({ p, target: p, expect: null, copy: false });
      this.deps.emit({ type: 'conflict', path: this.ref, file: p, winner: 'remote', message: `${p} was deleted here but changed in the container; the container's version is restored` });
      return;
    }
    const next: BaseEntry = { l: known?.l ?? null, r: current };
    base.set(p, next);
    changes.push([p, next]);
    if (current?.t === 'f') {
      const copy = conflictPath(p, 'remote', this.deps.now());
      this.queueDownload({ p, target: copy, expect: null, copy: true });
      this.deps.emit({ type: 'conflict', path: this.ref, file: p, winner: 'local', copy, message: `${p} changed on both sides; the local version wins, the container's is kept as ${copy}` });
    } else {
      this.deps.emit({ type: 'conflict', path: this.ref, file: p, winner: 'local', message: `${p} changed on both sides; the local version wins` });
    }
    this.dirty.add(p);
  }

  // ---------------------------------------------------------------------------------------------
  // Downloads (initial, big files in live sync, conflict copies)

  private downloadQueue: DownloadReq[] = [];
  private downloadWake: (() => void) | undefined;

  private queueDownload(req: DownloadReq): void {
    this.downloadQueue.push(req);
    this.downloadWake?.();
  }

  private async downloadMany(conn: Connection, reqs: DownloadReq[], tick: (files: number, bytes: number) => void): Promise<{ applied: ChangeSet; bytes: number }> {
    if (!reqs.length) return { applied: new ChangeSet(), bytes: 0 };
    const n = reqs.length < 64 ? 1 : INITIAL_STREAMS;
    const sorted = [...reqs].sort((a, b) => compareForCreate(a.target, b.target));
    // Directories in the first stream, before files that live in them (parents are created anyway).
    const groups: DownloadReq[][] = Array.from({ length: n }, () => []);
    sorted.forEach((r, i) => groups[i % n]!.push(r));
    const parts = await Promise.all(groups.map((g) => this.downloadStream(conn, g, tick, false)));
    const applied = new ChangeSet();
    for (const p of parts) applied.addAll(p.applied);
    return { applied, bytes: parts.reduce((a, p) => a + p.bytes, 0) };
  }

  /** Request `reqs` on one read channel and apply what comes back. */
  private async downloadStream(conn: Connection, reqs: DownloadReq[], tick: (files: number, bytes: number) => void, live: boolean, recursive = false): Promise<{ applied: ChangeSet; bytes: number }> {
    const ch = conn.open({ kind: 'read', path: this.handle });
    const byPath = new Map<string, DownloadReq[]>();
    for (const r of reqs) byPath.set(r.p, [...(byPath.get(r.p) ?? []), r]);
    const sending = (async () => {
      for (let i = 0; i < reqs.length; i += RESULT_CHUNK) await ch.send({ paths: reqs.slice(i, i + RESULT_CHUNK).map((r) => r.p), ...(recursive ? { recursive: true } : {}) });
      await ch.end();
    })();
    const reader = new RecordReader(ch);
    const applied = new ChangeSet();
    let bytes = 0;
    const changes: Array<[string, BaseEntry | null]> = [];
    const verified = new Set<string>();
    try {
      for (;;) {
        const rec = await reader.next();
        if (rec === null) break;
        if (rec.tag === 'X') {
          byPath.get(rec.p)?.shift();
          tick(1, 0);
          continue;
        }
        if (rec.tag !== 'H') {
          if (rec.tag === 'msg') {
            this.onMessage(rec.value);
            continue;
          }
          throw new Error(`read: unexpected ${rec.tag} record`);
        }
        if (!rec.change) {
          if (rec.isFile) await reader.content(() => undefined);
          this.deps.emit({ type: 'warning', path: this.ref, message: `container: ${rec.message}` });
          continue;
        }
        const req = byPath.get(rec.change.p)?.shift();
        const got = await this.applyRemote(reader, rec.change, req, verified, changes, live);
        if (got.applied) applied.add(rec.change.p, got.applied);
        bytes += got.bytes;
        tick(1, got.bytes);
        // Streamed files took their tokens chunk by chunk (applyRemote); inline ones take them here.
        if (!(rec.change.t === 'f' && rec.change.s > INLINE_CONTENT_MAX)) await this.downLimit.take(got.bytes);
        if (changes.length >= RESULT_CHUNK) this.journal(changes.splice(0));
      }
    } finally {
      this.journal(changes.splice(0));
      await sending.catch(() => undefined);
    }
    return { applied, bytes };
  }

  /**
   * Apply one remote entry locally (content follows for files). With a request (initial sync,
   * conflict copies) its target and expectation decide; without one (live events), the live rule:
   * apply when the local path is unchanged since the base, else keep the local version and the
   * remote one as a conflict copy.
   */
  private async applyRemote(
    reader: RecordReader,
    c: WireChange,
    req: DownloadReq | undefined,
    verified: Set<string>,
    changes: Array<[string, BaseEntry | null]>,
    live: boolean,
  ): Promise<{ applied: ChangeKind | false; bytes: number }> {
    const base = this.base!;
    const p = c.p;
    const R: Sig | null = c.t === '-' ? null : toSig(c);
    const isFile = c.t === 'f';
    const skip = async (): Promise<{ applied: false; bytes: number }> => {
      if (isFile) await reader.content(() => undefined);
      return { applied: false, bytes: 0 };
    };
    if (isInternalPath(p) || (!req?.copy && this.downloadIgnored(p, c.t === 'd'))) return skip();
    // Older than what another channel already told us about this path.
    if (!req?.copy && !this.fresh(p, c.q)) return skip();

    let target = req?.target ?? p;
    let expect: Sig | null | undefined = req?.expect;
    const B = base.get(p);
    if (!req?.copy && (!req || live)) {
      if (sameSide(R, B?.r ?? null)) return skip(); // an echo of our own write, or old news
      const L = this.replica.stat(p);
      const localChanged = !sameSide(L, B?.l ?? null);
      if (localChanged) {
        if ((L && R && sameAcross(L, R)) || (!L && !R)) {
          const entry = L && R ? { l: L, r: R } : null;
          if (entry) base.set(p, entry);
          else base.delete(p);
          changes.push([p, entry]);
          return skip();
        }
        if (L) {
          // Local edits not yet uploaded win; the container's version is kept beside them.
          const entry: BaseEntry = { l: B?.l ?? null, r: R };
          base.set(p, entry);
          changes.push([p, entry]);
          this.dirty.add(p);
          this.wake?.();
          if (R?.t !== 'f') {
            if (R || B?.r) this.deps.emit({ type: 'conflict', path: this.ref, file: p, winner: 'local', message: `${p} changed on both sides; the local version wins` });
            return skip();
          }
          target = conflictPath(p, 'remote', this.deps.now());
          expect = null;
          this.deps.emit({ type: 'conflict', path: this.ref, file: p, winner: 'local', copy: target, message: `${p} changed on both sides; the local version wins, the container's is kept as ${target}` });
        }
      }
      if (target === p) expect = L;
    }

    const copy = target !== p;
    const kind: ChangeKind = !R ? 'deleted' : R.t === 'd' ? 'dir' : 'file';
    const record = (res: { conflict: boolean; sig?: Sig | null; current?: Sig | null }): ChangeKind | false => {
      if (res.conflict) {
        // The local file changed between our check and the rename: its next upload settles it.
        this.dirty.add(p);
        return false;
      }
      if (copy) return false;
      const entry = res.sig && R ? { l: res.sig, r: R } : null;
      if (entry) base.set(p, entry);
      else for (const k of [...base.keys()]) if (isWithin(k, p)) base.delete(k);
      changes.push([p, entry]);
      return kind;
    };
    try {
      if (!R) {
        if (copy) return { applied: false, bytes: 0 };
        const L = this.replica.stat(p);
        if (!L) return { applied: record({ conflict: false, sig: null }), bytes: 0 };
        if (L.t === 'd') return { applied: this.removeLocalTree(p, changes) ? 'deleted' : false, bytes: 0 };
        return { applied: record(this.replica.remove(p, { expect })), bytes: 0 };
      }
      if (R.t === 'd') return { applied: record(this.replica.mkdir(target, R.x, expect === null ? undefined : expect, verified)), bytes: 0 };
      if (R.t === 'l') return { applied: record(this.replica.symlink(target, R.l ?? '', expect, verified)), bytes: 0 };
      if (R.s <= INLINE_CONTENT_MAX) {
        const parts: Buffer[] = [];
        const ok = await reader.content((d) => void parts.push(d));
        if (!ok) return { applied: false, bytes: 0 };
        const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        return { applied: record(this.replica.writeFile(target, data, R, expect, verified)), bytes: data.length };
      }
      const sink = await this.replica.beginFile(target, R, verified).catch(async (e: unknown) => {
        await reader.content(() => undefined);
        throw e;
      });
      let ok = false;
      try {
        // bandwidthLimits.download: a streamed file is throttled as it arrives (a file within the
        // channel's window would otherwise land at full speed); consuming slowly slows the sender.
        ok = await reader.content(async (d) => {
          await this.downLimit.take(d.length);
          await sink.write(d);
        });
      } finally {
        if (!ok) await sink.abort();
      }
      if (!ok) return { applied: false, bytes: 0 };
      return { applied: record(await sink.commit(expect)), bytes: R.s };
    } catch (e) {
      this.deps.emit({ type: 'error', path: this.ref, message: `cannot write ${target} locally: ${(e as Error).message}`, fatal: false });
      return { applied: false, bytes: 0 };
    }
  }

  /**
   * The container deleted directory `p`: delete what is below it locally when it is unchanged since
   * the last sync; keep local edits (they go up again, recreating what they need).
   */
  private removeLocalTree(p: string, changes: Array<[string, BaseEntry | null]>): boolean {
    const base = this.base!;
    const below = [...this.scanUnderSync(p)].sort((a, b) => compareForDelete(a[0], b[0]));
    let kept = false;
    for (const [q, L] of below) {
      const B = base.get(q);
      if (L.t === 'd') {
        const res = this.replica.remove(q, { recursive: false });
        if (res.conflict) kept = true;
        else {
          base.delete(q);
          changes.push([q, null]);
        }
        continue;
      }
      if (B && sameSide(L, B.l)) {
        this.replica.remove(q, { expect: L });
        base.delete(q);
        changes.push([q, null]);
      } else {
        kept = true;
        this.dirty.add(q);
      }
    }
    const res = this.replica.remove(p, { recursive: false });
    if (res.conflict || kept) {
      const L = this.replica.stat(p);
      const entry: BaseEntry = { l: L, r: null };
      base.set(p, entry);
      changes.push([p, entry]);
      this.dirty.add(p);
      this.wake?.();
      return false;
    }
    base.delete(p);
    changes.push([p, null]);
    return true;
  }

  private scanUnderSync(p: string): Map<string, Sig> {
    // Small subtrees in practice; the async scan would let the tree change under us mid-walk anyway.
    const out = new Map<string, Sig>();
    const walk = (rel: string) => {
      let names: string[];
      try {
        names = fs.readdirSync(this.replica.abs(rel));
      } catch {
        return;
      }
      for (const name of names) {
        const q = `${rel}/${name}`;
        if (isInternalPath(q)) continue;
        let sig: Sig | null;
        try {
          sig = this.replica.stat(q);
        } catch {
          continue;
        }
        if (!sig) continue;
        out.set(q, sig);
        if (sig.t === 'd') walk(q);
      }
    };
    walk(p);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Live sync

  /**
   * A MSG between the records of a scan, watch or read channel: the sidecar's notice of a container
   * name it does not sync (unsafe here). Said once per name (at most REFUSED_NOTICES_MAX per path).
   */
  private onMessage(value: unknown): void {
    let n: ReturnType<typeof parseRefusedNotice>;
    try {
      n = parseRefusedNotice(value);
    } catch {
      return; // a malformed notice tells nothing
    }
    if (!n) return;
    if ('more' in n || this.refusedShown.size >= REFUSED_NOTICES_MAX) {
      if (this.refusedMoreShown) return;
      this.refusedMoreShown = true;
      this.deps.emit({ type: 'warning', path: this.ref, message: 'container: more names that cannot be synced here are skipped; not listed' });
      return;
    }
    if (this.refusedShown.has(n.p)) return;
    this.refusedShown.add(n.p);
    this.deps.emit({ type: 'warning', path: this.ref, message: `container: skipped ${showPath(n.p)}: ${n.why}; names like that cannot be synced safely, it stays in the container` });
  }

  /** Remote change events → local applies (small files carry their content; big ones are fetched). */
  private async consumeRemote(scope: RunScope, watchCh: Channel): Promise<void> {
    const reader = new RecordReader(watchCh);
    const verified = new Set<string>();
    let batch = { set: new ChangeSet(), bytes: 0, t0: 0 };
    let report: NodeJS.Timeout | undefined;
    const downloader = this.downloadLoop(scope).catch((e: unknown) => {
      if (!scope.over) this.abort(e instanceof Error ? e : new Error(String(e)));
    });
    try {
      for (;;) {
        const rec: Rec | null = await reader.next();
        if (rec === null) break;
        if (rec.tag === 'msg') {
          this.onMessage(rec.value);
          continue;
        }
        if (rec.tag !== 'S' && rec.tag !== 'H') throw new Error(`watch: unexpected ${rec.tag} record`);
        if (!rec.change) {
          if (rec.isFile) await reader.content(() => undefined);
          this.deps.emit({ type: 'warning', path: this.ref, message: `container: ${rec.message}` });
          continue;
        }
        if (!batch.t0) batch.t0 = performance.now();
        const changes: Array<[string, BaseEntry | null]> = [];
        if (rec.tag === 'S') {
          // A file too big to ride along: fetch it (the decision is made again when it arrives).
          const c = rec.change;
          if (c.t !== '-' && !this.downloadIgnored(c.p, c.t === 'd') && !isInternalPath(c.p) && this.fresh(c.p, c.q, false) && !sameSide(toSig(c), this.base!.get(c.p)?.r ?? null)) {
            this.queueDownload({ p: c.p, target: c.p, expect: null, copy: false });
          }
          continue;
        }
        verified.clear();
        const got = await this.applyRemote(reader, rec.change, undefined, verified, changes, true);
        this.journal(changes);
        if (got.applied) {
          batch.set.add(rec.change.p, got.applied);
          batch.bytes += got.bytes;
        }
        await this.downLimit.take(got.bytes);
        // A batch is what arrives without a pause of a few ms.
        if (!report && batch.set.size) {
          report = setTimeout(() => {
            report = undefined;
            const b = batch;
            batch = { set: new ChangeSet(), bytes: 0, t0: 0 };
            if (b.set.size) this.reportBatch('down', b.set, b.bytes, b.t0);
          }, 5);
        }
      }
      // The sidecar never ends a watch by itself: that it did is a failure of this path.
      if (!scope.over) throw new Error('the sidecar stopped watching the sync path');
    } catch (e) {
      // Ends the run first, so the downloads below stop waiting for more.
      if (!scope.over) this.abort(e instanceof Error ? e : new Error(String(e)));
      if (scope.failure === e) throw e;
    } finally {
      if (report) clearTimeout(report);
      this.downloadWake?.();
      await downloader;
    }
  }

  /** Big files announced by the watch (and conflict copies from uploads), fetched in batches. */
  private async downloadLoop(scope: RunScope): Promise<void> {
    while (!scope.over && !this.stopped) {
      if (!this.downloadQueue.length) {
        await Promise.race([new Promise<void>((r) => (this.downloadWake = r)), scope.ended]);
        this.downloadWake = undefined;
        continue;
      }
      const reqs = this.downloadQueue.splice(0);
      const t0 = performance.now();
      const got = await this.downloadStream(scope.conn, reqs, () => undefined, true);
      if (got.applied.size) this.reportBatch('down', got.applied, got.bytes, t0);
    }
  }

  /** Local changes → upload batches, one batch in flight at a time. */
  private async uploadLoop(scope: RunScope): Promise<void> {
    const conn = scope.conn;
    if (this.cfg.disableUpload) {
      await scope.ended;
      return;
    }
    const settle = this.deps.settleMs ?? DEFAULT_SETTLE_MS;
    while (!scope.over && !this.stopped) {
      if (!this.dirty.size) {
        await Promise.race([new Promise<void>((r) => (this.wake = r)), scope.ended]);
        this.wake = undefined;
        continue;
      }
      if (settle > 0) await new Promise((r) => setTimeout(r, settle));
      const paths = [...this.dirty];
      this.dirty.clear();
      const t0 = performance.now();
      const items = this.liveUploads(paths);
      if (!items.length) continue;
      let res: { applied: ChangeSet; bytes: number };
      try {
        res = await this.uploadMany(conn, items, () => undefined, true);
      } catch (e) {
        // The connection broke mid-batch: these paths go again after the reconnect's initial sync.
        for (const it of items) this.dirty.add(it.p);
        if (scope.over) return;
        throw e;
      }
      if (res.applied.size) {
        this.reportBatch('up', res.applied, res.bytes, t0);
        await this.deps.onRemoteChanged(res.applied.changed(), false);
      }
      if (this.deps.store.wantsCompaction) this.deps.store.save({ replicaId: this.replicaId, complete: true, entries: this.base! });
    }
  }

  private reportBatch(direction: 'up' | 'down', set: ChangeSet, bytes: number, t0: number): void {
    this.deps.emit({ type: 'batch', path: this.ref, direction, files: set.size, bytes, ms: Math.round(performance.now() - t0), paths: set.listed() });
    this.deps.emit({ type: direction === 'up' ? 'uploaded' : 'downloaded', path: this.ref, initial: false, ...set.changed() });
  }

  /** What a set of changed local paths means for the container, against the base. */
  private liveUploads(paths: string[]): Upload[] {
    const base = this.base!;
    const out = new Map<string, Upload>();
    for (const p of paths.sort()) {
      if (isInternalPath(p)) continue;
      let L: Sig | null;
      try {
        L = this.replica.stat(p);
      } catch {
        continue;
      }
      if (this.uploadIgnored(p, (L ?? base.get(p)?.l)?.t === 'd')) continue;
      const B = base.get(p);
      if (sameSide(L, B?.l ?? null)) continue; // unchanged since the last sync: an echo or nothing
      const expectRemote = (q: string, isDir: boolean) => (this.download.ignores(q, isDir) || this.cfg.disableDownload ? undefined : (base.get(q)?.r ?? null));
      if (!L) {
        if (!B?.r) {
          if (B) {
            base.delete(p);
            this.journal([[p, null]]);
          }
          continue;
        }
        if (B.l?.t === 'd' || B.r.t === 'd') {
          // A directory went: its known children first (each compared), then the directory if empty.
          for (const [q, e] of base) {
            if (q === p || !isWithin(q, p) || out.has(q) || !e.r) continue;
            if (this.replica.stat(q)) continue;
            out.set(q, { p: q, sig: null, expect: e.r });
          }
        }
        out.set(p, { p, sig: null, expect: B.r });
        continue;
      }
      out.set(p, { p, sig: L, expect: expectRemote(p, L.t === 'd') });
      if (L.t === 'd' && (!B?.l || B.l.t !== 'd')) {
        // A new directory (created, or moved in): everything below it is new too.
        for (const [q, sig] of this.scanUnderSync(p)) {
          if (!out.has(q) && !this.uploadIgnored(q, sig.t === 'd') && !sameSide(sig, base.get(q)?.l ?? null)) out.set(q, { p: q, sig, expect: expectRemote(q, sig.t === 'd') });
        }
      }
    }
    return [...out.values()];
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * True unless observation `q` of `p` is older than one already seen (then it is stale news).
   * Records it as the newest unless `record` is false.
   */
  private fresh(p: string, q: number | undefined, record = true): boolean {
    if (q === undefined) return true;
    const seen = this.remoteSeq.get(p);
    if (seen !== undefined && q < seen) return false;
    if (record) this.remoteSeq.set(p, q);
    return true;
  }

  private forgetBase(p: string): void {
    const base = this.base!;
    const changes: Array<[string, BaseEntry | null]> = [];
    for (const k of [...base.keys()]) {
      if (isWithin(k, p)) {
        base.delete(k);
        changes.push([k, null]);
      }
    }
    this.journal(changes);
  }

  private journal(changes: ReadonlyArray<[string, BaseEntry | null]>): void {
    if (!changes.length) return;
    try {
      this.deps.store.append(changes);
    } catch (e) {
      this.deps.emit({ type: 'warning', path: this.ref, message: `cannot record the sync state in ${this.deps.store.file}.log: ${(e as Error).message}` });
    }
  }

  /** Paths changed locally and not yet uploaded (tests, status). */
  get pendingLocal(): number {
    return this.dirty.size;
  }
}

/** One run of a path on a connection: it ends with the connection, or alone when the path fails. */
class RunScope {
  private done = false;
  private resolveEnd!: () => void;
  /** Resolves when the run ends (the connection closed, or stop()). */
  readonly ended: Promise<void> = new Promise((r) => (this.resolveEnd = r));
  /** The first error that ended it (run() rejects with it). */
  failure: Error | undefined;

  constructor(readonly conn: Connection) {
    void conn.closed.then(
      () => this.stop(),
      () => this.stop(),
    );
  }

  get over(): boolean {
    return this.done || this.conn.isClosed;
  }

  stop(failure?: Error): void {
    if (this.done) return;
    if (failure) this.failure = failure;
    this.done = true;
    this.resolveEnd();
  }
}

/**
 * A single-file sync (`file: true`) syncs the file's folder with everything but the file excluded:
 * `/*` then `!/<name>`, the name escaped for .gitignore syntax.
 */
export function singleFilePatterns(name: string): string[] {
  const escaped = name.replace(/[\\*?[\]]/g, (c) => `\\${c}`).replace(/ +$/, (sp) => sp.replace(/ /g, '\\ '));
  return ['/*', `!/${escaped}`];
}

