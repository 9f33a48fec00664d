// The IO the ImageBuild reconciler does, behind one narrow interface (tests pass an in-memory fake).
import * as k8s from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { GROUP, IMAGEBUILD, VERSION, type ImageBuild, type ImageBuildStatus } from '@dsa/api';
import { isNotFound } from '../../runtime/api-errors.js';
import { patchStatus } from '../../runtime/status.js';

export interface ImageBuildClients {
  getImageBuild(namespace: string, name: string): Promise<ImageBuild | undefined>;
  /** Server-side apply of the complete status. */
  applyStatus(ib: ImageBuild, status: ImageBuildStatus): Promise<void>;
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  createPod(pod: V1Pod): Promise<V1Pod>;
  deletePod(namespace: string, name: string): Promise<void>;
  /** `.dockerconfigjson` of a Secret, or undefined when absent. */
  readDockerConfig(namespace: string, name: string): Promise<string | undefined>;
  /** Last `tailLines` lines of a container's log ('' when unavailable). */
  podLogTail(namespace: string, pod: string, container: string, tailLines: number): Promise<string>;
}

export function kubeImageBuildClients(kc: k8s.KubeConfig): ImageBuildClients {
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
    getImageBuild: (namespace, name) =>
      orUndefined(custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace, name }) as Promise<ImageBuild>),
    applyStatus: async (ib, status) => {
      await patchStatus(
        custom,
        { group: GROUP, version: VERSION, kind: IMAGEBUILD.kind, plural: IMAGEBUILD.plural, namespace: ib.metadata.namespace ?? 'default', name: ib.metadata.name },
        status as Record<string, unknown>,
      );
    },
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
