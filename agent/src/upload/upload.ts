// Agent side of the upload: stream the canonical context tar into the build pod's `upload` init
// container through the Kubernetes exec API (RBAC `pods/exec` decides who may upload; no port is opened).
//
// client-node's Exec resolves when the WebSocket opens, not when the command ends, and its stdin pump
// ignores backpressure (a large context would be buffered in memory). So we pass it an idle stdin stream
// (only so the exec request asks for stdin), pump the tar ourselves frame by frame, waiting for each
// send to be flushed, close stdin with the v5 CLOSE frame, and only then wait for the V1Status that
// carries the receiver's exit code.
import { Exec, CustomObjectsApi, Watch, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { PassThrough, Writable } from 'node:stream';
import { API_VERSION, BuildPhase, GROUP, IMAGEBUILD, VERSION } from '@dsa/api';

import { RECEIVER_EXIT, UPLOAD_COMMAND, UPLOAD_CONTAINER } from './protocol.js';

export { RECEIVER_EXIT, UPLOAD_COMMAND } from './protocol.js';

export interface UploadTarget {
  namespace: string;
  pod: string;
  container: string;
}

export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    message: string,
    readonly exitCode?: number,
    readonly stderr = '',
  ) {
    super(message);
  }
}

/** The part of a WebSocket the pump uses (ws/isomorphic-ws). */
export interface ExecSocket {
  readonly protocol: string;
  send(data: Buffer, cb?: (err?: Error) => void): void;
  close(): void;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** The part of client-node's Exec we use; injectable for tests. */
export interface ExecLike {
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string | string[],
    stdout: Writable | null,
    stderr: Writable | null,
    stdin: NodeJS.ReadableStream | null,
    tty: boolean,
    statusCallback?: (status: V1Status) => void,
  ): Promise<ExecSocket>;
}

export interface UploadOptions {
  /** Default UPLOAD_COMMAND. */
  command?: readonly string[];
  /** Inject an Exec (tests). */
  exec?: ExecLike;
  /** Frame size; default 256 KiB. */
  chunkSize?: number;
  signal?: AbortSignal;
  onProgress?: (bytesSent: number) => void;
}

export interface UploadResult {
  bytes: number;
  stdout: string;
  stderr: string;
}

const STDIN = 0;
const CLOSE_STREAM = 255;

/** Exit code from an exec V1Status: 0 on Success, the NonZeroExitCode cause, else undefined. */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : Number.NaN;
  return Number.isFinite(code) ? code : undefined;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      // Only the tail matters for messages; cap memory.
      chunks.push(chunk);
      if (chunks.length > 256) chunks.shift();
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

function describeFailure(code: number | undefined, stderr: string): string {
  const detail = stderr.trim().split('\n').slice(-5).join('\n');
  switch (code) {
    case RECEIVER_EXIT.digestMismatch:
      return `the build pod rejected the upload: digest mismatch (did a file change while uploading?)\n${detail}`;
    case RECEIVER_EXIT.unsafeTar:
      return `the build pod rejected the context tar as unsafe\n${detail}`;
    case RECEIVER_EXIT.notReady:
      return `the build pod's receiver was not ready\n${detail}`;
    default:
      return `upload failed${code === undefined ? '' : ` (exit code ${code})`}\n${detail}`;
  }
}

/**
 * Stream `tar` into `target` via exec and wait for the receiver's verdict. Resolves when the receiver
 * exited 0 (digest verified); rejects with UploadError (carrying the exit code) otherwise.
 */
export async function uploadContext(
  kc: KubeConfig,
  target: UploadTarget,
  tar: AsyncIterable<Buffer | Uint8Array>,
  opts: UploadOptions = {},
): Promise<UploadResult> {
  const exec: ExecLike = opts.exec ?? (new Exec(kc) as unknown as ExecLike);
  const chunkSize = opts.chunkSize ?? 256 * 1024;
  const out = collector();
  const err = collector();

  let settleStatus!: (s: V1Status) => void;
  const statusP = new Promise<V1Status>((resolve) => (settleStatus = resolve));
  let closed!: () => void;
  const closedP = new Promise<'closed'>((resolve) => (closed = () => resolve('closed')));

  // Never written to: it only makes the exec request ask for stdin (see the file comment).
  const idleStdin = new PassThrough();
  const ws = await exec.exec(target.namespace, target.pod, target.container, [...(opts.command ?? UPLOAD_COMMAND)], out.stream, err.stream, idleStdin, false, (s) =>
    settleStatus(s),
  );
  let socketError: Error | undefined;
  ws.on('close', () => closed());
  ws.on('error', (e) => {
    socketError = e;
    closed();
  });
  const abort = () => ws.close();
  opts.signal?.addEventListener('abort', abort, { once: true });

  try {
    if (ws.protocol !== 'v5.channel.k8s.io') {
      ws.close();
      throw new UploadError(
        `the API server negotiated ${ws.protocol || 'an old exec protocol'}; uploading needs v5.channel.k8s.io (Kubernetes >= 1.30) to signal end of input`,
      );
    }
    const send = (buf: Buffer) =>
      new Promise<void>((resolve, reject) => ws.send(buf, (e) => (e ? reject(e) : resolve())));
    let bytes = 0;
    let remoteGone = false;
    void closedP.then(() => (remoteGone = true));
    for await (const raw of tar) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
      for (let off = 0; off < chunk.length; off += chunkSize) {
        if (remoteGone || opts.signal?.aborted) break;
        const part = chunk.subarray(off, off + chunkSize);
        await send(Buffer.concat([Buffer.from([STDIN]), part]));
        bytes += part.length;
      }
      if (remoteGone || opts.signal?.aborted) break;
      opts.onProgress?.(bytes);
    }
    if (opts.signal?.aborted) throw new UploadError('upload aborted');
    if (!remoteGone) await send(Buffer.from([CLOSE_STREAM, STDIN]));

    // The status frame arrives just before the server closes the socket; a close without it means the
    // connection broke and the outcome is unknown.
    const first = await Promise.race([statusP, closedP]);
    const status = first === 'closed' ? await Promise.race([statusP, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]) : first;
    if (!status) {
      throw new UploadError(`exec connection closed before the receiver reported its exit code${socketError ? `: ${socketError.message}` : ''}`, undefined, err.text());
    }
    const code = exitCodeOf(status);
    if (code !== 0) throw new UploadError(describeFailure(code, err.text() || status.message || ''), code, err.text());
    return { bytes, stdout: out.text(), stderr: err.text() };
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    ws.close();
  }
}

// ---------------------------------------------------------------------------------------------------

export type UploadSlot =
  | { kind: 'upload'; target: UploadTarget; generation: number }
  /** Nothing to upload: the image exists already (AlreadyBuilt) or this generation was built. */
  | { kind: 'done'; image?: string; digest?: string };

export class BuildFailedError extends Error {
  override readonly name = 'BuildFailedError';
  constructor(
    message: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}

interface ImageBuildLike {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: { builder?: { namespace?: string } };
  status?: {
    observedGeneration?: number;
    phase?: string;
    podName?: string;
    uploadContainer?: string;
    image?: string;
    digest?: string;
    message?: string;
    logTail?: string;
  };
}

/** Decide from one ImageBuild snapshot: upload now, done, failed, or keep waiting (undefined). */
export function slotFromImageBuild(ib: ImageBuildLike): UploadSlot | undefined {
  const gen = ib.metadata?.generation ?? 0;
  const st = ib.status;
  // Status written for an older spec says nothing about this one.
  if (!st || (st.observedGeneration ?? -1) < gen) return undefined;
  switch (st.phase) {
    case BuildPhase.AwaitingUpload:
      if (!st.podName) return undefined;
      return {
        kind: 'upload',
        generation: gen,
        target: {
          namespace: ib.metadata?.namespace || 'default',
          pod: st.podName,
          container: st.uploadContainer || UPLOAD_CONTAINER,
        },
      };
    case BuildPhase.Succeeded:
      return { kind: 'done', ...(st.image ? { image: st.image } : {}), ...(st.digest ? { digest: st.digest } : {}) };
    case BuildPhase.Failed:
      throw new BuildFailedError(st.message ?? 'build failed', st.logTail);
    default:
      return undefined;
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Fallback poll interval: a watch can stall silently (client-node 1.x), a GET cannot. Default 5 s. */
  pollMs?: number;
}

/**
 * Wait until the ImageBuild's build pod is ready to receive the context (phase AwaitingUpload for the
 * current generation), or until it needs no upload (Succeeded). Rejects on Failed and on timeout.
 */
export async function waitForUploadSlot(kc: KubeConfig, ref: { namespace: string; name: string }, opts: WaitOptions = {}): Promise<UploadSlot> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const pollMs = opts.pollMs ?? 5_000;
  const get = async () =>
    (await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ref.namespace, plural: IMAGEBUILD.plural, name: ref.name })) as ImageBuildLike;

  return new Promise<UploadSlot>((resolve, reject) => {
    let finished = false;
    let watchAbort: AbortController | undefined;
    let pollTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = (fn: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      clearTimeout(pollTimer);
      watchAbort?.abort();
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const consider = (ib: ImageBuildLike) => {
      try {
        const slot = slotFromImageBuild(ib);
        if (slot) finish(() => resolve(slot));
      } catch (e) {
        finish(() => reject(e));
      }
    };
    const deadline = setTimeout(
      () => finish(() => reject(new UploadError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ImageBuild ${ref.namespace}/${ref.name} to await the upload`))),
      timeoutMs,
    );
    const onAbort = () => finish(() => reject(new UploadError('aborted')));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const poll = async () => {
      if (finished) return;
      try {
        consider(await get());
      } catch (e) {
        // 404 right after creation is normal (the caller may create and wait concurrently): keep waiting.
        if ((e as { code?: number }).code !== 404) return finish(() => reject(e));
      }
      if (!finished) pollTimer = setTimeout(() => void poll(), pollMs);
    };
    void poll();

    const startWatch = () => {
      if (finished) return;
      void new Watch(kc)
        .watch(
          `/apis/${API_VERSION}/namespaces/${ref.namespace}/${IMAGEBUILD.plural}`,
          { fieldSelector: `metadata.name=${ref.name}` },
          (type, obj: ImageBuildLike) => {
            if (type === 'ADDED' || type === 'MODIFIED') consider(obj);
          },
          // The poll keeps us going if the watch ends; restart it after a pause, never in a hot loop.
          () => setTimeout(startWatch, 2_000).unref(),
        )
        .then((ac) => {
          watchAbort = ac;
          if (finished) ac.abort();
        })
        .catch(() => undefined);
    };
    startWatch();
  });
}
