// The sync protocol between the agent and `dsa-sidecar serve`: version, limits, typed errors, the
// handshake's hello, and the parameters of every channel kind. One definition imported by both
// sides (docs/sync.md, "Protocol"). Dependency-free on purpose (Node built-ins only): the sidecar bundles it.

import { isIP } from 'node:net';

/**
 * Bumped on any incompatible change of the framing or of a channel's messages. Both sides state it in
 * the preamble before anything else, so a mismatch is recognised even when the framing changed.
 */
export const SYNC_PROTOCOL_VERSION = 1;

/** First bytes each side writes: magic, then the protocol version (u16 BE) and two reserved bytes. */
export const PREAMBLE_MAGIC = Buffer.from('DSA-SYNC', 'latin1');
export const PREAMBLE_LENGTH = PREAMBLE_MAGIC.length + 4;

/** Frame payloads are at most this big (a frame never makes a reader allocate more). */
export const MAX_FRAME_PAYLOAD = 256 * 1024;
/**
 * Receive window per channel (bytes of MSG and DATA payload the peer may send before it gets
 * credit back). At least twice the largest frame, so a sender can never stall while the receiver's
 * queue is empty (credit is returned in halves of the window).
 */
export const DEFAULT_WINDOW = 1024 * 1024;
export const MIN_WINDOW = 2 * MAX_FRAME_PAYLOAD;
export const MAX_WINDOW = 16 * 1024 * 1024;
/** Channels the peer may have open at once (each can hold a window of our memory). */
export const DEFAULT_MAX_CHANNELS = 128;
/** Liveness: each side pings this often and treats this much silence from the peer as a dead peer. */
export const DEFAULT_PING_INTERVAL_MS = 1000;
export const DEFAULT_IDLE_TIMEOUT_MS = 5000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 15_000;

/** Relative paths from the other side: longest accepted, in UTF-8 bytes, and per component. */
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;
/** Small files ride inline with a remote change event (saves a download round trip). */
export const INLINE_CONTENT_MAX = 64 * 1024;

/** Names dsa itself creates inside a sync root; never synced, never reported as changes. */
export const TEMP_PREFIX = '.dsa-tmp-';
export const CONFLICT_MARKER = '.dsa-conflict-';

/** Where the sidecar keeps its per-path replica id (in the pod's control volume; see replicaId in serve). */
export const REPLICA_ID_PREFIX = 'replica-';
/** Override of layout.CTL_DIR for the sidecar (tests, and images that mount the control volume elsewhere). */
export const SIDECAR_CTL_DIR_ENV = 'DSA_CTL_DIR';

export type Role = 'agent' | 'sidecar';

export interface Hello {
  role: Role;
  /** dsa / dsa-sidecar version, for messages only. */
  software: string;
  /** Receive window this side grants per channel. */
  window: number;
}

// ---------------------------------------------------------------------------------------------------
// Errors

/** The peer broke the protocol (bad frame, too large, credit exceeded, not our protocol at all). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** The two sides speak different protocol versions. Fatal: retrying cannot help. */
export class VersionMismatchError extends ProtocolError {
  constructor(
    message: string,
    readonly localVersion: number,
    readonly remoteVersion: number,
  ) {
    super(message);
  }
}

/** The connection ended (peer gone, idle timeout, transport closed). Retrying may help. */
export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
}

/** The peer reset a channel (its message says why), or the connection ended under it. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
}

/**
 * The mismatch message, from the point of view of `role` (the side that prints it). It names both
 * versions and what to do about it.
 */
export function versionMismatchMessage(role: Role, local: number, remote: number, remoteSoftware = ''): string {
  const peer = remoteSoftware ? ` (${remoteSoftware})` : '';
  if (role === 'agent') {
    return remote < local
      ? `the dev sidecar${peer} speaks sync protocol ${remote}, this dsa speaks ${local}: the operator's sidecar image is older than this dsa; update the dsa operator (it sets the sidecar image) or use the dsa release that matches it`
      : `the dev sidecar${peer} speaks sync protocol ${remote}, this dsa speaks ${local}: update dsa (the operator's sidecar image is newer)`;
  }
  return remote < local
    ? `the agent${peer} speaks sync protocol ${remote}, this sidecar speaks ${local}: update dsa on the developer's machine`
    : `the agent${peer} speaks sync protocol ${remote}, this sidecar speaks ${local}: the operator's sidecar image is older than the agent; update the dsa operator`;
}

// ---------------------------------------------------------------------------------------------------
// Channel kinds and their OPEN parameters

/** Exclude patterns of a sync path, sent so the sidecar applies them too (defence in depth). */
export interface ExcludeSpec {
  exclude: string[];
  uploadExclude: string[];
  downloadExclude: string[];
}

export type OpenParams =
  /**
   * agent → sidecar: set up sync path `sync` of dev pod `devPod` (layout.SidecarPath) under the
   * handle `path`, which the other channels name. The reply is a PathReply. Must come first.
   */
  | {
      kind: 'path';
      path: number;
      devPod: string;
      sync: number;
      excludes: ExcludeSpec;
      polling?: boolean;
      /** With polling: pause this long (ms) after every 100 entries a walk checks (v1beta throttleChangeDetection). */
      throttleMs?: number;
    }
  /** agent → sidecar: entries of the tree (S records), then END. */
  | { kind: 'scan'; path: number }
  /** agent → sidecar: remote changes, pushed as records until the channel closes; first a `{ ready: true }` MSG. */
  | { kind: 'watch'; path: number }
  /** agent → sidecar: the agent sends `{ paths, recursive? }` MSGs then END; the sidecar answers records then END. */
  | { kind: 'read'; path: number }
  /** agent → sidecar: the agent sends H/C/E records then END; the sidecar answers `{ results }` MSGs then END. */
  | { kind: 'write'; path: number }
  /** agent → sidecar: `{ paths }` MSGs then END; answer `{ hashes }` MSGs then END. */
  | { kind: 'hash'; path: number }
  /** agent → sidecar: restart the app's process (onUpload.restartContainer). Answer `{ ok, counter, supervisor? }`. */
  | { kind: 'restart' }
  /** agent → sidecar: the initial sync is done (startContainer). Answer `{ ok }`. */
  | { kind: 'start' }
  /**
   * agent → sidecar: listen on `port` in the pod, on `host` (an address of the pod: `0.0.0.0`/`::` for
   * all of them) or, without it, on the pod's loopback only (127.0.0.1 and ::1). Answer
   * `{ ok, addresses }` or `{ ok: false, error }`; listeners live as long as the channel. A sidecar
   * that predates `host` ignores it and listens on loopback.
   */
  | { kind: 'listen'; port: number; host?: string }
  /** sidecar → agent: one accepted connection on `port`; bytes both ways as DATA. */
  | { kind: 'tunnel'; port: number };

export type ChannelKind = OpenParams['kind'];

const KINDS: readonly ChannelKind[] = ['path', 'scan', 'watch', 'read', 'write', 'hash', 'restart', 'start', 'listen', 'tunnel'];

/** Validate OPEN parameters from the peer. Throws ProtocolError with a one-line reason. */
export function parseOpenParams(v: unknown): OpenParams {
  const o = asObject(v, 'open parameters');
  const kind = o.kind;
  if (typeof kind !== 'string' || !KINDS.includes(kind as ChannelKind)) throw new ProtocolError(`unknown channel kind ${JSON.stringify(kind)}`);
  switch (kind as ChannelKind) {
    case 'path':
      if (typeof o.devPod !== 'string' || o.devPod.length > 253) throw new ProtocolError('path: bad devPod');
      return {
        kind: 'path',
        path: index(o.path),
        devPod: o.devPod,
        sync: index(o.sync),
        excludes: parseExcludes(o.excludes),
        polling: o.polling === true,
        ...(o.throttleMs !== undefined ? { throttleMs: throttle(o.throttleMs) } : {}),
      };
    case 'scan':
    case 'watch':
    case 'read':
    case 'write':
    case 'hash':
      return { kind: kind as 'scan', path: index(o.path) };
    case 'restart':
    case 'start':
      return { kind: kind as 'restart' };
    case 'listen':
      return { kind: 'listen', port: port(o.port), ...(o.host !== undefined ? { host: listenHost(o.host) } : {}) };
    case 'tunnel':
      return { kind: 'tunnel', port: port(o.port) };
  }
  throw new ProtocolError(`unknown channel kind ${kind}`);
}

/** What a listen channel takes as its host: an IP literal or `localhost` (no name lookups in the pod on the peer's word). */
export function isListenHost(v: unknown): v is string {
  return typeof v === 'string' && (v === 'localhost' || isIP(v) !== 0);
}

function listenHost(v: unknown): string {
  if (!isListenHost(v)) throw new ProtocolError(`listen: host must be an IP address or localhost, got ${JSON.stringify(String(v).slice(0, 64))}`);
  return v;
}

const MAX_PATTERNS = 10_000;
const MAX_PATTERN_LENGTH = 4096;

function parseExcludes(v: unknown): ExcludeSpec {
  const o = asObject(v ?? {}, 'excludes');
  const list = (x: unknown, what: string): string[] => {
    if (x === undefined) return [];
    if (!Array.isArray(x) || x.length > MAX_PATTERNS) throw new ProtocolError(`${what}: expected at most ${MAX_PATTERNS} patterns`);
    return x.map((p) => {
      if (typeof p !== 'string' || p.length > MAX_PATTERN_LENGTH) throw new ProtocolError(`${what}: pattern must be a string of at most ${MAX_PATTERN_LENGTH} characters`);
      return p;
    });
  };
  return { exclude: list(o.exclude, 'exclude'), uploadExclude: list(o.uploadExclude, 'uploadExclude'), downloadExclude: list(o.downloadExclude, 'downloadExclude') };
}

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError(`${what}: expected an object`);
  return v as Record<string, unknown>;
}

function index(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 1000) throw new ProtocolError(`bad sync path index ${JSON.stringify(v)}`);
  return v as number;
}

/** Longest accepted throttleChangeDetection (DevSpace's schema has no bound; a minute per 100 files is already useless). */
export const MAX_THROTTLE_MS = 60_000;

function throttle(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > MAX_THROTTLE_MS) throw new ProtocolError(`path: throttleMs must be between 0 and ${MAX_THROTTLE_MS}`);
  return v as number;
}

function port(v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) throw new ProtocolError(`bad port ${JSON.stringify(v)}`);
  return v as number;
}

export function parseHello(v: unknown): Hello {
  const o = asObject(v, 'hello');
  if (o.role !== 'agent' && o.role !== 'sidecar') throw new ProtocolError('hello: bad role');
  const software = typeof o.software === 'string' ? o.software.slice(0, 200) : '';
  const window = o.window;
  if (!Number.isInteger(window) || (window as number) < MIN_WINDOW || (window as number) > MAX_WINDOW) {
    throw new ProtocolError(`hello: window must be between ${MIN_WINDOW} and ${MAX_WINDOW}`);
  }
  return { role: o.role, software, window: window as number };
}
