// Writes through the /status subresource with server-side apply, and SSA of arbitrary objects.
//
// client-node 1.4 pitfall: CustomObjectsApi.patch* pick the first JSON-ish media type of their list,
// application/json-patch+json, as Content-Type, so an SSA/merge body sent without an override is parsed as a
// JSON Patch (415/422). The override is setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply): the
// middleware runs after the generated code set its header. The body is serialized as JSON, which is valid YAML,
// so application/apply-patch+yaml accepts it.
//
// SSA semantics to keep in mind: the field manager owns every field it sent; fields it sent before and omits now
// are REMOVED. So always apply the complete status you want, not a delta.
import * as k8s from '@kubernetes/client-node';
import { RawObjectApi } from './raw-object-api.js';
import type { KubernetesObject } from '@kubernetes/client-node';

export const FIELD_MANAGER = 'dsa-operator';

export interface ObjectRef {
  group: string;
  version: string;
  /** Needed because an apply body must carry apiVersion and kind. */
  kind: string;
  plural: string;
  namespace: string;
  name: string;
}

/** The subset of CustomObjectsApi used here (the real class satisfies it; tests pass a recorder). */
export interface StatusPatchClient {
  patchNamespacedCustomObjectStatus(
    param: k8s.CustomObjectsApiPatchNamespacedCustomObjectStatusRequest,
    options?: k8s.ConfigurationOptions,
  ): Promise<any>;
}

export interface ApplyOptions {
  fieldManager?: string;
  /** Take ownership of fields another manager set (default true: the operator is the only status writer). */
  force?: boolean;
}

/** The apply body for a status write: identity + status only, so we never claim spec/metadata fields. */
export function statusApplyBody(ref: ObjectRef, status: Record<string, unknown>): KubernetesObject & { status: unknown } {
  return {
    apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version,
    kind: ref.kind,
    metadata: { name: ref.name, namespace: ref.namespace },
    status,
  };
}

/** Server-side apply `status` to the object's /status subresource. Returns the updated object. */
export function patchStatus<S extends Record<string, unknown>>(
  client: StatusPatchClient,
  ref: ObjectRef,
  status: S,
  opts: ApplyOptions = {},
): Promise<any> {
  return client.patchNamespacedCustomObjectStatus(
    {
      group: ref.group,
      version: ref.version,
      plural: ref.plural,
      namespace: ref.namespace,
      name: ref.name,
      body: statusApplyBody(ref, status),
      fieldManager: opts.fieldManager ?? FIELD_MANAGER,
      force: opts.force ?? true,
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
  );
}

/** What applyObject needs from KubernetesObjectApi. */
export interface ObjectPatchClient {
  patch<T extends KubernetesObject>(
    spec: T,
    pretty?: string,
    dryRun?: string,
    fieldManager?: string,
    force?: boolean,
    patchStrategy?: k8s.PatchStrategy,
  ): Promise<T>;
}

/**
 * SSA for arbitrary objects (children: Pods, Services, Jobs, ...) through KubernetesObjectApi, which resolves
 * kind → plural via discovery and caches it per apiVersion. If a resource type appeared after the cache was filled
 * (CRD installed later) the lookup can fail; we then make a fresh client once and retry.
 */
export class ObjectApplier {
  private client: ObjectPatchClient;

  constructor(
    private readonly makeClient: () => ObjectPatchClient,
    private readonly fieldManager = FIELD_MANAGER,
  ) {
    this.client = makeClient();
  }

  static fromKubeConfig(kc: k8s.KubeConfig, fieldManager = FIELD_MANAGER): ObjectApplier {
    return new ObjectApplier(() => rawPatchClient(RawObjectApi.fromKubeConfig(kc)), fieldManager);
  }

  async apply<T extends KubernetesObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    const fm = opts.fieldManager ?? this.fieldManager;
    const force = opts.force ?? true;
    try {
      // patch() mutates spec.metadata (fills namespace); hand it a copy.
      return await this.client.patch(structuredClone(obj), undefined, undefined, fm, force, k8s.PatchStrategy.ServerSideApply);
    } catch (e) {
      if (!isDiscoveryMiss(e)) throw e;
      this.client = this.makeClient();
      return this.client.patch(structuredClone(obj), undefined, undefined, fm, force, k8s.PatchStrategy.ServerSideApply);
    }
  }
}

function isDiscoveryMiss(e: unknown): boolean {
  return e instanceof Error && /Unrecognized API version and kind|Failed to fetch resource metadata/.test(e.message);
}

/** An ObjectPatchClient whose SSA sends the object raw (client-node's typed serializer drops unknown fields). */
function rawPatchClient(api: RawObjectApi): ObjectPatchClient {
  return {
    patch: <T extends KubernetesObject>(spec: T, _pretty?: string, _dryRun?: string, fieldManager?: string, force?: boolean) =>
      api.applyRaw(spec, fieldManager ?? FIELD_MANAGER, force ?? true),
  };
}

/** One-shot SSA of `obj` (creates a client per call; prefer a long-lived ObjectApplier in controllers). */
export function applyObject<T extends KubernetesObject>(kc: k8s.KubeConfig, obj: T, fieldManager = FIELD_MANAGER): Promise<T> {
  return ObjectApplier.fromKubeConfig(kc, fieldManager).apply(obj);
}
