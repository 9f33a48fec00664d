// When to upload: the one decision (and the one wait loop) over ImageBuild snapshots, used by
// `dsa deploy`/`dsa up` (agent/src/session/uploads.ts) and by waitForUploadSlot (upload.ts).
//
// A snapshot only answers for the build the caller started when
//  - its status is for the current generation (observedGeneration),
//  - its spec carries the digest the caller declared: right after a changed deploy the operator has not
//    re-applied the ImageBuild yet, and its status still says Succeeded for the OLD context — trusting
//    that would skip the upload the new generation needs and then wait forever;
//  - after a forced build (-b), its status.lastRequestedAt has caught up with the request: until the
//    operator started the forced build, Succeeded (and an AwaitingUpload pod) belong to an earlier one.
//
// No client-node import here: the CLI loads it lazily, and this module is on the `dsa deploy` path.
import { BuildPhase } from '../constants.js';
import { UPLOAD_CONTAINER, isNewerRequest } from './protocol.js';

export interface UploadTarget {
  namespace: string;
  pod: string;
  container: string;
}

export type UploadSlot =
  | { kind: 'upload'; target: UploadTarget; generation: number }
  /** Nothing to upload: the image exists already (AlreadyBuilt) or this generation was built. */
  | { kind: 'done'; image?: string; digest?: string; message?: string };

export class BuildFailedError extends Error {
  override readonly name = 'BuildFailedError';
  constructor(
    message: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}

/** The fields of an ImageBuild the decision reads (structural, so raw API objects fit). */
export interface ImageBuildLike {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: { context?: { upload?: { digest?: string } } };
  status?: {
    observedGeneration?: number;
    phase?: string;
    podName?: string;
    uploadContainer?: string;
    image?: string;
    digest?: string;
    message?: string;
    logTail?: string;
    lastRequestedAt?: string;
  };
}

export interface SlotExpectation {
  /** The upload digest the caller declared; the spec must carry it. */
  digest?: string;
  /** The requested-at the caller set (-b); status.lastRequestedAt must have caught up with it. */
  requestedAt?: string;
}

/** Decide from one snapshot: upload now, done, failed (throws BuildFailedError), or keep waiting (undefined). */
export function slotFromImageBuild(ib: ImageBuildLike | undefined, expected: SlotExpectation = {}): UploadSlot | undefined {
  if (!ib) return undefined;
  if (expected.digest !== undefined && ib.spec?.context?.upload?.digest !== expected.digest) return undefined;
  const gen = ib.metadata?.generation ?? 0;
  const st = ib.status;
  // Status written for an older spec says nothing about this one.
  if (!st || (st.observedGeneration ?? -1) < gen) return undefined;
  // Status written before the operator took up our forced build describes an older build.
  if (isNewerRequest(expected.requestedAt, st.lastRequestedAt)) return undefined;
  switch (st.phase) {
    case BuildPhase.AwaitingUpload:
      if (!st.podName) return undefined;
      return {
        kind: 'upload',
        generation: gen,
        target: { namespace: ib.metadata?.namespace || 'default', pod: st.podName, container: st.uploadContainer || UPLOAD_CONTAINER },
      };
    case BuildPhase.Succeeded:
      return { kind: 'done', ...(st.image ? { image: st.image } : {}), ...(st.digest ? { digest: st.digest } : {}), ...(st.message ? { message: st.message } : {}) };
    case BuildPhase.Failed:
      throw new BuildFailedError(st.message ?? 'build failed', st.logTail);
    default:
      return undefined;
  }
}

export class SlotTimeoutError extends Error {
  override readonly name = 'SlotTimeoutError';
}

export interface PollSlotOptions {
  expected?: SlotExpectation;
  timeoutMs?: number;
  /** Default 1 s: a GET per second per image is cheap, and unlike a watch it cannot stall silently. */
  pollMs?: number;
  signal?: AbortSignal;
  /** Keep waiting through AwaitingUpload too: until the build is Succeeded (or Failed). */
  untilDone?: boolean;
  /** Every snapshot read while waiting (progress reporting). */
  onSnapshot?: (ib: ImageBuildLike | undefined) => void;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Poll `get` until the snapshot yields a slot. Rejects with BuildFailedError on Failed, SlotTimeoutError
 * after `timeoutMs` (default 10 min), and Error('aborted') on the signal. `get` returns undefined for a
 * missing ImageBuild (normal right after an apply: the operator creates it).
 */
export async function pollUploadSlot(get: () => Promise<ImageBuildLike | undefined>, opts: PollSlotOptions = {}): Promise<UploadSlot> {
  const sleep = opts.sleep ?? abortableSleep;
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const deadline = now() + timeoutMs;
  for (;;) {
    if (opts.signal?.aborted) throw new Error('aborted');
    const ib = await get();
    opts.onSnapshot?.(ib);
    const slot = slotFromImageBuild(ib, opts.expected);
    if (slot && (slot.kind === 'done' || !opts.untilDone)) return slot;
    if (now() >= deadline) throw new SlotTimeoutError(`timed out after ${Math.round(timeoutMs / 1000)}s`);
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
}
