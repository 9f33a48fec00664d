// What a replica knows about one path: its signature (type, size, times, mode, link target), how two
// signatures compare, and their wire form. Pure.
import { checkRelPath } from './paths.js';
import { ProtocolError, asObject } from './protocol.js';

export type EntryType = 'f' | 'd' | 'l';

/**
 * The state of one path on one side. `m` is the mtime in whole milliseconds (what we set on the
 * other side, so it compares across sides); `c` is the ctime as the filesystem reports it, which
 * nobody can set: comparing it with a remembered value tells whether anything touched the path since.
 */
export interface Sig {
  t: EntryType;
  /** Size in bytes (files), 0 otherwise. */
  s: number;
  /** mtime, whole ms. */
  m: number;
  /** ctime, ms as reported (not comparable across sides). */
  c: number;
  /** Permission bits (mode & 0o777). */
  x: number;
  /** Symlink target. */
  l?: string;
}

export interface Entry extends Sig {
  p: string;
}

/**
 * The same path on the same side is unchanged. Directories: type and mode only (their times move
 * whenever a child changes); symlinks: the target; files: size, mtime, ctime and mode.
 */
export function sameSide(a: Sig | null | undefined, b: Sig | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  if (a.t !== b.t) return false;
  switch (a.t) {
    case 'd':
      return a.x === b.x;
    case 'l':
      return a.l === b.l;
    default:
      return a.s === b.s && a.m === b.m && a.c === b.c && a.x === b.x;
  }
}

export type CompareBy = 'mtime' | 'size';

/**
 * Local and remote hold the same thing, as far as metadata tells (initialSyncCompareBy):
 * files by size and mtime (`mtime`, the default) or size alone (`size`), and the executable bits;
 * symlinks by target; directories always.
 */
export function sameAcross(a: Sig | null | undefined, b: Sig | null | undefined, compareBy: CompareBy = 'mtime'): boolean {
  if (!a || !b) return !a && !b;
  if (a.t !== b.t) return false;
  switch (a.t) {
    case 'd':
      return true;
    case 'l':
      return a.l === b.l;
    default:
      return a.s === b.s && (compareBy === 'size' || a.m === b.m) && (a.x & 0o111) === (b.x & 0o111);
  }
}

/** Same size, both files, different mtime: the content may still be equal (a hash decides). */
export function hashCandidate(a: Sig | null | undefined, b: Sig | null | undefined): boolean {
  return !!a && !!b && a.t === 'f' && b.t === 'f' && a.s === b.s && a.m !== b.m && (a.x & 0o111) === (b.x & 0o111);
}

/** Signature from an fs.Stats-like object (lstat). */
export function sigFromStats(st: { size: number; mtimeMs: number; ctimeMs: number; mode: number; isDirectory(): boolean; isSymbolicLink(): boolean }, target?: string): Sig {
  if (st.isDirectory()) return { t: 'd', s: 0, m: Math.floor(st.mtimeMs), c: st.ctimeMs, x: st.mode & 0o777 };
  if (st.isSymbolicLink()) return { t: 'l', s: 0, m: Math.floor(st.mtimeMs), c: st.ctimeMs, x: 0o777, l: target ?? '' };
  return { t: 'f', s: st.size, m: Math.floor(st.mtimeMs), c: st.ctimeMs, x: st.mode & 0o777 };
}

// ---------------------------------------------------------------------------------------------------
// Wire form. A change is an entry, or a delete (`t: '-'`). Uploads carry `e`, the remote signature
// they expect to replace (null: the path must not exist; absent: no expectation).

export type WireChange = (Entry | { p: string; t: '-' }) & {
  /** Expected current state at the target (uploads). */
  e?: Sig | null;
  /** Delete a directory with everything below it. */
  r?: boolean;
  /**
   * When the sidecar observed this state: a counter per connection, increasing. Remote state reaches
   * the agent on several channels (scan, watch, reads, write results); a lower number than one
   * already seen for the path is older news and ignored.
   */
  q?: number;
};

const MAX_SIZE = Number.MAX_SAFE_INTEGER;
const MAX_TARGET = 4096;

function num(v: unknown, what: string, max = MAX_SIZE): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) throw new ProtocolError(`bad ${what}`);
  return v;
}

export function parseSig(v: unknown): Sig {
  const o = asObject(v, 'entry');
  const t = o.t;
  if (t !== 'f' && t !== 'd' && t !== 'l') throw new ProtocolError(`bad entry type ${JSON.stringify(t)}`);
  const sig: Sig = { t, s: t === 'f' ? Math.floor(num(o.s, 'size')) : 0, m: Math.floor(num(o.m ?? 0, 'mtime')), c: num(o.c ?? 0, 'ctime'), x: Math.floor(num(o.x ?? 0, 'mode', 0o7777)) & 0o777 };
  if (t === 'l') {
    if (typeof o.l !== 'string' || o.l.length > MAX_TARGET || o.l.includes('\0')) throw new ProtocolError('bad symlink target');
    sig.l = o.l;
  }
  return sig;
}

/** Validate a change from the peer: a safe path, a well-formed signature. Throws ProtocolError/UnsafePathError. */
export function parseChange(v: unknown): WireChange {
  const o = asObject(v, 'change');
  const p = checkRelPath(o.p);
  const r = o.r === true ? { r: true } : {};
  const e = o.e === undefined ? {} : { e: o.e === null ? null : parseSig(o.e) };
  const q = o.q === undefined ? {} : { q: num(o.q, 'sequence') };
  if (o.t === '-') return { p, t: '-', ...e, ...r, ...q };
  return { p, ...parseSig(o), ...e, ...r, ...q };
}

export function toSig(e: Sig): Sig {
  const s: Sig = { t: e.t, s: e.s, m: e.m, c: e.c, x: e.x };
  if (e.t === 'l') s.l = e.l ?? '';
  return s;
}
