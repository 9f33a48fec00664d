// A watch request on one collection with the bounds client-node 1.4's Watch lacks: its 30 s timeout is
// overwritten (a stalled connection hangs forever, #2127) and it splits lines with readline, which
// buffers a line of any length. Here the response headers must come within connectTimeoutMs, the whole
// watch ends by maxDurationMs (callers ask the server for a shorter timeoutSeconds, so only a stalled
// connection reaches it), and one event line may hold at most maxLineBytes.
//
// Authentication, TLS and proxies come from client-node (applyToHTTPSOptions), so the watch talks to
// the cluster exactly as the other clients do.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: unknown;
}

/** A failed or broken watch. `statusCode` is the HTTP status, or the Status code of an ERROR event (410: resourceVersion too old). */
export class WatchError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'WatchError';
  }
}

export interface WatchRequest {
  /** Collection path, e.g. /apis/dsa.dev/v1alpha1/namespaces/dev/devsessions. */
  path: string;
  /** Query parameters besides watch=true (fieldSelector, resourceVersion, timeoutSeconds, …). */
  query?: Record<string, string | undefined>;
  signal: AbortSignal;
  /** Each event, in order. ERROR events are not delivered: they end the watch with a WatchError. */
  onEvent(event: WatchEvent): void;
  /** Default 8 MiB: an object is at most ~1.5 MiB in etcd. */
  maxLineBytes?: number;
  /** Default 15 s. */
  connectTimeoutMs?: number;
  maxDurationMs: number;
}

const DEFAULT_MAX_LINE = 8 * 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** The message of a Kubernetes Status body, else the text itself (first line, bounded). */
function statusMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // not JSON
  }
  return (body.split('\n')[0] ?? '').slice(0, 200);
}

/**
 * Splits a byte stream into lines of at most `max` bytes. Pure state machine: feed chunks, get
 * complete lines; a line longer than max is an error (the caller aborts the request).
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly max: number) {}

  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      this.add(chunk.subarray(start, nl));
      lines.push(Buffer.concat(this.parts).toString('utf8'));
      this.parts = [];
      this.size = 0;
      start = nl + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start));
    return lines;
  }

  /** What is left when the stream ends (a last line without a newline). */
  rest(): string {
    return this.size > 0 ? Buffer.concat(this.parts).toString('utf8') : '';
  }

  private add(part: Buffer): void {
    this.size += part.length;
    if (this.size > this.max) throw new WatchError(`watch event larger than ${this.max} bytes`);
    if (part.length > 0) this.parts.push(part);
  }
}

/** Parse one watch line; undefined for blank lines. Throws WatchError on garbage or an ERROR event. */
export function parseWatchLine(line: string): WatchEvent | undefined {
  if (line.trim() === '') return undefined;
  let data: { type?: unknown; object?: unknown };
  try {
    data = JSON.parse(line) as { type?: unknown; object?: unknown };
  } catch {
    throw new WatchError('the watch sent a line that is not JSON');
  }
  if (typeof data?.type !== 'string' || !EVENT_TYPES.has(data.type)) throw new WatchError(`unknown watch event type ${JSON.stringify(String(data?.type)).slice(0, 40)}`);
  if (data.type === 'ERROR') {
    const status = (data.object ?? {}) as { code?: unknown; message?: unknown };
    throw new WatchError(`watch error: ${typeof status.message === 'string' ? status.message : 'no message'}`, typeof status.code === 'number' ? status.code : undefined);
  }
  return { type: data.type as WatchEventType, object: data.object };
}

/** Watch until the server ends the response (resolve), or a bound, an error or the signal ends it (reject / resolve on abort). */
export async function watchCollection(kc: KubeConfig, req: WatchRequest): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new WatchError('no current cluster in the kubeconfig');
  const url = new URL(cluster.server.replace(/\/+$/, '') + req.path);
  url.searchParams.set('watch', 'true');
  for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  if (req.signal.aborted) return;
  const transport = url.protocol === 'http:' ? http : https;

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      req.signal.removeEventListener('abort', onAbort);
      request.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = () => finish();
    const request = transport.request(url, { ...options, method: 'GET', headers: { ...(options.headers ?? {}), Accept: 'application/json' } });
    timers.push(
      setTimeout(() => finish(new WatchError(`no response to the watch within ${req.connectTimeoutMs ?? 15_000} ms`)), req.connectTimeoutMs ?? 15_000),
      setTimeout(() => finish(new WatchError(`the watch stalled: still open after ${req.maxDurationMs} ms`)), req.maxDurationMs),
    );
    req.signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (e) => finish(new WatchError(`watch: ${e.message}`)));
    request.on('response', (res) => {
      clearTimeout(timers[0]);
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < MAX_ERROR_BODY) body += c;
        });
        res.on('end', () => finish(new WatchError(`watch refused: HTTP ${res.statusCode}: ${statusMessage(body)}`, res.statusCode)));
        res.on('error', (e) => finish(new WatchError(`watch: ${e.message}`, res.statusCode)));
        return;
      }
      const lines = new LineSplitter(req.maxLineBytes ?? DEFAULT_MAX_LINE);
      const deliver = (line: string) => {
        const event = parseWatchLine(line);
        if (event) req.onEvent(event);
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        try {
          for (const line of lines.push(chunk)) deliver(line);
        } catch (e) {
          finish(e);
        }
      });
      res.on('end', () => {
        try {
          deliver(lines.rest());
          finish();
        } catch (e) {
          finish(e);
        }
      });
      res.on('error', (e) => finish(new WatchError(`watch: ${e.message}`)));
      // 'close' without 'end': the connection broke mid-stream.
      res.on('close', () => finish(settled ? undefined : new WatchError('the watch connection closed before the response ended')));
    });
    request.end();
  });
}
