// Manifest text → objects. Accepts what `kubectl apply -f` accepts: several `---` documents, empty
// documents, and `kind: List` wrappers (flattened).
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

/** A manifest that cannot become an object (bad YAML, missing kind/name). Never fixed by retrying. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `source` names the origin in error messages (`deployment api, manifest #2`). */
export function parseManifests(text: string, source: string): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  // parseAllDocuments returns an EmptyStream (array-like, length 0) for blank input.
  for (const [i, doc] of Array.from(docs).entries()) {
    const err = doc.errors[0];
    if (err) throw new ManifestError(`${source}: invalid YAML in document ${i + 1}: ${err.message.split('\n')[0]}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    out.push(...flatten(value, `${source}, document ${i + 1}`));
  }
  return out;
}

function flatten(value: unknown, where: string): KubernetesObject[] {
  if (!isObj(value)) throw new ManifestError(`${where}: expected a Kubernetes object, got ${Array.isArray(value) ? 'a list' : typeof value}`);
  if (typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items)) {
    return value.items.flatMap((item, j) => flatten(item, `${where}, item ${j + 1}`));
  }
  validateObject(value, where);
  return [value as KubernetesObject];
}

/** The minimum an object needs before it can be applied (the apiserver checks the rest). */
export function validateObject(value: Json, where: string): void {
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') throw new ManifestError(`${where}: apiVersion is missing`);
  if (typeof value.kind !== 'string' || value.kind === '') throw new ManifestError(`${where}: kind is missing`);
  const meta = value.metadata;
  if (!isObj(meta) || typeof meta.name !== 'string' || meta.name === '') {
    // generateName cannot work with apply: every reconcile would create a new object.
    throw new ManifestError(`${where}: ${value.kind} has no metadata.name (generateName is not supported by apply)`);
  }
}
