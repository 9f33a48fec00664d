// Apply only what changed. Every pass used to server-side apply every object of every session: correct, but
// a write per object per pass, and an operator restart over 1,000 Ready sessions re-applied everything.
//
// Now each applied object carries `dsa.dev/applied-hash` (a hash of exactly what we applied, minus that
// annotation), and an object is re-applied only when
//   - what we would apply changed (hash differs), or
//   - the live object is missing, lacks our hash, or has no Apply entry of ours in managedFields, or
//   - someone else took fields from us since our last apply (the fingerprint of our managedFields entry
//     changed: an Update by another manager moves the fields it changed out of our entry).
// After a restart the in-memory fingerprints are gone: an object whose hash and Apply entry are intact is
// trusted (drift that happened while no operator ran is corrected at the next change of the session).
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATIONS } from '@dsa/api';

/** JSON with object keys sorted, so equal objects hash equally whatever the key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);

/**
 * Hash of what would be applied (the applied-hash annotation itself excluded). `salt`: the session's forced-deploy
 * request (`dsa deploy -d` sets requested-at): a new request changes every hash, so every object is applied once
 * more — drift corrected as DevSpace's -d re-runs kubectl apply — and the same request stays stable (restarts).
 */
export function appliedHash(obj: KubernetesObject, salt?: string): string {
  const annotations = { ...(obj.metadata?.annotations ?? {}) };
  delete annotations[ANNOTATIONS.appliedHash];
  const meta = { ...(obj.metadata ?? {}), annotations };
  if (Object.keys(annotations).length === 0) delete (meta as { annotations?: unknown }).annotations;
  return short(stableStringify({ ...obj, metadata: meta }) + (salt ? `\n${salt}` : ''));
}

/** `obj` with its applied-hash annotation (a new object). */
export function withAppliedHash<T extends KubernetesObject>(obj: T, hash = appliedHash(obj)): T {
  return { ...obj, metadata: { ...(obj.metadata ?? {}), annotations: { ...(obj.metadata?.annotations ?? {}), [ANNOTATIONS.appliedHash]: hash } } };
}

/** Fingerprint of the fields `manager` owns through Apply on the main resource; undefined when it owns none. */
export function ownedFieldsFingerprint(live: KubernetesObject, manager: string): string | undefined {
  const entry = live.metadata?.managedFields?.find((m) => m.manager === manager && m.operation === 'Apply' && !m.subresource);
  return entry ? short(stableStringify(entry.fieldsV1 ?? {})) : undefined;
}

export interface Applied {
  hash: string;
  /** ownedFieldsFingerprint after our last apply (or check). */
  fields: string | undefined;
}

export type ApplyDecision = { apply: true; why: string } | { apply: false };

/** Whether `desiredHash` has to be applied over `live` (undefined = not found). Pure. */
export function decideApply(desiredHash: string, known: Applied | undefined, live: KubernetesObject | undefined, manager: string): ApplyDecision {
  if (known && known.hash !== desiredHash) return { apply: true, why: 'changed' };
  if (!live) return { apply: true, why: 'missing' };
  if (live.metadata?.annotations?.[ANNOTATIONS.appliedHash] !== desiredHash) return { apply: true, why: 'hash differs' };
  const fields = ownedFieldsFingerprint(live, manager);
  if (fields === undefined) return { apply: true, why: 'not applied by us' };
  if (known && known.fields !== undefined && known.fields !== fields) return { apply: true, why: 'fields taken by another manager' };
  return { apply: false };
}

/** What we applied, per object, for the life of the process (bounded by the objects the operator manages). */
export class AppliedMemory {
  private readonly byKey = new Map<string, Applied>();

  get(key: string): Applied | undefined {
    return this.byKey.get(key);
  }

  set(key: string, a: Applied): void {
    this.byKey.set(key, a);
  }

  delete(key: string): void {
    this.byKey.delete(key);
  }

  /** Drop every entry whose key starts with `prefix` (a deleted session's objects). */
  forgetPrefix(prefix: string): void {
    for (const k of [...this.byKey.keys()]) if (k.startsWith(prefix)) this.byKey.delete(k);
  }

  get size(): number {
    return this.byKey.size;
  }
}
