// One bounded GET against the apiserver, for the small reads `dsa version --cluster` and shell completion
// make (discovery, a ConfigMap, a list of names): the response must start within timeoutMs, and a body
// larger than maxBytes is refused rather than buffered. Authentication, TLS and proxies come from
// client-node (applyToHTTPSOptions), as in kube/watch.ts.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface GetJsonOptions {
  /** Query parameters (limit, labelSelector, …). */
  query?: Record<string, string | undefined>;
  /** The whole request, connect to last byte. */
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  /** Default application/json; e.g. PartialObjectMetadataList for lists of names. */
  accept?: string;
}

export type GetJsonResult = { ok: true; body: unknown } | { ok: false; status: number; message: string };

/** The message of a Kubernetes Status body, else the first line of the text (bounded). */
function statusMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message !== '') return parsed.message;
  } catch {
    // not JSON
  }
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

/** Rejects on network errors, timeouts and oversized bodies; a non-200 status resolves with its message. */
export async function getJson(kc: KubeConfig, path: string, opts: GetJsonOptions): Promise<GetJsonResult> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise<GetJsonResult>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, result?: GetJsonResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      request.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const onAbort = () => finish(new Error('aborted'));
    const request = transport.request(url, { ...options, method: 'GET', headers: { ...(options.headers ?? {}), Accept: opts.accept ?? 'application/json' } });
    const timer = setTimeout(() => finish(new Error(`no answer from ${url.host} within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    timer.unref();
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (e) => finish(e));
    request.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > opts.maxBytes) return finish(new Error(`GET ${path}: the answer is larger than ${opts.maxBytes} bytes`));
        chunks.push(c);
      });
      res.on('error', (e) => finish(e));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return finish(undefined, { ok: false, status: res.statusCode ?? 0, message: statusMessage(text) });
        try {
          finish(undefined, { ok: true, body: JSON.parse(text) as unknown });
        } catch {
          finish(new Error(`GET ${path}: the answer is not JSON`));
        }
      });
    });
    request.end();
  });
}
