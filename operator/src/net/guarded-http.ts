// HTTP for requests whose URL a tenant chose (git sources, registry lookups): node's http/https with the address
// guard on the socket's own name resolution (address-guard.ts), every redirect checked again, a byte budget on
// what the server may send, and cancellation by the caller's signal (the reconcile's abort + an overall deadline).
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { checkUrl, guardedLookup, redactUrl, type AddressPolicy } from './address-guard.js';

/** A server sent more than the operation may read. Never retried as is. */
export class TooLargeError extends Error {
  override readonly name = 'TooLargeError';
}

/** Bytes one operation (a fetch, a lookup) may still read, shared by all its requests. */
export class ByteBudget {
  private used = 0;
  constructor(
    readonly max: number,
    private readonly what: string,
  ) {}

  take(n: number): void {
    this.used += n;
    if (this.used > this.max) throw new TooLargeError(`${this.what}: the server sent more than ${Math.round(this.max / (1024 * 1024))} MiB`);
  }

  get bytes(): number {
    return this.used;
  }
}

export interface GuardedRequestOptions {
  policy: AddressPolicy;
  signal?: AbortSignal;
  budget?: ByteBudget;
  /** Redirects followed (each one checked); 0 = return 3xx as is. Default 5. */
  maxRedirects?: number;
}

export interface GuardedResponse {
  url: string;
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string>;
  body: AsyncIterableIterator<Uint8Array>;
}

export interface GuardedRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

async function once(req: GuardedRequest, o: GuardedRequestOptions): Promise<http.IncomingMessage> {
  const u = checkUrl(req.url, o.policy);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = mod.request(
      u,
      {
        method: req.method ?? 'GET',
        headers: req.headers,
        // One connection per request: a pooled socket would skip the lookup below for the next request.
        agent: false,
        lookup: guardedLookup(o.policy, port) as never,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      resolve,
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

async function* counted(res: http.IncomingMessage, budget: ByteBudget | undefined, signal: AbortSignal | undefined): AsyncIterableIterator<Uint8Array> {
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      budget?.take(chunk.length);
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    }
  } finally {
    res.destroy();
  }
}

/** One request, following (checked) redirects. Cross-origin redirects drop the Authorization header. */
export async function guardedRequest(req: GuardedRequest, o: GuardedRequestOptions): Promise<GuardedResponse> {
  let current = { ...req, headers: { ...(req.headers ?? {}) } };
  for (let hops = 0; ; hops++) {
    const res = await once(current, o);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (status >= 300 && status < 400 && location && hops < (o.maxRedirects ?? 5)) {
      res.resume();
      const next = new URL(location, current.url);
      const headers = { ...current.headers };
      if (next.origin !== new URL(current.url).origin) {
        for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
      }
      const method = status === 303 ? 'GET' : (current.method ?? 'GET');
      current = { url: next.toString(), method, headers, ...(method === 'GET' || method === 'HEAD' ? {} : current.body ? { body: current.body } : {}) };
      continue;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return { url: current.url, statusCode: status, statusMessage: res.statusMessage ?? '', headers, body: counted(res, o.budget, o.signal) };
  }
}

/** The shape of isomorphic-git's HttpClient (isomorphic-git/http/node), on guardedRequest. */
export function gitHttpClient(o: GuardedRequestOptions) {
  return {
    async request(r: { url: string; method?: string; headers?: Record<string, string>; body?: AsyncIterableIterator<Uint8Array> | Uint8Array[] | Uint8Array }) {
      let body: Uint8Array | undefined;
      if (r.body) {
        const parts: Uint8Array[] = [];
        if (r.body instanceof Uint8Array) parts.push(r.body);
        else for await (const p of r.body as AsyncIterable<Uint8Array>) parts.push(p);
        body = Buffer.concat(parts);
      }
      const res = await guardedRequest({ url: r.url, ...(r.method ? { method: r.method } : {}), ...(r.headers ? { headers: r.headers } : {}), ...(body ? { body } : {}) }, o);
      return { url: res.url, method: r.method ?? 'GET', headers: res.headers, body: res.body, statusCode: res.statusCode, statusMessage: res.statusMessage };
    },
  };
}

/**
 * A `fetch` on guardedRequest (for the registry client): redirects followed and checked, the body a web stream.
 * Only what the registry client uses: method, headers, signal.
 */
export function guardedFetch(o: Omit<GuardedRequestOptions, 'signal'>): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const method = init?.method ?? 'GET';
    const res = await guardedRequest({ url, method, headers }, { ...o, ...(init?.signal ? { signal: init.signal } : {}) });
    const nullBody = method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304;
    if (nullBody) for await (const _ of res.body) break;
    const status = res.statusCode >= 200 && res.statusCode <= 599 ? res.statusCode : 502;
    return new Response(nullBody ? null : (Readable.toWeb(Readable.from(res.body)) as ReadableStream<Uint8Array>), { status, headers: res.headers });
  }) as typeof fetch;
}

export { redactUrl };
