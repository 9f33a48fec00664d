// Every new version of the root DevSession, for the dev loop's services: a watch on the one object
// (bounded in time and size by kube/watch.ts), restarted from the last resourceVersion when the
// server ends it. While the watch fails, the session is polled (every pollMs) so changes still
// arrive, and the watch is tried again with a capped exponential backoff; a watch the user may not
// open (401/403/405) is not retried: the session is polled for the rest of the run.
import type { DevSession } from '@dsa/api';
import type { Logger } from '../output/logger.js';
import { abortableSleep } from '../session/uploads.js';
import type { SessionKube, SessionRef } from '../session/kube.js';

export interface FollowOptions {
  signal: AbortSignal;
  /** The session as last read: the watch starts at its resourceVersion. */
  initial: DevSession;
  /** A version that differs from the last one delivered (by resourceVersion). */
  onSession(session: DevSession): void;
  /** The session was deleted. Following ends. */
  onGone(): void;
  log: Pick<Logger, 'debug'>;
  /** Poll interval while the watch is down (default 2 s). */
  pollMs?: number;
  /** What the server is asked to bound each watch request by (default 60 s). */
  watchTimeoutSeconds?: number;
  /** First retry delay of a failed watch (default 1 s), doubled per failure up to retryMaxMs (default 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A watch the server ends sooner than this counts as failed (no hot loop on a server that closes at once). Default 1 s. */
  minWatchMs?: number;
  /** Longest wait for one GET of the session (default 15 s). */
  getTimeoutMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** Capped exponential backoff after `failures` consecutive failed watches. Pure. */
export function retryDelay(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
}

/** `p`, unless the signal aborts first (undefined) or it takes longer than `ms` (rejects). */
function bounded<T>(p: Promise<T>, ms: number, signal: AbortSignal): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      resolve(undefined);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e);
      },
    );
  });
}

const statusOf = (e: unknown): number | undefined => {
  const c = (e as { statusCode?: unknown; code?: unknown })?.statusCode ?? (e as { code?: unknown })?.code;
  return typeof c === 'number' ? c : undefined;
};

/** Runs until the signal aborts or the session is gone. Never throws. */
export async function followSession(kube: Pick<SessionKube, 'getSession' | 'watchSession'>, ref: SessionRef, opts: FollowOptions): Promise<void> {
  const sleep = opts.sleep ?? abortableSleep;
  const now = opts.now ?? Date.now;
  const pollMs = opts.pollMs ?? 2000;
  const signal = opts.signal;
  let rv = opts.initial.metadata.resourceVersion;
  let delivered = rv;
  const deliver = (s: DevSession) => {
    const v = s.metadata.resourceVersion;
    if (v !== undefined && v === delivered) return;
    delivered = v;
    opts.onSession(s);
  };
  /** One GET; false when the session is gone. */
  const poll = async (): Promise<boolean> => {
    let s: DevSession | undefined;
    try {
      s = await bounded(kube.getSession(ref), opts.getTimeoutMs ?? 15_000, signal);
    } catch (e) {
      opts.log.debug(`reading DevSession ${ref.name}: ${(e as Error)?.message ?? String(e)}`);
      return true;
    }
    if (signal.aborted) return true;
    if (!s) return false;
    rv = s.metadata.resourceVersion;
    deliver(s);
    return true;
  };

  let failures = 0;
  let watchable = true;
  while (!signal.aborted) {
    if (watchable) {
      const started = now();
      let gone = false;
      const stopWatch = new AbortController();
      const onAbort = () => stopWatch.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await kube.watchSession(ref, {
          resourceVersion: rv,
          timeoutSeconds: opts.watchTimeoutSeconds ?? 60,
          signal: stopWatch.signal,
          onEvent: (type, s) => {
            if (stopWatch.signal.aborted) return;
            if (s?.metadata?.resourceVersion) rv = s.metadata.resourceVersion;
            if (type === 'DELETED') {
              gone = true;
              stopWatch.abort();
            } else if (type !== 'BOOKMARK') deliver(s);
          },
        });
        if (gone) return opts.onGone();
        if (signal.aborted) return;
        if (now() - started >= (opts.minWatchMs ?? 1000)) {
          failures = 0;
          continue;
        }
        failures++;
        opts.log.debug(`the DevSession watch ended after ${now() - started} ms; polling meanwhile`);
      } catch (e) {
        if (signal.aborted) return;
        const code = statusOf(e);
        if (code === 410) {
          // Our resourceVersion is too old: re-read, then watch again from the fresh one.
          rv = undefined;
          if (!(await poll())) return opts.onGone();
          continue;
        }
        if (code === 401 || code === 403 || code === 405) {
          watchable = false;
          opts.log.debug(`cannot watch DevSession ${ref.name} (${(e as Error).message}); polling every ${pollMs} ms`);
        } else {
          failures++;
          opts.log.debug(`the DevSession watch failed (${(e as Error)?.message ?? String(e)}); polling meanwhile`);
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    }
    // The watch is down: poll now (nothing is missed), then keep polling until the next watch try.
    if (!(await poll())) return opts.onGone();
    const until = watchable ? now() + retryDelay(failures, opts.retryBaseMs ?? 1000, opts.retryMaxMs ?? 30_000) : Number.POSITIVE_INFINITY;
    while (!signal.aborted) {
      const wait = Math.min(pollMs, until - now());
      if (wait <= 0) break;
      await sleep(wait, signal);
      if (signal.aborted) return;
      if (now() >= until) break;
      if (!(await poll())) return opts.onGone();
    }
  }
}
