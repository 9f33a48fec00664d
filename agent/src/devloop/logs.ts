// Container log streaming: client-node's Log pipes the HTTP body into a Writable we provide and hands
// back an AbortController; here that Writable splits lines and prefixes them (`[pod/container] …`) so
// several streams can share one terminal without interleaving inside a line.
import { Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Writer } from '../output/writer.js';
import type { PodTarget } from './pods.js';

/** Writes whole lines to `out`, each prefixed; a partial last line is flushed on end. */
export class LinePrefixer extends Writable {
  private partial = '';
  constructor(
    private readonly out: Writer,
    private readonly prefix: string,
  ) {
    super({ decodeStrings: true });
    // client-node pipes the fetch body into us; aborting the request makes node-fetch emit 'error' on
    // that body, which nobody listens to and would crash the process. 'pipe' hands us the source.
    this.on('pipe', (src: NodeJS.ReadableStream) => {
      src.on('error', () => this.end());
    });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (lines.length > 0) this.out.write(lines.map((l) => `${this.prefix}${l.replace(/\r$/, '')}\n`).join(''));
    cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    if (this.partial !== '') this.out.write(`${this.prefix}${this.partial}\n`);
    this.partial = '';
    cb();
  }
}

const logPrefix = (t: PodTarget) => `[${t.pod}/${t.container}] `;

/** The part of client-node's Log we use; injectable for tests. */
export interface LogLike {
  log(namespace: string, pod: string, container: string, stream: Writable, options: { follow?: boolean; tailLines?: number; pretty?: boolean; timestamps?: boolean }): Promise<AbortController>;
}

export async function makeLog(kc: KubeConfig): Promise<LogLike> {
  const { Log } = await import('@kubernetes/client-node');
  return new Log(kc) as unknown as LogLike;
}

export interface StreamLogsOptions {
  follow: boolean;
  tailLines?: number;
  /** Default `[pod/container] `; '' for none. */
  prefix?: string;
  signal: AbortSignal;
}

/**
 * Stream one container's log into `out`. Resolves when the log ends (container exited, or not
 * following) or when `signal` aborts; rejects when the apiserver refuses the request.
 */
export async function streamLogs(log: LogLike, target: PodTarget, out: Writer, opts: StreamLogsOptions): Promise<void> {
  const sink = new LinePrefixer(out, opts.prefix ?? logPrefix(target));
  const ended = new Promise<void>((resolve) => {
    sink.on('finish', resolve);
    sink.on('close', resolve);
    sink.on('error', () => resolve());
  });
  if (opts.signal.aborted) return;
  const ac = await log.log(target.namespace, target.pod, target.container, sink, {
    follow: opts.follow,
    ...(opts.tailLines !== undefined ? { tailLines: opts.tailLines } : {}),
  });
  const onAbort = () => {
    ac.abort();
    sink.end();
  };
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await ended;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
}
