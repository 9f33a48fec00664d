// The production transport: `dsa-sidecar serve` in the dev pod's sidecar container, through the
// Kubernetes exec API (RBAC `pods/exec` decides who may sync; no port is opened), as a Duplex.
//
// As in @dsa/api/build-context's upload: client-node's exec pumps a stdin stream into the WebSocket
// without backpressure, so it gets an idle stdin (only so the request asks for stdin) and we send
// each write ourselves as a stdin frame, completing the write only when the WebSocket has flushed it.
// The receive side cannot be paused at all; the sync protocol's credit bounds what the sidecar
// sends. end() sends the v5 CLOSE frame for stdin (older protocols: the socket is closed).
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { SIDECAR_CONTAINER, SIDECAR_SERVE_COMMAND } from '@dsa/api/sync';
import type { ExecLike } from '@dsa/api/build-context';
import type { TransportFactory } from './session.js';

export interface ExecTarget {
  namespace: string;
  pod: string;
  /** Default SIDECAR_CONTAINER. */
  container?: string;
}

export interface ExecTransportOptions {
  /** Inject an Exec (tests). */
  exec?: ExecLike;
  /** Default SIDECAR_SERVE_COMMAND. */
  command?: readonly string[];
}

const STDIN = 0;
const CLOSE_STREAM = 255;
const STDERR_TAIL = 4096;

/** Why an exec ended, from its status and stderr (one line, for the disconnect message). */
export function describeExecEnd(status: V1Status | undefined, stderr: string, socketError?: Error): string {
  const tail = stderr.trim().split('\n').slice(-3).join(' | ').slice(-500);
  if (status && status.status !== 'Success') {
    const msg = status.message ?? status.reason ?? 'failed';
    return `dsa-sidecar serve ended: ${msg}${tail ? ` (${tail})` : ''}`;
  }
  if (socketError) return `exec connection error: ${socketError.message}${tail ? ` (${tail})` : ''}`;
  return tail ? `dsa-sidecar serve ended (${tail})` : 'the exec connection closed';
}

/** A transport factory that execs the sidecar's serve command in `target` (a new exec per call). */
export function execTransport(kc: KubeConfig, target: ExecTarget | (() => ExecTarget), opts: ExecTransportOptions = {}): TransportFactory {
  return async (signal) => {
    const t = typeof target === 'function' ? target() : target;
    const exec: ExecLike = opts.exec ?? (new (await import('@kubernetes/client-node')).Exec(kc) as unknown as ExecLike);
    let stderrTail = '';
    const stderr = new Writable({
      write(chunk: Buffer, _enc, cb) {
        stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
        cb();
      },
    });
    let status: V1Status | undefined;
    let socketError: Error | undefined;
    // eslint-disable-next-line prefer-const
    let duplex: Duplex;
    const stdout = new Writable({
      write(chunk: Buffer, _enc, cb) {
        duplex.push(chunk);
        cb();
      },
      // The end of stdout comes with the exit status; the socket's close reports both (below).
    });
    const ws = await exec.exec(t.namespace, t.pod, t.container ?? SIDECAR_CONTAINER, [...(opts.command ?? SIDECAR_SERVE_COMMAND)], stdout, stderr, new PassThrough(), false, (s) => {
      status = s;
    });
    const send = (buf: Buffer) => new Promise<void>((resolve, reject) => ws.send(buf, (e) => (e ? reject(e) : resolve())));
    let ended = false;
    duplex = new Duplex({
      // A WebSocket message per write; the connection coalesces frames into writes of up to 256 KiB.
      writableHighWaterMark: 256 * 1024,
      read() {
        /* the WebSocket cannot be paused; the protocol's credit bounds what arrives */
      },
      write(chunk: Buffer, _enc, cb) {
        if (ended) return cb(new Error('the exec connection closed'));
        const frame = Buffer.allocUnsafe(chunk.length + 1);
        frame[0] = STDIN;
        chunk.copy(frame, 1);
        send(frame).then(() => cb(), cb);
      },
      final(cb) {
        if (ended || ws.protocol !== 'v5.channel.k8s.io') {
          ws.close();
          return cb();
        }
        send(Buffer.from([CLOSE_STREAM, STDIN])).then(() => cb(), () => cb());
      },
      destroy(err, cb) {
        ws.close();
        cb(err);
      },
    });
    ws.on('error', (e) => {
      socketError = e;
    });
    ws.on('close', () => {
      if (ended) return;
      ended = true;
      // Let a status frame that raced the close arrive, then end with the reason.
      setTimeout(() => duplex.destroy(new Error(describeExecEnd(status, stderrTail, socketError))), 50);
    });
    const onAbort = () => duplex.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    duplex.once('close', () => signal.removeEventListener('abort', onAbort));
    return duplex;
  };
}
