// Queue keys are "namespace/name" strings (just "name" for cluster-scoped objects), as in client-go's
// MetaNamespaceKeyFunc: cheap to dedupe in a Set and readable in logs.
import type { KubernetesObject } from '@kubernetes/client-node';

/** What a reconcile is asked to converge: one object, by name. `namespace` is '' for cluster-scoped objects. */
export interface Request {
  namespace: string;
  name: string;
}

export function keyOf(req: Request): string {
  return req.namespace ? `${req.namespace}/${req.name}` : req.name;
}

export function parseKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function requestOf(obj: KubernetesObject): Request {
  return { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
}

export function objectKey(obj: KubernetesObject): string {
  return keyOf(requestOf(obj));
}
