// Server-side apply of arbitrary objects, sending the object exactly as given.
//
// client-node 1.4's KubernetesObjectApi.patch() runs the body through its typed ObjectSerializer
// (`V1Deployment`, `V1CustomResourceDefinition`, …). That serializer keeps only the fields its
// generated models know and drops the rest without a word: `enum` and every `x-kubernetes-*` key of
// a CRD schema, and any field newer than the client's models. For an operator that applies what
// users wrote, a silently altered object is worse than an error, so the body is sent raw here. The
// rest (discovery of kind → resource, auth, TLS, error mapping to ApiException) is client-node's.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';

export class RawObjectApi extends k8s.KubernetesObjectApi {
  static fromKubeConfig(kc: k8s.KubeConfig): RawObjectApi {
    const api = kc.makeApiClient(RawObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  /** Discovery (resource() is protected upstream): undefined when the apiserver doesn't serve the kind. */
  lookup(apiVersion: string, kind: string): Promise<k8s.V1APIResource | undefined> {
    return this.resource(apiVersion, kind);
  }

  useContextNamespace(kc: k8s.KubeConfig): void {
    this.setDefaultNamespace(kc);
  }

  /** SSA `obj` as-is (namespace defaulted like kubectl's). Returns the object as stored. */
  async applyRaw<T extends KubernetesObject>(obj: T, fieldManager: string, force = true): Promise<T> {
    const spec = structuredClone(obj); // specUriPath() fills in metadata.namespace on its argument
    const path = await this.specUriPath(spec, 'patch');
    const ctx = this.configuration.baseServer.makeRequestContext(path, k8s.HttpMethod.PATCH);
    ctx.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    ctx.setHeaderParam('Content-Type', k8s.PatchStrategy.ServerSideApply);
    ctx.setQueryParam('fieldManager', fieldManager);
    ctx.setQueryParam('force', String(force));
    ctx.setBody(JSON.stringify(spec));
    return this.requestPromise<T>(ctx);
  }
}
