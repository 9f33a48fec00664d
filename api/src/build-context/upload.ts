// Agent side of the upload: stream the canonical context tar into the build pod's `upload` init
// container through the Kubernetes exec API (RBAC `pods/exec` decides who may upload; no port is opened).
//
// client-node's Exec resolves when the WebSocket opens, not when the command ends, and its stdin pump
// ignores backpressure (a large context would be buffered in memory). So we pass it an idle stdin stream
// (only so the exec request asks for stdin), pump the tar ourselves frame by frame, waiting for each
// send to be flushed, close stdin with the v5 CLOSE frame, and only then wait for the V1Status that
// carries the receiver's exit code.
// client-node is imported where it is used: `dsa validate` and `render` load this module for its
// digests and should not pay for client-node (a few hundred milliseconds).
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import { PassThrough, Writable } from 'node:stream';
import { GROUP, IMAGEBUILD, VERSION } from '../constants.js';

import { RECEIVER_EXIT, UPLOAD_COMMAND } from './protocol.js';
import { SlotTimeoutError, pollUploadSlot, type ImageBuildLike, type SlotExpectation, type UploadSlot, type UploadTarget } from './slot.js';

export { RECEIVER_EXIT, UPLOAD_COMMAND } from './protocol.js';
export { BuildFailedError, slotFromImageBuild, type ImageBuildLike, type SlotExpectation, type UploadSlot, type UploadTarget } from './slot.js';

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
  const exec: ExecLike = opts.exec ?? (new (await import('@kubernetes/client-node')).Exec(kc) as unknown as ExecLike);
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

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Default 1 s. */
  pollMs?: number;
  /** What this build must be for (spec digest, forced-build request); see slot.ts. */
  expected?: SlotExpectation;
}

/**
 * Wait until the ImageBuild's build pod is ready to receive the context (AwaitingUpload for the current
 * generation), or until it needs no upload (Succeeded). Rejects on Failed (BuildFailedError) and on
 * timeout. The decision and the loop are slot.ts's, shared with `dsa deploy`; this only adds the GET.
 */
export async function waitForUploadSlot(kc: KubeConfig, ref: { namespace: string; name: string }, opts: WaitOptions = {}): Promise<UploadSlot> {
  const api = kc.makeApiClient((await import('@kubernetes/client-node')).CustomObjectsApi);
  const get = async (): Promise<ImageBuildLike | undefined> => {
    try {
      return (await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ref.namespace, plural: IMAGEBUILD.plural, name: ref.name })) as ImageBuildLike;
    } catch (e) {
      // 404 right after creation is normal (the caller may create and wait concurrently): keep waiting.
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  };
  try {
    return await pollUploadSlot(get, { expected: opts.expected, timeoutMs: opts.timeoutMs ?? 5 * 60_000, pollMs: opts.pollMs, signal: opts.signal });
  } catch (e) {
    if (e instanceof SlotTimeoutError) throw new UploadError(`${e.message} waiting for ImageBuild ${ref.namespace}/${ref.name} to await the upload`);
    if (opts.signal?.aborted) throw new UploadError('aborted');
    throw e;
  }
}
