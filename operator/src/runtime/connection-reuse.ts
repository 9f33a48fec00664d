// Keep-alive connections to the apiserver.
//
// client-node 1.4 builds a NEW https.Agent for every API call (KubeConfig.applySecurityAuthentication →
// createAgent), and an agent without keepAlive closes its socket after the response: every request paid a
// TCP connect + TLS handshake (with client-certificate verification on the apiserver side). That was the
// operator's flat ~100 ms per reconcile pass: four calls, four handshakes (see bench/README.md, "Where the
// 100 ms went"). Here the per-call agent is swapped for one pooled keep-alive agent per distinct TLS identity
// (CA, client cert/key, verification flags), so calls reuse warm connections.
//
// Watches go through applyToFetchOptions and keep their own long-lived connections; proxies (hpagent, socks)
// are left alone.
import { createHash } from 'node:crypto';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ConnectionReuseOptions {
  /** Connections per apiserver identity (default 32; more parallel calls queue). */
  maxSockets?: number;
  /** Idle connections kept open (default 8). */
  maxFreeSockets?: number;
  /**
   * An idle connection is closed after this long (default 30 s), well before the apiserver's own idle timeout,
   * so a request never lands on a connection the server is closing.
   */
  idleTimeoutMs?: number;
  /**
   * Share `base`'s pool and request listeners (an impersonating copy of the operator's config, see
   * impersonation.ts): same TLS identity, same warm connections, and the same request count.
   */
  shareWith?: KubeConfig;
}

/** Listeners per KubeConfig: every API call (method) and every watch ('WATCH') made through it. */
const listeners = new WeakMap<KubeConfig, Set<(verb: string) => void>>();
const pools = new WeakMap<KubeConfig, Map<string, https.Agent>>();
const patched = new WeakSet<KubeConfig>();

/**
 * Call `fn` for every request sent through `kc`: the HTTP method of each API call, 'WATCH' for each watch
 * connection. The one place every client-node call passes, so counting here is complete (the benchmark's
 * "0 writes after a restart" is read from it). Returns an unsubscribe function.
 */
export function observeRequests(kc: KubeConfig, fn: (verb: string) => void): () => void {
  reuseConnections(kc);
  const set = listeners.get(kc)!;
  set.add(fn);
  return () => set.delete(fn);
}

function notify(kc: KubeConfig, verb: string): void {
  for (const fn of listeners.get(kc) ?? []) {
    try {
      fn(verb);
    } catch {
      // a metrics hook never breaks a request
    }
  }
}

type TlsOptions = https.AgentOptions & Record<string, unknown>;

function material(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (Array.isArray(v)) return v.map(material).join('|');
  return String(v);
}

/** What makes two agents interchangeable: the TLS identity and verification settings. */
export function tlsIdentity(o: TlsOptions): string {
  const parts = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'].map((k) => `${k}=${material(o[k])}`);
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/**
 * Make every API client made from `kc` (makeApiClient, KubernetesObjectApi) reuse pooled keep-alive
 * connections. Idempotent; returns `kc`.
 */
export function reuseConnections(kc: KubeConfig, opts: ConnectionReuseOptions = {}): KubeConfig {
  if (patched.has(kc)) return kc;
  patched.add(kc);
  const base = opts.shareWith;
  if (base) reuseConnections(base);
  listeners.set(kc, base ? listeners.get(base)! : new Set());
  const pool = base ? pools.get(base)! : new Map<string, https.Agent>();
  pools.set(kc, pool);
  const original = kc.applySecurityAuthentication.bind(kc);
  const originalFetchOptions = kc.applyToFetchOptions.bind(kc);
  kc.applyToFetchOptions = async (o) => {
    notify(kc, 'WATCH');
    return originalFetchOptions(o);
  };
  kc.applySecurityAuthentication = async (context) => {
    notify(kc, String(context.getHttpMethod()));
    await original(context);
    const fresh = context.getAgent();
    // Exactly https.Agent: proxy agents subclass it and must stay as they are.
    if (!fresh || fresh.constructor !== https.Agent) return;
    const tls = (fresh as https.Agent & { options: TlsOptions }).options;
    const id = tlsIdentity(tls);
    let agent = pool.get(id);
    if (!agent) {
      agent = new https.Agent({
        ...tls,
        keepAlive: true,
        maxSockets: opts.maxSockets ?? 32,
        maxFreeSockets: opts.maxFreeSockets ?? 8,
        timeout: opts.idleTimeoutMs ?? 30_000,
        scheduling: 'lifo',
      });
      // Rotated credentials make a new identity; keep the pool from growing without bound.
      if (pool.size >= 8) {
        const [oldest] = pool.keys();
        if (oldest !== undefined) {
          pool.get(oldest)?.destroy();
          pool.delete(oldest);
        }
      }
      pool.set(id, agent);
    }
    context.setAgent(agent);
  };
  return kc;
}
