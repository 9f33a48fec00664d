// Finalizers via JSON Patch with a `test` op, so a concurrent writer of metadata.finalizers is never clobbered
// (a merge patch of the list would replace it wholesale). If the test fails the apiserver rejects the patch and
// we surface a ConflictError → the controller requeues immediately and re-reads.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ConflictError } from './errors.js';
import { statusCode, apiErrorMessage } from './api-errors.js';

export type JsonPatchOp =
  | { op: 'test' | 'add' | 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** Applies a JSON patch to one object. Build one with customObjectJsonPatcher or wrap any typed API. */
export type JsonPatcher = (ops: JsonPatchOp[]) => Promise<unknown>;

export interface CustomObjectPatchClient {
  patchNamespacedCustomObject(
    param: k8s.CustomObjectsApiPatchNamespacedCustomObjectRequest,
    options?: k8s.ConfigurationOptions,
  ): Promise<any>;
}

export function customObjectJsonPatcher(
  client: CustomObjectPatchClient,
  ref: { group: string; version: string; plural: string; namespace: string; name: string },
): JsonPatcher {
  return (ops) =>
    client.patchNamespacedCustomObject(
      { group: ref.group, version: ref.version, plural: ref.plural, namespace: ref.namespace, name: ref.name, body: ops },
      // Explicit, although json-patch is what CustomObjectsApi defaults to: do not depend on that default.
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
}

export function hasFinalizer(obj: KubernetesObject, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Patch ops that add `finalizer` to `obj` as read (guarded by a test on the current list / resourceVersion). */
export function addFinalizerOps(obj: KubernetesObject, finalizer: string): JsonPatchOp[] {
  const current = obj.metadata?.finalizers;
  if (!current) {
    // No list yet: guard on resourceVersion, since "test that a path is absent" does not exist in JSON Patch.
    return [
      { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata?.resourceVersion },
      { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
    ];
  }
  return [
    { op: 'test', path: '/metadata/finalizers', value: current },
    { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
  ];
}

/** Patch ops that remove `finalizer` from `obj` as read (test the exact index holds it, then remove it). */
export function removeFinalizerOps(obj: KubernetesObject, finalizer: string): JsonPatchOp[] {
  const i = obj.metadata?.finalizers?.indexOf(finalizer) ?? -1;
  if (i < 0) return [];
  return [
    { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
    { op: 'remove', path: `/metadata/finalizers/${i}` },
  ];
}

async function run(patch: JsonPatcher, ops: JsonPatchOp[]): Promise<void> {
  try {
    await patch(ops);
  } catch (e) {
    if (statusCode(e) === 409 || isFailedPatchTest(e)) {
      throw new ConflictError(`finalizer patch lost a race: ${apiErrorMessage(e)}`, { cause: e });
    }
    throw e;
  }
}

/**
 * A failed JSON-patch `test` op. Verified against kube-apiserver 1.33: it answers 422 reason Invalid with the
 * generic message "the server rejected our request due to an error in our request" and NO details.causes (the
 * same for a test on a path that no longer exists). Real validation failures of the patched object (e.g. an
 * invalid finalizer name) also give 422 but list field causes, so they stay errors.
 */
export function isFailedPatchTest(e: unknown): boolean {
  if (statusCode(e) !== 422) return false;
  const body = (e as { body?: unknown }).body;
  let status: { details?: { causes?: unknown[] } } | undefined;
  if (body && typeof body === 'object') status = body as typeof status;
  else if (typeof body === 'string') {
    try {
      status = JSON.parse(body) as typeof status;
    } catch {
      status = undefined;
    }
  }
  return !(status?.details?.causes && status.details.causes.length > 0);
}

/** Add `finalizer` if missing. Resolves true if a patch was sent. Add it BEFORE creating external state. */
export async function ensureFinalizer(obj: KubernetesObject, finalizer: string, patch: JsonPatcher): Promise<boolean> {
  if (hasFinalizer(obj, finalizer)) return false;
  await run(patch, addFinalizerOps(obj, finalizer));
  return true;
}

/** Remove `finalizer` if present (after cleanup). Resolves true if a patch was sent. */
export async function removeFinalizer(obj: KubernetesObject, finalizer: string, patch: JsonPatcher): Promise<boolean> {
  if (!hasFinalizer(obj, finalizer)) return false;
  await run(patch, removeFinalizerOps(obj, finalizer));
  return true;
}
