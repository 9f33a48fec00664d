// Everything the DevSession reconciler does to the apiserver (writes, discovery, live reads of the objects
// it deploys), behind one interface so the reconciler can be driven by a fake in unit tests and by
// client-node against a real cluster.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { DEVSESSION, GROUP, IMAGEBUILD, OPERATOR_FIELD_MANAGER, VERSION, type DevSession, type DevSessionStatus, type ImageBuild } from '@dsa/api';
import { customObjectJsonPatcher, Impersonator, isNotFound, patchStatus, RawObjectApi, type JsonPatcher } from '../../runtime/index.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/**
 * What a session does to the objects it deploys: applies, live reads, deletions and Secret reads. Sent as one
 * identity — the session's impersonated ServiceAccount in a confined install (DevSessionKube.as), so RBAC
 * authorizes each of these against that account.
 */
export interface SessionObjects {
  /** Server-side apply (field manager dsa-operator, force). Returns the object as stored. */
  apply<T extends KubernetesObject>(obj: T): Promise<T>;
  /** A live object; undefined when it (or its kind) does not exist. */
  get(ref: ObjectRef): Promise<KubernetesObject | undefined>;
  /** Background deletion. Resolves false when the object (or its kind) is already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** For namespaces the ImageBuild cache does not cover (cross-namespace builds of a namespaced operator). */
  listImageBuilds(namespace: string, labelSelector: string): Promise<ImageBuild[]>;
  /** `.dockerconfigjson` of a Secret, or undefined when absent (registry credentials for image configs). */
  readDockerConfig(namespace: string, name: string): Promise<string | undefined>;
  /** The string values of a Secret (`data`, decoded), or undefined when absent (secret variables). */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

/**
 * The writes (and the reads of children no informer holds) of the DevSession reconciler. The session
 * itself, other sessions and ImageBuilds are read from the informer cache (see DevSessionReads). The
 * SessionObjects methods on this interface act as the operator itself (its own ImageBuild children).
 */
export interface DevSessionKube extends SessionObjects {
  /** Server-side apply of the status fields dsa-operator owns. Returns the session as stored. */
  applySessionStatus(session: DevSession, status: DevSessionStatus): Promise<DevSession | undefined>;
  /** JSON-patcher for the session's metadata (finalizers); resolves with the session as stored. */
  sessionPatcher(namespace: string, name: string): JsonPatcher;
  /** From discovery; undefined when the kind is unknown to the apiserver. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  /** The same object calls sent as `user` (Impersonate-User). */
  as(user: string): SessionObjects;
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
  private readonly impersonator: Impersonator;
  private readonly clients = new Map<string, ClientNodeDevSessionKube>();

  constructor(
    private readonly kc: k8s.KubeConfig,
    impersonator?: Impersonator,
  ) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.objects = this.makeObjects();
    this.impersonator = impersonator ?? new Impersonator(kc);
  }

  as(user: string): SessionObjects {
    let c = this.clients.get(user);
    if (!c) {
      // Bounded like the impersonator's configs: one client per ServiceAccount in use.
      if (this.clients.size >= 1024) this.clients.clear();
      c = new ClientNodeDevSessionKube(this.impersonator.config(user), this.impersonator);
      this.clients.set(user, c);
    }
    return c;
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

  async applySessionStatus(session: DevSession, status: DevSessionStatus): Promise<DevSession | undefined> {
    return (await patchStatus(
      this.custom,
      { group: GROUP, version: VERSION, kind: DEVSESSION.kind, plural: DEVSESSION.plural, namespace: session.metadata.namespace ?? '', name: session.metadata.name },
      status as Record<string, unknown>,
      { fieldManager: OPERATOR_FIELD_MANAGER, force: true },
    )) as DevSession | undefined;
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

  async readDockerConfig(namespace: string, name: string): Promise<string | undefined> {
    return (await this.readSecret(namespace, name))?.['.dockerconfigjson'];
  }

  async readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const sec = await this.core.readNamespacedSecret({ namespace, name });
      return Object.fromEntries(Object.entries(sec.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}

function toSpec(ref: ObjectRef): KubernetesObject {
  const metadata: k8s.V1ObjectMeta = { name: ref.name };
  if (ref.namespace) metadata.namespace = ref.namespace;
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata };
}
