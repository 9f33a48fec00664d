// Manifest text → objects. Accepts what `kubectl apply -f` accepts: several `---` documents, empty
// documents, and `kind: List` wrappers (flattened).
//
// Manifests are tenant input (inline, from git, helm output): the text and the object count are capped, and
// duplicate keys are found with one Set per mapping. The YAML library's own check compares every new key with
// every earlier one of its mapping — an 80,000-key ConfigMap took 40–130 s of blocked event loop — so it is
// switched off and replaced by the linear walk below.
import type { KubernetesObject } from '@kubernetes/client-node';
import { isMap, isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';

/** A manifest that cannot become an object (bad YAML, missing kind/name). Never fixed by retrying. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** Largest text one deployment may render (inline manifests, files from git, helm/kustomize output). */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;
/** Most objects one deployment may render. */
export const MAX_MANIFEST_OBJECTS = 10_000;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first duplicate key of any mapping in the document (keys compared as the JS object would see them). */
export function duplicateKey(doc: Document): string | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const k = pair.key;
        const name = isScalar(k) ? String(k.value) : JSON.stringify(k);
        if (seen.has(name)) return name;
        seen.add(name);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return undefined;
}

const MiB = (n: number) => Math.round(n / (1024 * 1024));

/** `source` names the origin in error messages (`deployment api, manifest #2`). */
export function parseManifests(text: string, source: string): KubernetesObject[] {
  if (text.length > MAX_MANIFEST_BYTES) throw new ManifestError(`${source}: ${MiB(text.length)} MiB of manifests, more than the ${MiB(MAX_MANIFEST_BYTES)} MiB allowed`);
  const out: KubernetesObject[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: false });
  // parseAllDocuments returns an EmptyStream (array-like, length 0) for blank input.
  for (const [i, doc] of Array.from(docs).entries()) {
    const err = doc.errors[0];
    if (err) throw new ManifestError(`${source}: invalid YAML in document ${i + 1}: ${err.message.split('\n')[0]}`);
    const dup = duplicateKey(doc);
    if (dup !== undefined) throw new ManifestError(`${source}: invalid YAML in document ${i + 1}: duplicate key ${JSON.stringify(dup.slice(0, 100))}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    out.push(...flatten(value, `${source}, document ${i + 1}`));
    if (out.length > MAX_MANIFEST_OBJECTS) throw new ManifestError(`${source}: more than ${MAX_MANIFEST_OBJECTS} objects`);
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
