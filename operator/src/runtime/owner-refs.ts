// Owner references: mapping events on children (Pods, Jobs, Services, ...) back to the owning custom resource,
// and building the controller reference we stamp on children.
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import type { Request } from './keys.js';

/** API group of an apiVersion ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

export interface OwnerType {
  /** e.g. "dsa.dev/v1alpha1"; only the group is compared, so a version bump does not orphan children. */
  apiVersion: string;
  kind: string;
}

/** The ownerReference with controller=true that points at an owner of `owner`'s group/kind, if any. */
export function controllerOwnerRef(obj: KubernetesObject, owner: OwnerType): V1OwnerReference | undefined {
  const group = groupOf(owner.apiVersion);
  return obj.metadata?.ownerReferences?.find(
    (r) => r.controller === true && r.kind === owner.kind && groupOf(r.apiVersion) === group,
  );
}

/**
 * Maps a child object to the reconcile request of its controlling owner (same namespace: namespaced owners can
 * only own objects in their own namespace). Children without such an owner map to nothing.
 */
export function ownerKeyMapper(owner: OwnerType): (obj: KubernetesObject) => Request[] {
  return (obj) => {
    const ref = controllerOwnerRef(obj, owner);
    return ref ? [{ namespace: obj.metadata?.namespace ?? '', name: ref.name }] : [];
  };
}

/**
 * ownerReference to put on a child so it is garbage-collected with `owner` and its events map back to it.
 * blockOwnerDeletion keeps foreground deletion of the owner waiting for the child.
 */
export function controllerReference(owner: KubernetesObject): V1OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind || !name || !uid) {
    throw new Error('controllerReference: owner needs apiVersion, kind, metadata.name and metadata.uid');
  }
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/** True when `obj` is controlled by exactly this owner instance (uid match, not just name). */
export function isControlledBy(obj: KubernetesObject, owner: KubernetesObject): boolean {
  const uid = owner.metadata?.uid;
  return !!uid && !!obj.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === uid);
}
