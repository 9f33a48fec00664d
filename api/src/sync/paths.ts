// Paths that come from the other side, and names dsa itself creates. Pure functions.
//
// A path on the wire is relative to the sync root, '/'-separated, with no '..', '.' or empty
// components, no NUL or other control characters, no backslash (a separator on Windows laptops),
// at most MAX_PATH_BYTES long and MAX_NAME_BYTES per component. Everything that reads a path from
// the peer runs it through checkRelPath before touching the disk.
import { CONFLICT_MARKER, MAX_NAME_BYTES, MAX_PATH_BYTES, TEMP_PREFIX } from './protocol.js';

/** A path from the other side that must not be used. The message names the path (escaped) and why. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
}

// C0, DEL and C1 (U+0080–U+009F): terminals act on all of them, so a name with one is never synced.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * Why `p` cannot be used as a relative sync path (a short reason), or undefined when it can. Pure.
 * The rules: docs/sync.md, "Safety".
 */
export function pathProblem(p: string, opts: { windows?: boolean } = {}): string | undefined {
  if (p === '') return 'empty';
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when it could matter.
  if (p.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(p) > MAX_PATH_BYTES) return `longer than ${MAX_PATH_BYTES} bytes`;
  if (CONTROL.test(p)) return 'contains a control character';
  if (p.startsWith('/')) return 'absolute';
  if (p.includes('\\')) return 'contains a backslash';
  const windows = opts.windows ?? process.platform === 'win32';
  for (const part of p.split('/')) {
    if (part === '') return 'empty component';
    if (part === '.' || part === '..') return `"${part}" component`;
    if (part.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(part) > MAX_NAME_BYTES) return `component longer than ${MAX_NAME_BYTES} bytes`;
    if (windows && (/[:<>"|?*]/.test(part) || /[. ]$/.test(part))) return 'not a valid Windows file name';
  }
  return undefined;
}

/**
 * Why an entry found on disk at `rel` cannot be synced, or undefined when it can: the cheap check
 * for a walk, where every parent of `rel` was accepted already, so only its own name and the total
 * length can be wrong. Pure.
 */
export function entryProblem(rel: string): string | undefined {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  if (rel.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(rel) > MAX_PATH_BYTES) return `longer than ${MAX_PATH_BYTES} bytes`;
  if (CONTROL.test(name)) return 'contains a control character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name === '' || name === '.' || name === '..') return 'not a file name';
  if (name.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(name) > MAX_NAME_BYTES) return `component longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

// C1 controls, DEL and the bidirectional overrides: harmless in JSON, but a terminal acts on them.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text from the other side made safe for a terminal: control and direction characters as \uXXXX escapes. Pure. */
export function printableText(s: string): string {
  return s.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A path for a one-line message: quoted, escaped (control and direction characters too), at most 200 characters. Pure. */
export function showPath(p: string): string {
  return printableText(JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p));
}

/** Returns the path when it is a safe relative sync path, else throws UnsafePathError. */
export function checkRelPath(p: unknown, opts: { windows?: boolean } = {}): string {
  if (typeof p !== 'string') throw new UnsafePathError('path is not a string');
  const why = pathProblem(p, opts);
  if (why !== undefined) throw new UnsafePathError(`refusing path ${showPath(p)}: ${why}`);
  return p;
}

/** True when `p` is a safe relative path (see checkRelPath). */
export function isSafeRelPath(p: unknown, opts: { windows?: boolean } = {}): p is string {
  try {
    checkRelPath(p, opts);
    return true;
  } catch {
    return false;
  }
}

/**
 * A symlink at `linkPath` (relative to the root) with `target` stays inside the root when resolved
 * lexically against the link's directory. Absolute targets never do. (Lexical on purpose: we never
 * follow a link to find out, and a link through another link is itself checked where it lives.)
 */
export function symlinkStaysInside(linkPath: string, target: string): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0') || target.includes('\\')) return false;
  const stack = linkPath.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else {
      stack.push(part);
    }
  }
  return true;
}

/** Names dsa creates in a sync root (temp files, conflict copies): never synced, never a change. */
export function isInternalPath(rel: string): boolean {
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  return base.startsWith(TEMP_PREFIX) || base.includes(CONFLICT_MARKER);
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

export function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** True when `rel` is `dir` or below it. */
export function isWithin(rel: string, dir: string): boolean {
  return rel === dir || rel.startsWith(`${dir}/`);
}

/** `20260304T050607` (UTC, seconds). */
export function conflictStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
}

/**
 * Where the losing side's content is kept on the laptop: beside the file, as
 * `<name>.dsa-conflict-<side>-<UTC yyyymmddThhmmss><ext>`; `<ext>` is the last extension, so editors
 * still recognise the file type (`app.ts` → `app.dsa-conflict-remote-20260304T050607.ts`). Dot files
 * without another dot keep their whole name (`.env` → `.env.dsa-conflict-remote-…`).
 */
export function conflictPath(rel: string, side: 'local' | 'remote', when: Date): string {
  const dir = parentOf(rel);
  const base = baseName(rel);
  const dot = base.lastIndexOf('.');
  const [name, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const out = `${name}${CONFLICT_MARKER}${side}-${conflictStamp(when)}${ext}`;
  return dir ? `${dir}/${out}` : out;
}

/** Sort order for applying: parents before children (code-unit order puts 'a' before 'a/b'). */
export function compareForCreate(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Children before parents (for deletes). */
export function compareForDelete(a: string, b: string): number {
  return -compareForCreate(a, b);
}
