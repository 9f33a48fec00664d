// The inventory: every object a session applied, recorded in status so the next reconcile can prune what
// is no longer rendered and deletion can remove everything (like DevSpace v6's remote deployment cache).
import type { KubernetesObject } from '@kubernetes/client-node';
import { LABELS, shortenName, type InventoryEntry } from '@dsa/api';

/** Identity of an object across apiVersion bumps: group + kind + namespace + name. */
export function inventoryKey(e: Pick<InventoryEntry, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  const slash = e.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : e.apiVersion.slice(0, slash);
  return `${group}/${e.kind}/${e.namespace ?? ''}/${e.name}`;
}

export function inventoryEntry(obj: KubernetesObject, deployment: string): InventoryEntry {
  const e: InventoryEntry = { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', name: obj.metadata?.name ?? '', deployment };
  if (obj.metadata?.namespace) e.namespace = obj.metadata.namespace;
  return e;
}

/** Entries of `previous` whose object is not in `current`: to delete. Order: reverse of `previous`. */
export function toPrune(previous: readonly InventoryEntry[], current: readonly InventoryEntry[]): InventoryEntry[] {
  const keep = new Set(current.map(inventoryKey));
  return previous.filter((e) => !keep.has(inventoryKey(e))).reverse();
}

/** Same object rendered twice (by two deployments, or twice in one): the later one would silently win. */
export function duplicates(entries: readonly InventoryEntry[]): string[] {
  const seen = new Map<string, InventoryEntry>();
  const dups: string[] = [];
  for (const e of entries) {
    const k = inventoryKey(e);
    const first = seen.get(k);
    if (first) dups.push(`${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name} (deployments ${first.deployment ?? '?'} and ${e.deployment ?? '?'})`);
    else seen.set(k, e);
  }
  return dups;
}

/**
 * Deletion order: reverse deployment order, and within the whole set workloads before the config they
 * mount and namespaces/CRDs last, so nothing is left crash-looping while its config disappears.
 */
export function deletionOrder(entries: readonly InventoryEntry[]): InventoryEntry[] {
  const rank = (k: string): number => (k === 'CustomResourceDefinition' ? 3 : k === 'Namespace' ? 2 : 0);
  return [...entries].reverse().sort((a, b) => rank(a.kind) - rank(b.kind));
}

/**
 * Whether a live object's labels say it belongs to this session: name, namespace AND uid (decorate.ts stamps
 * all three). The uid tells a session from an earlier one of the same name, and nothing a tenant can write
 * into status.inventory can make another team's object carry it.
 */
export function ownedBySession(live: KubernetesObject, session: { name: string; namespace: string; uid: string | undefined }): boolean {
  const l = live.metadata?.labels ?? {};
  return (
    session.uid !== undefined &&
    session.uid !== '' &&
    l[LABELS.session] === shortenName(session.name) &&
    l[LABELS.sessionNamespace] === shortenName(session.namespace) &&
    l[LABELS.sessionUid] === session.uid
  );
}
