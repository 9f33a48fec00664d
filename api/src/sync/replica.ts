// One side's view of a sync root: scan, read, and safe apply of changes from the other side. The
// same code runs on the laptop (agent) and in the pod (sidecar).
//
// Safety rules (docs/sync.md, "Safety"):
//  - every path is checked with checkRelPath before use;
//  - every parent component must be a real directory (lstat; a symlinked or non-directory parent
//    is refused), and missing parents are created one by one, each checked;
//  - files are written to a temp file in the same directory, opened O_EXCL|O_NOFOLLOW, then renamed
//    over the target: an existing hardlink or symlink at the target is replaced, never written
//    through; right before the rename the parent's real path is checked again (a parent swapped
//    for a symlink while we wrote is caught);
//  - symlinks are created only when their target, resolved lexically against the link's directory,
//    stays inside the root; absolute or escaping targets are refused (and skipped with a warning
//    when scanning), never followed;
//  - special files (fifo, socket, device) are skipped; files are opened O_NOFOLLOW|O_NONBLOCK so a
//    fifo swapped in cannot block a read;
//  - only permission bits 0o777 are applied (never setuid/setgid/sticky from the other side).
// Writes take an optional expectation (the signature the target must still have, null = absent):
// that is the compare-and-swap of live sync, checked right before the rename.
import { constants as FS, promises as fsp } from 'node:fs';
import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { sameSide, sigFromStats, type Sig } from './entry.js';
import { UnsafePathError, baseName, checkRelPath, isInternalPath, parentOf, pathProblem, showPath, symlinkStaysInside } from './paths.js';
import { TEMP_PREFIX } from './protocol.js';

export interface ReplicaOptions {
  /** Warnings (skipped special files, escaping symlinks, unsafe names). */
  onWarning?: (message: string) => void;
  /** The laptop's side writes conflict copies (names with CONFLICT_MARKER); the pod's side never does. */
  allowConflictCopies?: boolean;
}

export type Expect = Sig | null | undefined;

/** The target was not in the expected state: nothing was written. `current` is what is there. */
export interface Conflict {
  conflict: true;
  current: Sig | null;
}
export type ApplyResult = { conflict: false; sig: Sig | null } | Conflict;

const READ_FLAGS = FS.O_RDONLY | FS.O_NOFOLLOW | FS.O_NONBLOCK;
const TEMP_FLAGS = FS.O_WRONLY | FS.O_CREAT | FS.O_EXCL | FS.O_NOFOLLOW;
/** Temp names: unique per process (random) and per file (counter); O_EXCL catches the impossible clash. */
const TEMP_TAG = randomBytes(4).toString('hex');
let tempCounter = 0;
/** Linux tells where an open file really is; elsewhere the parent's realpath is checked instead. */
const PROC_FD = process.platform === 'linux' && fs.existsSync('/proc/self/fd');

/** lstat without an exception for a missing path (exceptions are the slow part of a miss). */
function lstatQuiet(abs: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(abs, { throwIfNoEntry: false });
  } catch (e) {
    if (errno(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

export class ApplyError extends Error {
  override readonly name = 'ApplyError';
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** `mtime` of a signature (whole ms) as the seconds utimes wants; +0.5 ms so the float rounds back to the same ms. */
function utimesSeconds(ms: number): number {
  return (ms + 0.5) / 1000;
}

export class Replica {
  private constructor(
    /** Absolute real path of the root. */
    readonly root: string,
    private readonly opts: ReplicaOptions,
  ) {}

  /** Open a root: it must exist and be a directory (its own path may go through symlinks). */
  static async open(root: string, opts: ReplicaOptions = {}): Promise<Replica> {
    let real: string;
    try {
      real = await fsp.realpath(root);
    } catch (e) {
      throw new ApplyError(`sync root ${root} does not exist (${errno(e) ?? (e as Error).message})`);
    }
    const st = await fsp.stat(real);
    if (!st.isDirectory()) throw new ApplyError(`sync root ${root} is not a directory`);
    return new Replica(real, opts);
  }

  abs(rel: string): string {
    return rel === '' ? this.root : path.join(this.root, ...rel.split('/'));
  }

  private warn(message: string): void {
    this.opts.onWarning?.(message);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /**
   * Walk the tree (or the part below `under`), honouring `ignore` (an ignored directory is not
   * entered). Internal names are skipped silently; special files, escaping symlinks and unsafe
   * names with a warning, or unsafe names through `onUnsafe` (each one, with why) when given.
   */
  async scan(ignore?: (rel: string, isDir: boolean) => boolean, under = '', onUnsafe?: (rel: string, why: string) => void): Promise<Map<string, Sig>> {
    if (under !== '') {
      checkRelPath(under);
      if (!this.parentsAreDirs(under) || this.lstatSig(under)?.t !== 'd') return new Map();
    }
    const out = new Map<string, Sig>();
    const special: string[] = [];
    const escaping: string[] = [];
    const unsafe: string[] = [];
    let sinceYield = 0;
    const walk = async (relDir: string): Promise<void> => {
      let names: fs.Dirent[];
      try {
        names = fs.readdirSync(this.abs(relDir), { withFileTypes: true });
      } catch (e) {
        // Vanished or unreadable while walking: it is not part of the tree now.
        if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return;
        if (errno(e) === 'EACCES') {
          this.warn(`cannot read directory ${relDir || '.'}: permission denied`);
          return;
        }
        throw e;
      }
      names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const dirs: string[] = [];
      for (const d of names) {
        const rel = relDir ? `${relDir}/${d.name}` : d.name;
        if (isInternalPath(rel)) continue;
        const why = pathProblem(rel);
        if (why !== undefined) {
          if (onUnsafe) onUnsafe(rel, why);
          else unsafe.push(showPath(rel));
          continue;
        }
        if (++sinceYield >= 2000) {
          sinceYield = 0;
          await new Promise((r) => setImmediate(r));
        }
        let st: fs.Stats;
        try {
          st = fs.lstatSync(this.abs(rel));
        } catch (e) {
          if (errno(e) === 'ENOENT') continue;
          throw e;
        }
        const isDir = st.isDirectory();
        if (ignore?.(rel, isDir)) continue;
        if (isDir) {
          out.set(rel, sigFromStats(st));
          dirs.push(rel);
        } else if (st.isFile()) {
          out.set(rel, sigFromStats(st));
        } else if (st.isSymbolicLink()) {
          let target: string;
          try {
            target = fs.readlinkSync(this.abs(rel));
          } catch (e) {
            if (errno(e) === 'ENOENT') continue;
            throw e;
          }
          if (!symlinkStaysInside(rel, target)) {
            escaping.push(`${rel} -> ${target}`);
            continue;
          }
          out.set(rel, sigFromStats(st, target));
        } else {
          special.push(rel);
        }
      }
      for (const d of dirs) await walk(d);
    };
    await walk(under);
    if (special.length) this.warn(`skipped ${special.length} special file${special.length === 1 ? '' : 's'} (fifo, socket or device): ${preview(special)}`);
    if (escaping.length) this.warn(`skipped ${escaping.length} symlink${escaping.length === 1 ? '' : 's'} pointing outside the sync root: ${preview(escaping)}`);
    if (unsafe.length) this.warn(`skipped ${unsafe.length} name${unsafe.length === 1 ? '' : 's'} that cannot be synced safely (control characters or backslashes): ${preview(unsafe)}`);
    return out;
  }

  /**
   * The signature at `rel`, or null when nothing is there, a parent is not a real directory, or it
   * is a special file / escaping symlink (nothing we would sync).
   */
  stat(rel: string): Sig | null {
    checkRelPath(rel);
    if (!this.parentsAreDirs(rel)) return null;
    return this.lstatSig(rel);
  }

  private lstatSig(rel: string): Sig | null {
    const abs = this.abs(rel);
    const st = lstatQuiet(abs);
    if (!st) return null;
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.readlinkSync(abs);
      } catch (e) {
        if (errno(e) === 'ENOENT') return null;
        throw e;
      }
      return sigFromStats(st, target);
    }
    if (!st.isFile() && !st.isDirectory()) return null;
    return sigFromStats(st);
  }

  /** Every parent of `rel` (below the root) is a real directory (no symlink, no file). */
  private parentsAreDirs(rel: string): boolean {
    const parts = rel.split('/');
    let cur = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      cur = path.join(cur, parts[i]!);
      if (!lstatQuiet(cur)?.isDirectory()) return false;
    }
    return true;
  }

  /**
   * Open a regular file for reading without following a symlink. Null when absent or not a regular
   * file. `changed()` tells whether it was modified since opening (compare before trusting content).
   */
  async openFile(rel: string): Promise<OpenFile | null> {
    checkRelPath(rel);
    if (!this.parentsAreDirs(rel)) return null;
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(this.abs(rel), READ_FLAGS);
    } catch (e) {
      if (['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR', 'ENXIO'].includes(errno(e) ?? '')) return null;
      throw e;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return null;
    }
    const sig = sigFromStats(st);
    let pos = 0;
    return {
      sig,
      read: async (buf, off, len) => {
        const { bytesRead } = await fh.read(buf, off, len, pos);
        pos += bytesRead;
        return bytesRead;
      },
      changed: async () => !sameSide(sigFromStats(await fh.stat()), sig),
      close: () => fh.close(),
    };
  }

  /**
   * A small file read in one go (synchronous syscalls: a handful of microseconds, no thread pool
   * round trips). Null when absent or not a regular file; `data` undefined when larger than `max`;
   * `changed` when it was modified while being read.
   */
  readSmall(rel: string, max: number): { sig: Sig; data?: Buffer; changed: boolean } | null {
    checkRelPath(rel);
    if (!this.parentsAreDirs(rel)) return null;
    let fd: number;
    try {
      fd = fs.openSync(this.abs(rel), READ_FLAGS);
    } catch (e) {
      if (['ENOENT', 'ENOTDIR', 'ELOOP', 'EISDIR', 'ENXIO'].includes(errno(e) ?? '')) return null;
      throw e;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return null;
      const sig = sigFromStats(st);
      if (sig.s > max) return { sig, changed: false };
      const data = Buffer.allocUnsafe(sig.s);
      let off = 0;
      while (off < data.length) {
        const n = fs.readSync(fd, data, off, data.length - off, off);
        if (n === 0) break;
        off += n;
      }
      const changed = off !== sig.s || !sameSide(sigFromStats(fs.fstatSync(fd)), sig);
      return { sig, data: data.subarray(0, off), changed };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** sha256 of a regular file's content (hex), or null when it is not one. */
  async hash(rel: string): Promise<string | null> {
    const f = await this.openFile(rel);
    if (!f) return null;
    try {
      const h = createHash('sha256');
      const buf = Buffer.allocUnsafe(256 * 1024);
      for (;;) {
        const n = await f.read(buf, 0, buf.length);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
      }
      return h.digest('hex');
    } finally {
      await f.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Applying

  /**
   * Create the missing parents of `rel`, one at a time; refuse a parent that is a symlink or not a
   * directory. `verified` caches directories checked during one batch.
   */
  ensureParents(rel: string, verified?: Set<string>): void {
    const parent = parentOf(rel);
    if (parent === '' || verified?.has(parent)) return;
    const parts = parent.split('/');
    let relCur = '';
    for (const part of parts) {
      relCur = relCur ? `${relCur}/${part}` : part;
      if (verified?.has(relCur)) continue;
      const abs = this.abs(relCur);
      let st = lstatQuiet(abs);
      if (!st) {
        try {
          fs.mkdirSync(abs, 0o755);
        } catch (e) {
          if (errno(e) !== 'EEXIST') throw e;
        }
        st = fs.lstatSync(abs);
      }
      if (st.isSymbolicLink()) throw new UnsafePathError(`refusing to write ${rel}: its parent ${relCur} is a symlink`);
      if (!st.isDirectory()) throw new ApplyError(`cannot write ${rel}: its parent ${relCur} is not a directory`);
      verified?.add(relCur);
    }
  }

  /**
   * The file open as `fd` (created as `created`, in the parent of `rel`) is really there: no parent
   * was swapped for a symlink since we checked. Linux: where the kernel says the open file is;
   * elsewhere: the parent's real path.
   */
  private stillInside(rel: string, fd: number | undefined, created: string): void {
    let real: string;
    let expected: string;
    try {
      if (PROC_FD && fd !== undefined) {
        real = fs.readlinkSync(`/proc/self/fd/${fd}`);
        expected = created;
      } else {
        real = fs.realpathSync.native(this.abs(parentOf(rel)));
        expected = this.abs(parentOf(rel));
      }
    } catch (e) {
      throw new ApplyError(`cannot write ${rel}: its parent vanished (${errno(e)})`);
    }
    if (real !== expected) throw new UnsafePathError(`refusing to write ${rel}: its parent moved (to ${real}) while writing`);
  }

  private tempPath(rel: string): string {
    return path.join(this.abs(parentOf(rel)), `${TEMP_PREFIX}${TEMP_TAG}-${(tempCounter++).toString(36)}`);
  }

  private checkWritable(rel: string): void {
    checkRelPath(rel);
    if (isInternalPath(rel) && !(this.opts.allowConflictCopies && !baseName(rel).startsWith(TEMP_PREFIX))) {
      throw new ApplyError(`refusing to write ${rel}: reserved name`);
    }
  }

  /** CAS check + replace of whatever is at `rel` by the prepared temp entry (checked with stillInside first). */
  private replaceWith(rel: string, tmp: string, expect: Expect): ApplyResult {
    const abs = this.abs(rel);
    const current = this.lstatSig(rel);
    if (expect !== undefined && !sameSide(current, expect)) {
      fs.rmSync(tmp, { force: true });
      return { conflict: true, current };
    }
    // A directory cannot be renamed over: the new entry replaces it and everything below it.
    if (current?.t === 'd') fs.rmSync(abs, { recursive: true, force: true });
    fs.renameSync(tmp, abs);
    return { conflict: false, sig: this.lstatSig(rel) };
  }

  /**
   * Write a whole (small) file. Replacing something: via a temp file and a rename (atomic). Creating
   * (`expect` null: nothing may be there): straight at its name with O_EXCL, which cannot write
   * through anything already there, saving the rename (the initial sync creates thousands).
   */
  writeFile(rel: string, data: Buffer, meta: { x: number; m: number }, expect?: Expect, verified?: Set<string>): ApplyResult {
    this.checkWritable(rel);
    this.ensureParents(rel, verified);
    const direct = expect === null;
    const target = direct ? this.abs(rel) : this.tempPath(rel);
    const mode = meta.x & 0o777;
    let fd: number;
    try {
      // Created with its final mode: the umask usually leaves it as is, saving a chmod.
      fd = fs.openSync(target, TEMP_FLAGS, mode);
    } catch (e) {
      if (direct && errno(e) === 'EEXIST') return { conflict: true, current: this.lstatSig(rel) };
      throw e;
    }
    let sig: Sig;
    try {
      let off = 0;
      while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
      fs.futimesSync(fd, utimesSeconds(meta.m), utimesSeconds(meta.m));
      this.stillInside(rel, fd, target);
      let st = fs.fstatSync(fd);
      if ((st.mode & 0o777) !== mode) {
        fs.fchmodSync(fd, mode);
        st = fs.fstatSync(fd);
      }
      sig = sigFromStats(st);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(target, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    if (direct) return { conflict: false, sig };
    try {
      return this.replaceWith(rel, target, expect);
    } catch (e) {
      fs.rmSync(target, { force: true });
      throw e;
    }
  }

  /** Start a streamed file write (any size); content goes to a temp file until `commit`. */
  async beginFile(rel: string, meta: { x: number; m: number }, verified?: Set<string>): Promise<FileSink> {
    this.checkWritable(rel);
    this.ensureParents(rel, verified);
    const tmp = this.tempPath(rel);
    const fh = await fsp.open(tmp, TEMP_FLAGS, 0o600);
    return new FileSink(fh, tmp, (expect) => this.replaceWith(rel, tmp, expect), meta, () => this.stillInside(rel, fh.fd, tmp));
  }

  /** Make `rel` a directory with mode `x` (replacing a file or symlink there, if the expectation allows). */
  mkdir(rel: string, x: number, expect?: Expect, verified?: Set<string>): ApplyResult {
    checkRelPath(rel);
    this.ensureParents(rel, verified);
    const abs = this.abs(rel);
    const current = this.lstatSig(rel);
    // An existing directory is what we want whatever was expected (a directory has no content).
    if (expect !== undefined && current?.t !== 'd' && !sameSide(current, expect)) return { conflict: true, current };
    if (current && current.t !== 'd') fs.rmSync(abs, { force: true });
    if (!current || current.t !== 'd') {
      try {
        fs.mkdirSync(abs, x & 0o777);
      } catch (e) {
        if (errno(e) !== 'EEXIST') throw e;
      }
    }
    const st = fs.lstatSync(abs);
    if (!st.isDirectory()) throw new ApplyError(`cannot create directory ${rel}`);
    if ((st.mode & 0o777) !== (x & 0o777)) fs.chmodSync(abs, x & 0o777);
    verified?.add(rel);
    return { conflict: false, sig: this.lstatSig(rel) };
  }

  /** Make `rel` a symlink to `target`, which must stay inside the root. */
  symlink(rel: string, target: string, expect?: Expect, verified?: Set<string>): ApplyResult {
    checkRelPath(rel);
    if (!symlinkStaysInside(rel, target)) throw new UnsafePathError(`refusing symlink ${rel} -> ${target}: it points outside the sync root`);
    this.ensureParents(rel, verified);
    const tmp = this.tempPath(rel);
    fs.symlinkSync(target, tmp);
    try {
      this.stillInside(rel, undefined, tmp);
      return this.replaceWith(rel, tmp, expect);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
  }

  /**
   * Remove `rel` (a directory with everything below it when `recursive`, else only when empty).
   * Absent already → `{ sig: null }`. A non-empty directory without `recursive` → conflict.
   */
  remove(rel: string, opts: { recursive?: boolean; expect?: Expect } = {}): ApplyResult {
    checkRelPath(rel);
    if (!this.parentsAreDirs(rel)) return { conflict: false, sig: null };
    const abs = this.abs(rel);
    const current = this.lstatSig(rel);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(abs);
    } catch (e) {
      if (errno(e) === 'ENOENT') return { conflict: false, sig: null };
      throw e;
    }
    const { expect } = opts;
    if (expect !== undefined && !sameSide(current, expect) && !(current?.t === 'd' && expect?.t === 'd')) return { conflict: true, current };
    if (st.isDirectory()) {
      if (opts.recursive) {
        // rm never follows symlinks below: it unlinks them.
        fs.rmSync(abs, { recursive: true, force: true });
      } else {
        try {
          fs.rmdirSync(abs);
        } catch (e) {
          if (errno(e) === 'ENOTEMPTY' || errno(e) === 'EEXIST') return { conflict: true, current };
          throw e;
        }
      }
    } else {
      fs.rmSync(abs, { force: true });
    }
    return { conflict: false, sig: null };
  }

  /** Rename inside the root (conflict copies of local files). Both paths checked; the target must not exist. */
  renameNoReplace(from: string, to: string, verified?: Set<string>): void {
    checkRelPath(from);
    checkRelPath(to);
    this.ensureParents(to, verified);
    if (this.lstatSig(to)) throw new ApplyError(`cannot keep ${from} as ${to}: it exists`);
    if (!this.parentsAreDirs(from)) throw new ApplyError(`cannot move ${from}: a parent is not a directory`);
    fs.renameSync(this.abs(from), this.abs(to));
  }
}

export interface OpenFile {
  sig: Sig;
  read(buf: Buffer, offset: number, length: number): Promise<number>;
  changed(): Promise<boolean>;
  close(): Promise<void>;
}

/** A file being received: content goes to a temp file; `commit` checks the expectation and renames. */
export class FileSink {
  written = 0;
  private done = false;

  constructor(
    private readonly fh: fsp.FileHandle,
    private readonly tmp: string,
    private readonly replace: (expect: Expect) => ApplyResult,
    private readonly meta: { x: number; m: number },
    private readonly checkInside: () => void,
  ) {}

  async write(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off, this.written + off);
      off += bytesWritten;
    }
    this.written += data.length;
  }

  async commit(expect?: Expect): Promise<ApplyResult> {
    this.done = true;
    try {
      await this.fh.chmod(this.meta.x & 0o777);
      await this.fh.utimes(utimesSeconds(this.meta.m), utimesSeconds(this.meta.m));
      this.checkInside();
    } catch (e) {
      await this.fh.close();
      fs.rmSync(this.tmp, { force: true });
      throw e;
    }
    await this.fh.close();
    try {
      return this.replace(expect);
    } catch (e) {
      fs.rmSync(this.tmp, { force: true });
      throw e;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close().catch(() => undefined);
    fs.rmSync(this.tmp, { force: true });
  }
}

function preview(items: string[]): string {
  return items.slice(0, 5).join(', ') + (items.length > 5 ? `, … (${items.length - 5} more)` : '');
}
