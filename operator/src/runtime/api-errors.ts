// The one place that knows how client-node reports HTTP failures, so reconcilers never poke at
// error shapes themselves. Shapes in client-node 1.4:
//  - generated APIs and KubernetesObjectApi throw ApiException { code, body, headers } (body may be a parsed
//    V1Status or a JSON string);
//  - Watch (and so informers) reports non-200 responses as Error { statusCode };
//  - a watch ERROR event carries a V1Status { code }.

export interface StatusLike {
  code?: number;
  reason?: string;
  message?: string;
}

function parseBody(body: unknown): StatusLike | undefined {
  if (body && typeof body === 'object') return body as StatusLike;
  if (typeof body === 'string' && body.startsWith('{')) {
    try {
      return JSON.parse(body) as StatusLike;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** HTTP status code of a client-node / apiserver error, or undefined for non-HTTP errors (network, bugs). */
export function statusCode(e: unknown): number | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const err = e as { code?: unknown; statusCode?: unknown; body?: unknown; response?: { statusCode?: unknown } };
  if (typeof err.code === 'number') return err.code;
  if (typeof err.statusCode === 'number') return err.statusCode;
  const fromBody = parseBody(err.body)?.code;
  if (typeof fromBody === 'number') return fromBody;
  if (typeof err.response?.statusCode === 'number') return err.response.statusCode;
  return undefined;
}

/** The apiserver's `reason` (e.g. "AlreadyExists", "Conflict", "Invalid") when the body is a V1Status. */
export function statusReason(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') return undefined;
  return parseBody((e as { body?: unknown }).body)?.reason;
}

/** A short human message: the V1Status message when there is one (ApiException.message embeds headers). */
export function apiErrorMessage(e: unknown): string {
  if (e && typeof e === 'object') {
    const msg = parseBody((e as { body?: unknown }).body)?.message;
    if (msg) return msg;
  }
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.message;
  return String(e);
}

export const isNotFound = (e: unknown): boolean => statusCode(e) === 404;
export const isGone = (e: unknown): boolean => statusCode(e) === 410;
export const isInvalid = (e: unknown): boolean => statusCode(e) === 422;
export const isForbidden = (e: unknown): boolean => statusCode(e) === 403;

/** 409 with reason AlreadyExists (create of an existing name). */
export function isAlreadyExists(e: unknown): boolean {
  if (statusCode(e) !== 409) return false;
  const reason = statusReason(e);
  return reason === undefined ? /already exists/i.test(apiErrorMessage(e)) : reason === 'AlreadyExists';
}

/** 409 Conflict from optimistic concurrency (stale resourceVersion) — NOT AlreadyExists. */
export function isConflict(e: unknown): boolean {
  return statusCode(e) === 409 && !isAlreadyExists(e);
}

/** Errors worth retrying with backoff without alarm: throttling, timeouts, server-side trouble, network. */
export function isTransient(e: unknown): boolean {
  const code = statusCode(e);
  if (code === undefined) return true;
  return code === 429 || code === 500 || code === 502 || code === 503 || code === 504;
}

/** Ignore 404 (e.g. deleting something already gone). Rethrows anything else. */
export function ignoreNotFound(e: unknown): void {
  if (!isNotFound(e)) throw e;
}
