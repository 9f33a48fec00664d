// Replies on sync channels, validated on receipt (the other side is never trusted to be well-formed).
import { parseSig, type Sig } from './entry.js';
import { checkRelPath, printableText } from './paths.js';
import { ProtocolError, asObject } from './protocol.js';

/** Outcome of one change on a `write` channel. */
export type WriteResult =
  /** Applied; `sig` is what the target side holds now (null after a delete). */
  | { p: string; ok: true; sig: Sig | null; q?: number }
  /** Not applied: the target was not in the expected state; `current` is what it holds. */
  | { p: string; conflict: true; current: Sig | null; q?: number }
  /** Not applied: `error` says why (excluded, unsafe, I/O error, changed while read). */
  | { p: string; error: string };

/** Replies are sent in chunks of at most this many items (a chunk stays far below a frame). */
export const RESULT_CHUNK = 500;

const MAX_ITEMS = 10_000;

function list(v: unknown, key: string): unknown[] {
  const o = asObject(v, 'reply');
  const items = o[key];
  if (!Array.isArray(items) || items.length > MAX_ITEMS) throw new ProtocolError(`reply: ${key} must be a list of at most ${MAX_ITEMS}`);
  return items;
}

export function parseWriteResults(v: unknown): WriteResult[] {
  return list(v, 'results').map((raw) => {
    const o = asObject(raw, 'result');
    const p = checkRelPath(o.p);
    const q = Number.isSafeInteger(o.q) && (o.q as number) >= 0 ? { q: o.q as number } : {};
    if (o.ok === true) return { p, ok: true, sig: o.sig === null || o.sig === undefined ? null : parseSig(o.sig), ...q };
    if (o.conflict === true) return { p, conflict: true, current: o.current === null || o.current === undefined ? null : parseSig(o.current), ...q };
    return { p, error: typeof o.error === 'string' ? o.error.slice(0, 500) : 'failed' };
  });
}

/** `{ hashes: [[path, sha256 hex | null], …] }`. */
export function parseHashes(v: unknown): Array<[string, string | null]> {
  return list(v, 'hashes').map((raw) => {
    if (!Array.isArray(raw) || raw.length !== 2) throw new ProtocolError('reply: bad hash entry');
    const p = checkRelPath(raw[0]);
    const h = raw[1];
    if (h !== null && (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h))) throw new ProtocolError('reply: bad hash');
    return [p, h as string | null];
  });
}

/** `{ paths: [...], recursive? }` on read/hash channels. */
export function parsePathRequest(v: unknown): { paths: string[]; recursive: boolean } {
  const paths = list(v, 'paths').map((p) => checkRelPath(p));
  return { paths, recursive: (v as { recursive?: unknown }).recursive === true };
}

/** Reply of a `path` channel. */
export interface PathReply {
  ok: boolean;
  /** Identifies the remote replica (one per pod and path): a base from another replica is not used. */
  replicaId: string;
  error?: string;
}

export function parsePathReply(v: unknown): PathReply {
  const o = asObject(v, 'path reply');
  if (o.ok !== true) return { ok: false, replicaId: '', error: typeof o.error === 'string' ? o.error.slice(0, 500) : 'the sidecar refused the sync path' };
  if (typeof o.replicaId !== 'string' || o.replicaId.length === 0 || o.replicaId.length > 200) throw new ProtocolError('path reply: bad replicaId');
  return { ok: true, replicaId: o.replicaId };
}

/** Reply of a `restart` channel. */
export interface RestartReply {
  ok: boolean;
  counter?: number;
  error?: string;
  /** The supervisor's own state file, as it wrote it (for status; not interpreted here). */
  supervisor?: unknown;
}

export function parseRestartReply(v: unknown): RestartReply {
  const o = asObject(v, 'restart reply');
  return {
    ok: o.ok === true,
    counter: Number.isSafeInteger(o.counter) ? (o.counter as number) : undefined,
    error: typeof o.error === 'string' ? o.error.slice(0, 500) : undefined,
    supervisor: o.supervisor,
  };
}

/**
 * sidecar → agent, a MSG on the scan, watch or read channel of a path: a name in the container that
 * the sidecar does not sync because it is unsafe on the other side (control characters, a backslash,
 * too long). Sent once per name and connection, at most REFUSED_NOTICES_MAX names per path; then one
 * `{ refusedMore: true }`. Records on those channels carry changes; notices are MSG frames between them.
 */
export type RefusedNotice = { refused: { p: string; why: string } } | { refusedMore: true };

export const REFUSED_NOTICES_MAX = 1000;
/** A refused name travels cut to this many characters (messages show 200 of them). */
export const REFUSED_PATH_MAX = 1024;

/** A refused-name notice from the other side, checked and made printable; undefined when the MSG is not one. */
export function parseRefusedNotice(v: unknown): { p: string; why: string } | { more: true } | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (o.refusedMore === true) return { more: true };
  const r = o.refused;
  if (typeof r !== 'object' || r === null) return undefined;
  const { p, why } = r as Record<string, unknown>;
  if (typeof p !== 'string' || p.length === 0 || p.length > 4 * REFUSED_PATH_MAX) throw new ProtocolError('refused notice: bad path');
  return { p: p.slice(0, REFUSED_PATH_MAX), why: printableText(typeof why === 'string' ? why.slice(0, 200) : 'cannot be synced safely') };
}
