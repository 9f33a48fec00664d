// The reads analyze and the deploy's fail-fast make, behind one small interface (tests pass
// in-memory ones). Every read is bounded: list sizes by `limit`, log text by tail lines and bytes,
// and each request by a timeout (a client-node request has none of its own).
import type { CoreV1Event, KubeConfig, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { DEVSESSION, GROUP, IMAGEBUILD, VERSION, type DevSession, type ImageBuild } from '@dsa/api';

export interface LogOptions {
  previous: boolean;
  tailLines: number;
  limitBytes: number;
}

export interface AnalyzeKube {
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>;
  /** Warning events only (the others are not problems, and there are many). */
  listWarningEvents(namespace: string): Promise<CoreV1Event[]>;
  listReplicaSets(namespace: string, labelSelector?: string): Promise<V1ReplicaSet[]>;
  listSessions(namespace: string): Promise<DevSession[]>;
  listImageBuilds(namespace: string, labelSelector?: string): Promise<ImageBuild[]>;
  podLog(namespace: string, pod: string, container: string, opts: LogOptions): Promise<string>;
}

/** Most objects of one kind read per namespace: a namespace with more is not a dev namespace. */
export const LIST_LIMIT = 1000;
/** One API read may take this long. */
export const READ_TIMEOUT_MS = 20_000;

export class ReadTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the apiserver within ${Math.round(ms / 1000)}s`);
    this.name = 'ReadTimeoutError';
  }
}

/** `p`, or a ReadTimeoutError after `ms` (the request itself is abandoned, not cancelled). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadTimeoutError(what, ms)), ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function createAnalyzeKube(kc: KubeConfig, timeoutMs = READ_TIMEOUT_MS): Promise<AnalyzeKube> {
  const k8s = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const t = <T>(p: Promise<T>, what: string) => withTimeout(p, timeoutMs, what);
  const sel = (labelSelector?: string) => (labelSelector ? { labelSelector } : {});
  return {
    listPods: async (namespace, labelSelector) => (await t(core.listNamespacedPod({ namespace, limit: LIST_LIMIT, ...sel(labelSelector) }), `listing pods in ${namespace}`)).items,
    listWarningEvents: async (namespace) => (await t(core.listNamespacedEvent({ namespace, fieldSelector: 'type=Warning', limit: LIST_LIMIT }), `listing events in ${namespace}`)).items,
    listReplicaSets: async (namespace, labelSelector) => (await t(apps.listNamespacedReplicaSet({ namespace, limit: LIST_LIMIT, ...sel(labelSelector) }), `listing replicasets in ${namespace}`)).items,
    listSessions: async (namespace) =>
      ((await t(custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace, limit: LIST_LIMIT }), `listing DevSessions in ${namespace}`)) as { items: DevSession[] }).items,
    listImageBuilds: async (namespace, labelSelector) =>
      ((await t(custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace, limit: LIST_LIMIT, ...sel(labelSelector) }), `listing ImageBuilds in ${namespace}`)) as { items: ImageBuild[] }).items,
    podLog: (namespace, name, container, o) =>
      t(core.readNamespacedPodLog({ namespace, name, container, previous: o.previous, tailLines: o.tailLines, limitBytes: o.limitBytes }), `reading the log of ${name}/${container}`),
  };
}
