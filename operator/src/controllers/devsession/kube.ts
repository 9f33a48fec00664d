// Everything the DevSession reconciler does to the apiserver, behind one interface so the reconciler
// can be driven by a fake in unit tests and by client-node against a real cluster.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { DEVSESSION, GROUP, IMAGEBUILD, OPERATOR_FIELD_MANAGER, VERSION, type DevSession, type DevSessionStatus, type ImageBuild } from '@dsa/api';
import { customObjectJsonPatcher, isNotFound, patchStatus, RawObjectApi, type JsonPatcher } from '../../runtime/index.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface DevSessionKube {
  /** Fresh read (the informer cache may lag behind our own writes). undefined when gone. */
  getSession(namespace: string, name: string): Promise<DevSession | undefined>;
  /** Server-side apply of the status fields dsa-operator owns. */
  applySessionStatus(session: DevSession, status: DevSessionStatus): Promise<void>;
  /** JSON-patcher for the session's metadata (finalizers). */
  sessionPatcher(namespace: string, name: string): JsonPatcher;
  /** Server-side apply (field manager dsa-operator, force). Returns the object as stored. */
  apply<T extends KubernetesObject>(obj: T): Promise<T>;
  get(ref: ObjectRef): Promise<KubernetesObject | undefined>;
  /** Background deletion. Resolves false when the object (or its kind) is already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** From discovery; undefined when the kind is unknown to the apiserver. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  listImageBuilds(namespace: string, labelSelector: string): Promise<ImageBuild[]>;
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>;
}

/** Raw SSA (no typed serializer dropping fields) + discovery; see runtime/raw-object-api.ts. */
class DiscoveryObjectApi extends RawObjectApi {}

/** Discovery failures client-node reports as plain Errors: the kind or group/version is not served. */
export function isUnknownKind(e: unknown): boolean {
  return e instanceof Error && /Unrecognized API version and kind|Failed to fetch resource metadata/.test(e.message);
}

export class ClientNodeDevSessionKube implements DevSessionKube {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;
  private objects: DiscoveryObjectApi;

  constructor(private readonly kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.objects = this.makeObjects();
  }

  private makeObjects(): DiscoveryObjectApi {
    const api = this.kc.makeApiClient(DiscoveryObjectApi);
    api.useContextNamespace(this.kc);
    return api;
  }

  /** Discovery is cached per apiVersion: a kind installed later (a CRD from an earlier deployment) needs a fresh client. */
  private async withDiscoveryRetry<R>(fn: (api: DiscoveryObjectApi) => Promise<R>): Promise<R> {
    try {
      return await fn(this.objects);
    } catch (e) {
      if (!isUnknownKind(e)) throw e;
      this.objects = this.makeObjects();
      return fn(this.objects);
    }
  }

  async getSession(namespace: string, name: string): Promise<DevSession | undefined> {
    try {
      return (await this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace, name })) as DevSession;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async applySessionStatus(session: DevSession, status: DevSessionStatus): Promise<void> {
    await patchStatus(
      this.custom,
      { group: GROUP, version: VERSION, kind: DEVSESSION.kind, plural: DEVSESSION.plural, namespace: session.metadata.namespace ?? '', name: session.metadata.name },
      status as Record<string, unknown>,
      { fieldManager: OPERATOR_FIELD_MANAGER, force: true },
    );
  }

  sessionPatcher(namespace: string, name: string): JsonPatcher {
    return customObjectJsonPatcher(this.custom, { group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace, name });
  }

  apply<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.withDiscoveryRetry((api) => api.applyRaw(obj, OPERATOR_FIELD_MANAGER, true));
  }

  async get(ref: ObjectRef): Promise<KubernetesObject | undefined> {
    try {
      return await this.withDiscoveryRetry((api) => api.read(toSpec(ref) as Parameters<DiscoveryObjectApi["read"]>[0]));
    } catch (e) {
      if (isNotFound(e) || isUnknownKind(e)) return undefined;
      throw e;
    }
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.withDiscoveryRetry((api) => api.delete(toSpec(ref), undefined, undefined, undefined, undefined, 'Background'));
      return true;
    } catch (e) {
      // A kind that is no longer served (its CRD was deleted first) has no objects left to delete.
      if (isNotFound(e) || isUnknownKind(e)) return false;
      throw e;
    }
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    try {
      const r = await this.withDiscoveryRetry(async (api) => {
        const found = await api.lookup(apiVersion, kind);
        if (!found) throw new Error(`Unrecognized API version and kind: ${apiVersion} ${kind}`);
        return found;
      });
      return r.namespaced;
    } catch (e) {
      if (isUnknownKind(e) || isNotFound(e)) return undefined;
      throw e;
    }
  }

  async listImageBuilds(namespace: string, labelSelector: string): Promise<ImageBuild[]> {
    const list = (await this.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace, labelSelector })) as { items?: ImageBuild[] };
    return list.items ?? [];
  }

  async listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace, labelSelector })).items;
  }
}

function toSpec(ref: ObjectRef): KubernetesObject {
  const metadata: k8s.V1ObjectMeta = { name: ref.name };
  if (ref.namespace) metadata.namespace = ref.namespace;
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata };
}
