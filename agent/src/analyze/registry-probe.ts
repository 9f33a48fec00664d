// When the operator says only "fetch failed" for https://<registry>/v2/…, dsa asks the registry itself
// whether it speaks plain HTTP: HTTPS fails with a TLS record error and HTTP answers. Then the problem
// gets the hint that fixes it (the `registries.insecure` chart value) and a deploy stops at once instead
// of retrying for ten minutes. Bounded: one probe per registry, a few seconds each.
import type { Problem } from './model.js';
import { buildRegistryHint } from './registry.js';

/** 'http': the registry answers plain HTTP and refuses TLS. undefined: could not tell. */
export type ProbeResult = 'http' | undefined;
export type RegistryProbe = (host: string) => Promise<ProbeResult>;

const isTlsRecordError = (e: unknown): boolean => {
  const cause = (e as { cause?: { code?: string; message?: string } })?.cause;
  return /ERR_SSL_WRONG_VERSION_NUMBER|ERR_SSL_PACKET_LENGTH_TOO_LONG/.test(cause?.code ?? '') || /wrong version number|packet length too long/.test(cause?.message ?? '');
};

/** The real probe: HTTPS then HTTP to `/v2/`, `timeoutMs` each. */
export function httpRegistryProbe(timeoutMs = 3000, f: typeof fetch = fetch): RegistryProbe {
  return async (host) => {
    try {
      await f(`https://${host}/v2/`, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
      return undefined;
    } catch (e) {
      if (!isTlsRecordError(e)) return undefined;
    }
    try {
      const res = await f(`http://${host}/v2/`, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      // A registry answers /v2/ with 200, or 401 asking for credentials.
      return res.status === 200 || res.status === 401 ? 'http' : undefined;
    } catch {
      return undefined;
    }
  };
}

/** The registry an operator retry message failed to reach over HTTPS without saying why. Pure. */
export function opaqueHttpsFailure(p: Problem): string | undefined {
  if (p.kind !== 'BuildRetrying' && p.kind !== 'SessionRetrying' && p.kind !== 'BuildFailed') return undefined;
  const m = /\bhttps:\/\/([^/\s"]+)\/v2\/\S*\s+failed: fetch failed/.exec(p.summary);
  return m?.[1];
}

/**
 * `problems` with opaque HTTPS failures explained where the probe finds a plain-HTTP registry. The
 * cache keeps one answer per registry for the life of the caller (a deploy, an analyze run).
 */
export async function explainRegistries<T extends Problem & { failFastAfterMs?: number }>(problems: readonly T[], probe: RegistryProbe, cache: Map<string, Promise<ProbeResult>>): Promise<T[]> {
  const out: T[] = [];
  for (const p of problems) {
    const host = opaqueHttpsFailure(p);
    if (!host) {
      out.push(p);
      continue;
    }
    let answer = cache.get(host);
    if (!answer) cache.set(host, (answer = probe(host).catch(() => undefined)));
    if ((await answer) !== 'http') {
      out.push(p);
      continue;
    }
    out.push({
      ...p,
      details: [...p.details, `dsa asked ${host}: it answers plain HTTP and refuses HTTPS`],
      hint: buildRegistryHint('http-registry', host, p.image)!,
      // A registry that speaks another protocol will not start speaking ours.
      ...(p.failFastAfterMs !== undefined ? { failFastAfterMs: 0 } : {}),
    });
  }
  return out;
}
