// Change events for a directory tree, for file sync (ADR 0005 has the measurements behind this design).
//
// Why our own watcher rather than chokidar or @parcel/watcher (figures in the ADR):
// - chokidar 5 puts an fs.watch on every file as well as every directory: on a 100,000-file tree that is
//   ~105,000 inotify watches and several hundred MB of JS objects.
// - @parcel/watcher holds events back in a native debounce (50 ms whenever the previous batch was less than
//   500 ms ago), drops inotify queue overflows without telling anyone, does not look inside a directory it
//   starts watching (files created right after `mkdir`, or a tree moved in from outside, are lost), and its
//   ignore list cannot be a function.
// So: Node's fs.watch on each *directory* only (one inotify watch per directory, like parcel), a state tree
// of what we have seen, and every raw event is settled by `lstat` against that state. Events therefore
// describe state transitions (create/update/delete), never raw kernel noise, and any lost or coalesced
// raw event can be repaired by rescanning a directory.
//
// Linux specifics that shape the code:
// - libuv reads the whole inotify queue in one go and silently drops IN_Q_OVERFLOW. An overflow therefore
//   shows up as one burst of exactly fs.inotify.max_queued_events callbacks; a burst of half that size
//   triggers a full rescan (cheap next to losing an edit) and a warning.
// - inotify_add_watch fails with ENOSPC at fs.inotify.max_user_watches. The directories that do not fit are
//   polled instead (mtime/size/inode/mode every pollIntervalMs) and one warning names the sysctl: a slower
//   sync beats a dead one, and the fix needs root, which the agent should not ask for.
// On macOS and Windows `auto` uses fs.watch(root, { recursive: true }) (FSEvents / ReadDirectoryChangesW:
// one kernel subscription for the whole tree) with the same lstat settling.
import { watch as fsWatch, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';

export type WatchEventKind = 'create' | 'update' | 'delete';

export interface WatchEvent {
  /** Relative to the root, '/'-separated, never empty, never starting with '/' or containing '..'. */
  path: string;
  kind: WatchEventKind;
  /**
   * Whether the entry is (for `delete`: was) a directory. A directory's `delete` stands for its whole
   * subtree: the entries below it are not listed separately (they may be, when their removal was seen
   * first). Symlinks are reported as non-directories and never followed.
   */
  isDir: boolean;
}

export interface TreeWatcher {
  /** Resolves once every directory is watched (or polled); rejects with a WatcherError if the root is unusable. */
  ready: Promise<void>;
  /** Stops all events and releases every watch; idempotent. */
  close(): Promise<void>;
  /** Counts for status lines and tests. */
  stats(): WatcherStats;
}

export interface WatcherStats {
  dirs: number;
  files: number;
  /** Directories with their own kernel watch (per-directory backend) or 1 for a recursive watch. */
  watched: number;
  /** Directories polled (all of them with `polling`, the ones past the watch limit otherwise). */
  polled: number;
}

/**
 * `per-directory`: fs.watch on each directory (inotify on Linux). `recursive`: one fs.watch(root, { recursive })
 * (native on macOS and Windows; on Linux Node 20 emulates it with a watch per file, so `auto` never picks it
 * there). `auto`: recursive on macOS and Windows, per-directory elsewhere.
 */
export type WatchBackend = 'auto' | 'per-directory' | 'recursive';

/** A kernel watch on one directory; the seam tests use to simulate exhausted watch limits. */
export interface DirWatchHandle {
  close(): void;
}
export type DirWatchFn = (
  absDir: string,
  recursive: boolean,
  listener: (eventType: string, filename: string | null) => void,
  onError: (err: Error) => void,
) => DirWatchHandle;

export interface WatchTreeOptions {
  /** true = skip: a directory is then neither watched nor descended into, a file never reported. */
  ignore?: (rel: string, isDir: boolean) => boolean;
  /** Periodic tree walk comparing mtime/size/inode/mode instead of kernel events (DevSpace's `polling`). */
  polling?: boolean;
  /** Polling period, default 1000 ms (also used for directories past the watch limit). */
  pollIntervalMs?: number;
  /**
   * A polling walk pauses this long (ms) after every 100 entries it checks: DevSpace's
   * `throttleChangeDetection`, a slower walk for less CPU on a big tree. Default 0 (no pause).
   */
  throttleMs?: number;
  /** Raw events arriving within this window after the first one go out as one batch; default 2 ms. */
  coalesceMs?: number;
  onEvents: (events: WatchEvent[]) => void;
  /** Errors after `ready`. `err.fatal` says whether the watcher stopped (only when the root itself goes away). */
  onError: (err: Error) => void;
  /** Degraded but working (watch limit reached, queue overflow repaired). Without it warnings go to onError. */
  onWarning?: (warning: WatcherError) => void;
  backend?: WatchBackend;
  /** Replaces fs.watch (tests). */
  watchFn?: DirWatchFn;
}

export type WatcherErrorCode = 'root' | 'options' | 'watch-limit' | 'overflow' | 'io';

export class WatcherError extends Error {
  override readonly name = 'WatcherError';
  constructor(
    readonly code: WatcherErrorCode,
    message: string,
    /** The watcher stopped because of it. */
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pure decisions

/** What lstat says about one entry (only directories, regular files and symlinks are tracked). */
export interface WatchedStat {
  dir: boolean;
  ino: number;
  size: number;
  mtimeMs: number;
  mode: number;
}

export type WatchEntryAction = 'none' | 'create' | 'update' | 'delete' | 'replace';

/**
 * Settles one entry: what we knew about it, what lstat shows now, and whether a content event (inotify
 * IN_MODIFY/IN_ATTRIB, fs.watch 'change') was seen for it. A content event always counts as an update
 * because mtime has only the kernel's coarse clock resolution (a same-size rewrite within one tick keeps
 * size and mtime). A directory is never "updated"; a directory with a different inode was replaced.
 */
export function planWatchEntry(known: WatchedStat | undefined, seen: WatchedStat | undefined, contentEvent: boolean): WatchEntryAction {
  if (!known) return seen ? 'create' : 'none';
  if (!seen) return 'delete';
  if (known.dir !== seen.dir) return 'replace';
  if (seen.dir) return known.ino === seen.ino ? 'none' : 'replace';
  if (contentEvent) return 'update';
  const same = known.ino === seen.ino && known.size === seen.size && known.mtimeMs === seen.mtimeMs && known.mode === seen.mode;
  return same ? 'none' : 'update';
}

/** One outgoing batch: repeats of the same (path, kind) are dropped and an update right after a create is folded into it. */
export class WatchEventBatch {
  readonly events: WatchEvent[] = [];
  private readonly last = new Map<string, WatchEvent>();

  add(e: WatchEvent): void {
    const prev = this.last.get(e.path);
    if (prev && (prev.kind === e.kind || (prev.kind === 'create' && e.kind === 'update'))) return;
    this.events.push(e);
    this.last.set(e.path, e);
  }
}

/** Joins a directory's relative path and an entry name. */
function childRel(dirRel: string, name: string): string {
  return dirRel === '' ? name : `${dirRel}/${name}`;
}

/**
 * Splits an event path from a recursive watch into its parts ('\\' is a separator only on Windows; elsewhere
 * it is a legal name character), or undefined when it could leave the root (never expected from the kernel;
 * refused rather than trusted).
 */
export function splitWatchPath(filename: string, windows = process.platform === 'win32'): string[] | undefined {
  const parts = filename.split(windows ? /[\\/]+/ : /\/+/).filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) return undefined;
  return parts;
}

// ---------------------------------------------------------------------------------------------------------
// State

interface FileNode extends WatchedStat {
  dir: false;
}

interface DirNode extends WatchedStat {
  dir: true;
  rel: string;
  depth: number;
  children: Map<string, Node>;
  handle?: DirWatchHandle;
  /** Walked every poll interval instead of (or because it could not get) a kernel watch. */
  polled: boolean;
  /** Its watch failed on a limit (ENOSPC/EMFILE): try again at each poll, the limit may have room now. */
  retryWatch: boolean;
  /** Dropped from the tree: late events and queued work for it are ignored. */
  removed: boolean;
}

type Node = FileNode | DirNode;

const DEFAULT_POLL_MS = 1000;
/** A throttled polling walk pauses after this many entries (DevSpace's figure). */
export const THROTTLE_EVERY = 100;
const DEFAULT_COALESCE_MS = 2;
/**
 * File system calls are synchronous (lstat is a few microseconds; the async API costs a thread-pool round trip
 * and a promise each: 4× the CPU for the initial crawl of 100,000 files), in slices of at most this
 * long so the event loop stays responsive.
 */
const SLICE_MS = 8;
const RECOMMENDED_WATCHES = 524288;

/** `undefined`: gone (or a type we never sync: fifo, socket, device). `null`: could not be read; keep what we knew. */
function observe(abs: string): WatchedStat | undefined | null {
  let st: Stats | undefined;
  try {
    st = lstatSync(abs, { throwIfNoEntry: false });
  } catch (err) {
    return isGone(err) ? undefined : null;
  }
  if (!st || (!st.isDirectory() && !st.isFile() && !st.isSymbolicLink())) return undefined;
  return { dir: st.isDirectory(), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode };
}

function fileNode(o: WatchedStat): FileNode {
  return { dir: false, ino: o.ino, size: o.size, mtimeMs: o.mtimeMs, mode: o.mode };
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

function isGone(err: unknown): boolean {
  const code = errCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function readProcNumber(file: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** throttleChangeDetection for one polling walk: `await t.tick()` after each entry checked. */
class Throttle {
  private n = 0;
  constructor(
    private readonly ms: number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}
  async tick(): Promise<void> {
    if (++this.n % THROTTLE_EVERY === 0) await this.sleep(this.ms);
  }
}

/** Time slicing for long synchronous walks: `if (s.due()) await s.pause()`. */
class Slicer {
  private start = performance.now();
  private calls = 0;
  due(): boolean {
    // Reading the clock for every entry showed up in profiles; every 32nd is fine-grained enough.
    return (++this.calls & 31) === 0 && performance.now() - this.start >= SLICE_MS;
  }
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.start = performance.now();
  }
}

const nodeWatch: DirWatchFn = (absDir, recursive, listener, onError) => {
  const w = fsWatch(absDir, { recursive, persistent: true, encoding: 'utf8' }, listener);
  w.on('error', onError);
  return w;
};

// ---------------------------------------------------------------------------------------------------------
// Engine

class Watch {
  private readonly ignore: (rel: string, isDir: boolean) => boolean;
  private readonly pollMs: number;
  private readonly throttleMs: number;
  /** Wakes the throttle pauses of a walk in progress (close() must not wait for them). */
  private readonly sleepers = new Set<() => void>();
  private readonly coalesceMs: number;
  private readonly watchFn: DirWatchFn;
  private readonly mode: 'per-directory' | 'recursive' | 'polling';
  private readonly dirs = new Map<string, DirNode>();
  private rootNode: DirNode | undefined;
  private readonly rootSlash: string;
  private recursiveHandle: DirWatchHandle | undefined;
  private files = 0;

  // Raw events waiting for the next flush: per directory, entry name → a content event was seen.
  private dirty = new Map<DirNode, Map<string, boolean>>();
  private rescan = new Set<DirNode>();
  private reconcileAll = false;

  private started = false;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private flushTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private burst = 0;
  private readonly overflowBurst: number;
  private limitWarned = false;
  private limitError: unknown;
  readonly ready: Promise<void>;

  constructor(
    private readonly root: string,
    private readonly opts: WatchTreeOptions,
  ) {
    this.rootSlash = root.endsWith('/') || root.endsWith(path.sep) ? root : `${root}/`;
    this.ignore = opts.ignore ?? (() => false);
    this.pollMs = opts.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.throttleMs = opts.throttleMs ?? 0;
    this.coalesceMs = opts.coalesceMs ?? DEFAULT_COALESCE_MS;
    this.watchFn = opts.watchFn ?? nodeWatch;
    const backend = opts.backend ?? 'auto';
    this.mode = opts.polling
      ? 'polling'
      : backend === 'recursive' || (backend === 'auto' && (process.platform === 'darwin' || process.platform === 'win32'))
        ? 'recursive'
        : 'per-directory';
    // An overflowed inotify queue arrives as one burst of max_queued_events callbacks (libuv drops the
    // IN_Q_OVERFLOW record itself); half of that is a safe trigger, since a rescan costs far less than a lost edit.
    const maxQueued = readProcNumber('/proc/sys/fs/inotify/max_queued_events') ?? 16384;
    this.overflowBurst = Math.max(256, Math.floor(maxQueued / 2));
    this.ready = this.start();
    this.ready.catch(() => undefined); // reported through `ready`; never an unhandled rejection
  }

  stats(): WatcherStats {
    let watched = this.recursiveHandle ? 1 : 0;
    let polled = 0;
    for (const d of this.dirs.values()) {
      if (d.handle) watched++;
      if (d.polled) polled++;
    }
    return { dirs: this.dirs.size, files: this.files, watched, polled };
  }

  async close(): Promise<void> {
    this.shutdown();
    await this.chain.catch(() => undefined);
    await this.ready.catch(() => undefined);
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.pollTimer);
    this.recursiveHandle?.close();
    this.recursiveHandle = undefined;
    for (const d of this.dirs.values()) this.unwatch(d);
    for (const wake of [...this.sleepers]) wake();
  }

  /** A throttle pause; ends early when the watcher closes. */
  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  private abs(rel: string): string {
    // Concatenation, not path.join: rel is already normal ('/' works on Windows too), and join's
    // normalisation was a tenth of the crawl.
    return rel === '' ? this.root : this.rootSlash + rel;
  }

  private async start(): Promise<void> {
    let st: Stats;
    try {
      st = await lstat(this.root);
    } catch (err) {
      throw new WatcherError('root', `cannot watch ${this.root}: ${isGone(err) ? 'no such directory' : (err as Error).message}`, true);
    }
    if (!st.isDirectory()) throw new WatcherError('root', `cannot watch ${this.root}: not a directory`, true);
    const root = this.newDir('', 0, st.ino);
    this.rootNode = root;
    if (this.mode === 'recursive') {
      this.recursiveHandle = this.watchFn(
        this.root,
        true,
        (type, name) => this.onRecursiveEvent(type, name),
        (err) => this.onRecursiveError(err),
      );
    }
    await this.scanTree([root], undefined, new Slicer());
    if (this.closed) return;
    this.started = true;
    this.warnLimit();
    if (this.dirty.size > 0 || this.rescan.size > 0 || this.reconcileAll) this.scheduleFlush();
    this.schedulePoll();
  }

  private newDir(rel: string, depth: number, ino: number): DirNode {
    const d: DirNode = {
      dir: true,
      rel,
      depth,
      ino,
      size: 0,
      mtimeMs: 0,
      mode: 0,
      children: new Map(),
      polled: this.mode === 'polling',
      retryWatch: false,
      removed: false,
    };
    this.dirs.set(rel, d);
    return d;
  }

  private unwatch(d: DirNode): void {
    d.handle?.close();
    d.handle = undefined;
  }

  private watchDir(d: DirNode): void {
    if (this.mode !== 'per-directory' || d.handle || this.closed) return;
    try {
      d.handle = this.watchFn(
        this.abs(d.rel),
        false,
        (type, name) => this.onDirEvent(d, type, name),
        (err) => this.onDirWatchError(d, err),
      );
      d.polled = false;
      d.retryWatch = false;
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // gone already; its parent's event settles it
      // ENOSPC (max_user_watches), EMFILE (max_user_instances or fds), EACCES: poll what we cannot watch.
      const wasPolled = d.polled;
      d.polled = true;
      d.retryWatch = code === 'ENOSPC' || code === 'EMFILE';
      if (d.retryWatch) this.limitError ??= err;
      else if (!wasPolled) this.warn(new WatcherError('io', `cannot watch ${this.abs(d.rel)} (${code ?? String(err)}); polling it every ${this.pollMs} ms`, false));
    }
  }

  private onDirWatchError(d: DirNode, err: Error): void {
    if (this.closed || d.removed) return;
    this.unwatch(d);
    d.polled = true;
    this.rescan.add(d);
    this.warn(new WatcherError('io', `watch on ${this.abs(d.rel)} failed (${errCode(err) ?? err.message}); polling it every ${this.pollMs} ms`, false));
    this.scheduleFlush();
    this.schedulePoll();
  }

  private onRecursiveError(err: Error): void {
    if (this.closed) return;
    this.recursiveHandle?.close();
    this.recursiveHandle = undefined;
    for (const d of this.dirs.values()) d.polled = true;
    this.reconcileAll = true;
    this.warn(new WatcherError('io', `recursive watch on ${this.root} failed (${errCode(err) ?? err.message}); polling every ${this.pollMs} ms`, false));
    this.scheduleFlush();
    this.schedulePoll();
  }

  // -- raw events ------------------------------------------------------------------------------------------

  /** Per-directory (inotify) mode only: an overflowed queue's signature is one huge burst. */
  private countBurst(): void {
    if (this.burst++ === 0) {
      // setImmediate runs after the poll phase, i.e. after every callback of the inotify read that started the burst.
      setImmediate(() => {
        const n = this.burst;
        this.burst = 0;
        if (n >= this.overflowBurst && !this.closed) {
          this.reconcileAll = true;
          this.warn(
            new WatcherError(
              'overflow',
              `${n} file events arrived at once, so the inotify queue may have overflowed; rescanning the tree so no change is lost (raise fs.inotify.max_queued_events to avoid it)`,
              false,
            ),
          );
          this.scheduleFlush();
        }
      });
    }
  }

  private markDirty(d: DirNode, name: string, content: boolean): void {
    let names = this.dirty.get(d);
    if (!names) this.dirty.set(d, (names = new Map()));
    names.set(name, content || names.get(name) === true);
  }

  private onDirEvent(d: DirNode, type: string, name: string | null): void {
    if (this.closed || d.removed) return;
    this.countBurst();
    if (name === null || name === '' || name.includes('/')) this.rescan.add(d);
    else this.markDirty(d, name, type === 'change');
    this.scheduleFlush();
  }

  private onRecursiveEvent(type: string, filename: string | null): void {
    if (this.closed) return;
    const parts = filename === null ? undefined : splitWatchPath(filename);
    if (!parts) {
      // No name: the platform lost track (Windows buffer overflow, FSEvents "must scan subdirs").
      this.reconcileAll = true;
      this.scheduleFlush();
      return;
    }
    // Settle the event at the deepest directory we know; an unknown parent means a new (or ignored)
    // directory, which is settled, and scanned if new, as one entry of its known ancestor.
    let dir = this.rootNode;
    let i = 0;
    while (dir && i < parts.length - 1) {
      const child = dir.children.get(parts[i] as string);
      if (!child?.dir) break;
      dir = child;
      i++;
    }
    if (!dir) return;
    const name = parts[i] as string;
    this.markDirty(dir, name, type === 'change' && i === parts.length - 1);
    // FSEvents may report only a directory for changes below it: look inside known directories too.
    const target = dir.children.get(name);
    if (target?.dir && i === parts.length - 1) this.rescan.add(target);
    this.scheduleFlush();
  }

  // -- settling --------------------------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushTimer || this.closed || !this.started) return;
    // Fixed window from the first event (not reset by later ones) so latency stays bounded under load.
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.enqueue(() => this.flush());
    }, this.coalesceMs);
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.closed || !this.started) return;
    if (this.mode !== 'polling' && ![...this.dirs.values()].some((d) => d.polled)) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.enqueue(() => this.poll());
    }, this.pollMs);
  }

  /** Runs jobs one at a time, in order; a job's failure is reported, never fatal to the queue. */
  private enqueue(job: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      try {
        await job();
      } catch (err) {
        if (!this.closed) this.opts.onError(err instanceof WatcherError ? err : new WatcherError('io', `file watcher: ${(err as Error).message}`, false));
      } finally {
        this.schedulePoll();
      }
    });
  }

  private async flush(): Promise<void> {
    const dirty = this.dirty;
    const rescan = this.rescan;
    const all = this.reconcileAll;
    this.dirty = new Map();
    this.rescan = new Set();
    this.reconcileAll = false;
    if (this.rootNode && (all || dirty.has(this.rootNode) || rescan.has(this.rootNode)) && !this.checkRoot()) return;

    const batch = new WatchEventBatch();
    const slicer = new Slicer();
    const byDepth = (a: DirNode, b: DirNode) => a.depth - b.depth;
    // Parents first: a deleted or replaced parent makes its children's events moot.
    for (const d of (all ? [...this.dirs.values()] : [...rescan]).sort(byDepth)) await this.rescanDir(d, batch, slicer);
    // After a full rescan the pending entries still matter for their content events: a same-size rewrite
    // within one mtime tick is visible only through them.
    const created: DirNode[] = [];
    for (const d of [...dirty.keys()].sort(byDepth)) {
      for (const [name, content] of dirty.get(d) as Map<string, boolean>) {
        if (d.removed || this.closed) break;
        const dir = this.settle(d, name, content, batch);
        if (dir) created.push(dir);
        if (slicer.due()) await slicer.pause();
      }
    }
    await this.scanTree(created, batch, slicer);
    this.emit(batch);
    this.warnLimit();
  }

  private async poll(): Promise<void> {
    if (!this.checkRoot()) return;
    const batch = new WatchEventBatch();
    const slicer = new Slicer();
    const throttle = this.throttleMs > 0 ? new Throttle(this.throttleMs, (ms) => this.sleep(ms)) : undefined;
    for (const d of [...this.dirs.values()]) {
      if (!d.polled) continue;
      // A directory past the watch limit may fit now (watches freed by deletions elsewhere).
      if (d.retryWatch) this.watchDir(d);
      await this.rescanDir(d, batch, slicer, throttle);
    }
    this.emit(batch);
    this.warnLimit();
  }

  private emit(batch: WatchEventBatch): void {
    if (batch.events.length === 0 || this.closed) return;
    this.opts.onEvents(batch.events);
  }

  /** false (and the watcher stopped, onError told) when the root is gone or was replaced. */
  private checkRoot(): boolean {
    const root = this.rootNode;
    if (!root || this.closed) return false;
    const seen = observe(this.root);
    if (seen === null || (seen?.dir && seen.ino === root.ino)) return true;
    // Not close(): we run inside the job chain that close() waits for.
    this.shutdown();
    this.opts.onError(new WatcherError('root', `watched directory ${this.root} was removed or replaced; file watching stopped`, true));
    return false;
  }

  /** Settles one entry of a directory against lstat; returns a newly found directory, still to be scanned. */
  private settle(d: DirNode, name: string, content: boolean, batch: WatchEventBatch): DirNode | undefined {
    const rel = childRel(d.rel, name);
    let seen = observe(this.abs(rel));
    if (seen === null) return undefined;
    if (seen && this.ignore(rel, seen.dir)) seen = undefined;
    const known = d.children.get(name);
    const action = planWatchEntry(known, seen, content);
    if (action === 'none') return undefined;
    if (action === 'update') {
      d.children.set(name, fileNode(seen as WatchedStat));
      batch.add({ path: rel, kind: 'update', isDir: false });
      return undefined;
    }
    if (action === 'delete' || action === 'replace') {
      this.remove(d, name, known as Node);
      batch.add({ path: rel, kind: 'delete', isDir: (known as Node).dir });
      if (action === 'delete') return undefined;
    }
    return this.add(d, name, seen as WatchedStat, batch);
  }

  private add(parent: DirNode, name: string, seen: WatchedStat, batch: WatchEventBatch | undefined): DirNode | undefined {
    const rel = childRel(parent.rel, name);
    batch?.add({ path: rel, kind: 'create', isDir: seen.dir });
    if (!seen.dir) {
      parent.children.set(name, fileNode(seen));
      this.files++;
      return undefined;
    }
    const d = this.newDir(rel, parent.depth + 1, seen.ino);
    parent.children.set(name, d);
    return d;
  }

  private remove(parent: DirNode, name: string, node: Node): void {
    parent.children.delete(name);
    if (!node.dir) {
      this.files--;
      return;
    }
    const stack: DirNode[] = [node];
    while (stack.length > 0) {
      const d = stack.pop() as DirNode;
      d.removed = true;
      this.unwatch(d);
      this.dirs.delete(d.rel);
      for (const c of d.children.values()) {
        if (c.dir) stack.push(c);
        else this.files--;
      }
    }
  }

  /**
   * Watches and reads the given directories and everything below them. Each directory is watched before it
   * is read, so a file created right after `mkdir` is seen by the read or by the watch. With a batch,
   * everything found is reported as created.
   */
  private async scanTree(top: DirNode[], batch: WatchEventBatch | undefined, slicer: Slicer, throttle?: Throttle): Promise<void> {
    const stack = [...top];
    while (stack.length > 0) {
      const d = stack.pop() as DirNode;
      if (d.removed || this.closed) continue;
      this.watchDir(d);
      const names = this.list(d);
      if (!names) continue;
      for (const name of names) {
        if (d.removed || this.closed) break;
        const rel = childRel(d.rel, name);
        const seen = observe(this.abs(rel));
        if (seen && !d.children.has(name) && !this.ignore(rel, seen.dir)) {
          const child = this.add(d, name, seen, batch);
          if (child) stack.push(child);
        }
        if (slicer.due()) await slicer.pause();
        await throttle?.tick();
      }
    }
  }

  private list(d: DirNode): string[] | undefined {
    try {
      return readdirSync(this.abs(d.rel));
    } catch (err) {
      if (isGone(err)) return undefined; // its parent's event (or the next poll) settles it
      this.warn(new WatcherError('io', `cannot read ${this.abs(d.rel)} (${errCode(err) ?? String(err)}); its contents are not watched`, false));
      return undefined;
    }
  }

  /** Settles every entry of a directory, what is listed now and what we knew, and scans new subdirectories. */
  private async rescanDir(d: DirNode, batch: WatchEventBatch, slicer: Slicer, throttle?: Throttle): Promise<void> {
    if (d.removed || this.closed) return;
    const listed = this.list(d);
    if (!listed) return;
    const created: DirNode[] = [];
    for (const name of new Set([...listed, ...d.children.keys()])) {
      if (d.removed || this.closed) return;
      const dir = this.settle(d, name, false, batch);
      if (dir) created.push(dir);
      if (slicer.due()) await slicer.pause();
      await throttle?.tick();
    }
    await this.scanTree(created, batch, slicer, throttle);
  }

  // -- warnings --------------------------------------------------------------------------------------------

  private warn(w: WatcherError): void {
    if (this.closed) return;
    if (this.opts.onWarning) this.opts.onWarning(w);
    else this.opts.onError(w);
  }

  private warnLimit(): void {
    if (this.limitWarned || this.limitError === undefined || !this.started) return;
    this.limitWarned = true;
    const polled = this.stats().polled;
    if (errCode(this.limitError) === 'EMFILE') {
      this.warn(
        new WatcherError(
          'watch-limit',
          `too many open files or inotify instances (EMFILE): ${polled} directories are polled every ${this.pollMs} ms instead; raise \`ulimit -n\` or \`sudo sysctl fs.inotify.max_user_instances=1024\``,
          false,
        ),
      );
      return;
    }
    const limit = readProcNumber('/proc/sys/fs/inotify/max_user_watches');
    this.warn(
      new WatcherError(
        'watch-limit',
        `inotify watch limit reached (fs.inotify.max_user_watches=${limit ?? '?'}): ${polled} directories are polled every ${this.pollMs} ms instead; ` +
          `raise it with \`sudo sysctl fs.inotify.max_user_watches=${Math.max(RECOMMENDED_WATCHES, (limit ?? 0) * 2)}\` (persist it in /etc/sysctl.d/)`,
        false,
      ),
    );
  }
}

/**
 * Watches `root` and reports changes below it in batches. The initial contents are not reported: `ready`
 * resolves once they are known and watched, and every change after that is. Throws a WatcherError for bad
 * options; a missing or unusable root rejects `ready`.
 */
export function watchTree(root: string, opts: WatchTreeOptions): TreeWatcher {
  const poll = opts.pollIntervalMs;
  if (poll !== undefined && (!Number.isFinite(poll) || poll < 10)) {
    throw new WatcherError('options', `pollIntervalMs must be a number ≥ 10, got ${String(poll)}`, true);
  }
  const throttle = opts.throttleMs;
  if (throttle !== undefined && (!Number.isFinite(throttle) || throttle < 0 || throttle > 60_000)) {
    throw new WatcherError('options', `throttleMs must be between 0 and 60000, got ${String(throttle)}`, true);
  }
  const coalesce = opts.coalesceMs;
  if (coalesce !== undefined && (!Number.isFinite(coalesce) || coalesce < 0 || coalesce > 1000)) {
    throw new WatcherError('options', `coalesceMs must be between 0 and 1000, got ${String(coalesce)}`, true);
  }
  const w = new Watch(path.resolve(root), opts);
  return { ready: w.ready, close: () => w.close(), stats: () => w.stats() };
}
