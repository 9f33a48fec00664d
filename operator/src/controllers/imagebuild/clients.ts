// The IO the ImageBuild reconciler does, behind one narrow interface (tests pass an in-memory fake); in the
// operator its reads come from the shared informer cache (cachedImageBuildClients).
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { GROUP, IMAGEBUILD, VERSION, type ImageBuild, type ImageBuildStatus } from '@dsa/api';
import { isNotFound } from '../../runtime/api-errors.js';
import { patchStatus } from '../../runtime/status.js';
import { FreshReader } from '../../runtime/fresh-read.js';
import { coversNamespace } from '../../runtime/informer-cache.js';
import type { SharedInformer } from '../../runtime/informer.js';
import type { Clock } from '../../runtime/clock.js';
import { Impersonator } from '../../runtime/impersonation.js';

/**
 * What a build does in its namespace: the build pod, its log, the push Secret. In a confined install these are
 * sent as the ImageBuild's ServiceAccount (ImageBuildClients.as), so RBAC decides what a tenant may build with.
 */
export interface ImageBuildActions {
  createPod(pod: V1Pod): Promise<V1Pod>;
  deletePod(namespace: string, name: string): Promise<void>;
  /** `.dockerconfigjson` of a Secret, or undefined when absent. */
  readDockerConfig(namespace: string, name: string): Promise<string | undefined>;
  /** Last `tailLines` lines of a container's log ('' when unavailable). */
  podLogTail(namespace: string, pod: string, container: string, tailLines: number): Promise<string>;
}

export interface ImageBuildClients extends ImageBuildActions {
  /** The build actions sent as `user` (Impersonate-User). */
  as(user: string): ImageBuildActions;
  getImageBuild(namespace: string, name: string): Promise<ImageBuild | undefined>;
  /** Server-side apply of the complete status. Returns the ImageBuild as stored (when the API says). */
  applyStatus(ib: ImageBuild, status: ImageBuildStatus): Promise<ImageBuild | void>;
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
}

export function kubeImageBuildClients(kc: k8s.KubeConfig, impersonator: Impersonator = new Impersonator(kc)): ImageBuildClients {
  const actors = new Map<string, ImageBuildActions>();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const orUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  return {
    as: (user) => {
      let a = actors.get(user);
      if (!a) {
        if (actors.size >= 1024) actors.clear();
        a = kubeImageBuildClients(impersonator.config(user), impersonator);
        actors.set(user, a);
      }
      return a;
    },
    getImageBuild: (namespace, name) =>
      orUndefined(custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace, name }) as Promise<ImageBuild>),
    applyStatus: async (ib, status) =>
      (await patchStatus(
        custom,
        { group: GROUP, version: VERSION, kind: IMAGEBUILD.kind, plural: IMAGEBUILD.plural, namespace: ib.metadata.namespace ?? 'default', name: ib.metadata.name },
        status as Record<string, unknown>,
      )) as ImageBuild,
    getPod: (namespace, name) => orUndefined(core.readNamespacedPod({ namespace, name })),
    listPods: async (namespace, labelSelector) => (await core.listNamespacedPod({ namespace, labelSelector })).items,
    createPod: (pod) => core.createNamespacedPod({ namespace: pod.metadata?.namespace ?? 'default', body: pod }),
    deletePod: async (namespace, name) => {
      await orUndefined(core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }));
    },
    readDockerConfig: async (namespace, name) => {
      const s = await orUndefined(core.readNamespacedSecret({ namespace, name }));
      const data = s?.data?.['.dockerconfigjson'];
      return data ? Buffer.from(data, 'base64').toString('utf8') : undefined;
    },
    podLogTail: async (namespace, name, container, tailLines) => {
      try {
        return String(await core.readNamespacedPodLog({ namespace, name, container, tailLines }));
      } catch {
        return '';
      }
    },
  };
}

/**
 * `base` with its reads served from the informer cache: the ImageBuild (never older than our own last status
 * write, and only when this operator's scope), and its build pods (never older than our own creates).
 * Namespaces the cache does not cover fall back to `base`.
 */
export function cachedImageBuildClients(
  base: ImageBuildClients,
  o: { imageBuilds: SharedInformer<KubernetesObject>; buildPods: SharedInformer<V1Pod>; inScope?: (obj: KubernetesObject) => boolean; clock?: Clock },
): ImageBuildClients {
  const builds = new FreshReader(o.imageBuilds, { clock: o.clock });
  const pods = new FreshReader(o.buildPods, { clock: o.clock });
  const matches = (p: V1Pod, selector: string) =>
    selector
      .split(',')
      .filter(Boolean)
      .every((term) => {
        const [k, v] = term.split('=');
        return p.metadata?.labels?.[k!] === v;
      });
  return {
    ...base,
    getImageBuild: async (namespace, name) => {
      if (!coversNamespace(o.imageBuilds, namespace)) return base.getImageBuild(namespace, name);
      const ib = builds.get(namespace, name);
      if (!ib || (o.inScope && !o.inScope(ib))) return undefined;
      // A copy: the reconciler keeps its own status current while it works.
      return structuredClone(ib) as unknown as ImageBuild;
    },
    applyStatus: async (ib, status) => {
      const stored = await base.applyStatus(ib, status);
      if (stored) builds.recordWrite(stored as unknown as KubernetesObject);
      return stored;
    },
    getPod: async (namespace, name) => (coversNamespace(o.buildPods, namespace) ? pods.get(namespace, name) : base.getPod(namespace, name)),
    listPods: async (namespace, selector) =>
      coversNamespace(o.buildPods, namespace) ? o.buildPods.list(namespace).filter((p) => matches(p, selector)) : base.listPods(namespace, selector),
    createPod: async (pod) => {
      const created = await base.createPod(pod);
      pods.recordWrite(created);
      return created;
    },
    as: (user) => {
      const a = base.as(user);
      return {
        ...a,
        createPod: async (pod) => {
          const created = await a.createPod(pod);
          pods.recordWrite(created);
          return created;
        },
      };
    },
  };
}
