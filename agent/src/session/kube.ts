// The apiserver calls the session commands make, behind one small interface so the orchestration
// (apply order, waits, deletion) is unit-tested with an in-memory fake instead of module mocks.
// client-node is imported lazily: it costs a few hundred milliseconds to load.
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { AGENT_FIELD_MANAGER, ANNOTATIONS, API_VERSION, DEVSESSION, GROUP, IMAGEBUILD, VERSION, type DevSession, type ImageBuild, type SyncPathStatus } from '@dsa/api';
import { ClusterError } from '../errors.js';
import { watchCollection } from '../kube/watch.js';

export interface SessionRef {
  namespace: string;
  name: string;
}

/** A Secret as the agent applies it (the values of secret-typed variables). */
export interface SecretForApply {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string }>;
  };
  type?: string;
  stringData: Record<string, string>;
}

export interface SessionKube {
  /** Creates the namespace when it does not exist; true when it was created. */
  ensureNamespace(name: string): Promise<boolean>;
  /** Server-side apply as `dsa-agent` with force; returns the object as stored. */
  applySession(session: DevSession): Promise<DevSession>;
  /** Server-side apply of a Secret as `dsa-agent` with force. */
  applySecret(secret: SecretForApply): Promise<void>;
  getSession(ref: SessionRef): Promise<DevSession | undefined>;
  /**
   * Watch one session from `resourceVersion`. Resolves when the server ends the watch (after about
   * timeoutSeconds) or the signal aborts; rejects with a WatchError (statusCode 410: the version is
   * too old, start again from a fresh GET).
   */
  watchSession(ref: SessionRef, opts: SessionWatchOptions): Promise<void>;
  /** Merge-patch spec.keepDeployments (before `down --keep-deployments`). */
  setKeepDeployments(ref: SessionRef, keep: boolean): Promise<void>;
  /** False when it did not exist. */
  deleteSession(ref: SessionRef): Promise<boolean>;
  getImageBuild(ref: SessionRef): Promise<ImageBuild | undefined>;
  /**
   * Merge-patch the `dsa.dev/requested-at` annotation (-b: the operator builds again). False when the
   * ImageBuild does not exist.
   */
  requestBuild(ref: SessionRef, requestedAt: string): Promise<boolean>;
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>;
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /**
   * SSA of the status fields the agent owns (`sync`, `agentHeartbeatTime`) as `dsa-agent` through
   * /status; `undefined` removes them (SSA drops fields a manager stops sending). The operator never
   * sets these, so the two managers don't fight.
   */
  applyAgentStatus(ref: SessionRef, status: AgentStatus | undefined): Promise<void>;
}

export interface SessionWatchOptions {
  /** Where to start; undefined: the current state arrives as ADDED first. */
  resourceVersion?: string;
  timeoutSeconds: number;
  signal: AbortSignal;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK', session: DevSession): void;
}

/** What `kubectl get devsessions` shows about the developer's agent. */
export interface AgentStatus {
  /** The SYNC printer column. */
  sync: string;
  agentHeartbeatTime: string;
  /** Per sync path state, reported by the sync service. */
  syncPaths?: SyncPathStatus[];
}

export type { SyncPathStatus };

export const statusCode = (e: unknown): number | undefined => {
  const code = (e as { code?: unknown; statusCode?: unknown })?.code ?? (e as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
};

/** The apiserver's own message of an ApiException (its body is a JSON V1Status), else the error text. */
export function apiMessage(e: unknown): string {
  const body = (e as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      // not JSON: fall through
    }
  } else if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  const msg = (e as Error)?.message ?? String(e);
  return msg.split('\n')[0] ?? msg;
}

/**
 * Connection-level failures (refused, DNS, TLS) and auth denials become ClusterError with a message a
 * person can act on; anything else is returned unchanged for the caller to classify.
 */
export function toClusterError(e: unknown, what: string): unknown {
  const code = statusCode(e);
  if (code === 401) return new ClusterError(`${what}: unauthorized (check your kubeconfig credentials)`, { cause: e });
  if (code === 403) return new ClusterError(`${what}: forbidden: ${apiMessage(e)}`, { cause: e });
  const errno = (e as { code?: unknown; cause?: { code?: unknown } })?.cause?.code ?? (e as { code?: unknown })?.code;
  if (typeof errno === 'string' && /^(ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|CERT_|DEPTH_ZERO|UNABLE_TO)/.test(errno)) {
    return new ClusterError(`${what}: cannot reach the cluster (${errno})`, { cause: e });
  }
  if (e instanceof Error && /fetch failed|ECONNREFUSED|socket hang up/.test(e.message)) {
    return new ClusterError(`${what}: cannot reach the cluster (${e.message})`, { cause: e });
  }
  return e;
}

export async function createSessionKube(kc: KubeConfig): Promise<SessionKube> {
  const k8s = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const sessionPath = (ref: SessionRef) => ({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ref.namespace, name: ref.name });
  const buildPath = (ref: SessionRef) => ({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: ref.namespace, name: ref.name });
  const orUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw e;
    }
  };
  const existed = async (p: Promise<unknown>): Promise<boolean> => {
    try {
      await p;
      return true;
    } catch (e) {
      if (statusCode(e) === 404) return false;
      throw e;
    }
  };
  return {
    async ensureNamespace(name) {
      try {
        await core.readNamespace({ name });
        return false;
      } catch (e) {
        // 403 on read: a user with namespaced RBAC only; try to use it anyway, apply will tell.
        if (statusCode(e) === 403) return false;
        if (statusCode(e) !== 404) throw e;
      }
      try {
        await core.createNamespace({ body: { metadata: { name } } });
        return true;
      } catch (e) {
        if (statusCode(e) === 409) return false;
        throw e;
      }
    },
    async applySession(session) {
      return (await custom.patchNamespacedCustomObject(
        { ...sessionPath({ namespace: session.metadata.namespace ?? 'default', name: session.metadata.name }), body: session, fieldManager: AGENT_FIELD_MANAGER, force: true },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      )) as DevSession;
    },
    async applySecret(secret) {
      await core.patchNamespacedSecret(
        { namespace: secret.metadata.namespace, name: secret.metadata.name, body: secret, fieldManager: AGENT_FIELD_MANAGER, force: true },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      );
    },
    getSession: (ref) => orUndefined(custom.getNamespacedCustomObject(sessionPath(ref)) as Promise<DevSession>),
    watchSession: (ref, opts) =>
      watchCollection(kc, {
        path: `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(ref.namespace)}/${DEVSESSION.plural}`,
        query: {
          fieldSelector: `metadata.name=${ref.name}`,
          resourceVersion: opts.resourceVersion,
          timeoutSeconds: String(opts.timeoutSeconds),
          allowWatchBookmarks: 'true',
        },
        signal: opts.signal,
        // The server ends the watch after timeoutSeconds; only a stalled connection lives longer.
        maxDurationMs: (opts.timeoutSeconds + 15) * 1000,
        onEvent: (e) => {
          if (e.type !== 'ERROR') opts.onEvent(e.type, e.object as DevSession);
        },
      }),
    async applyAgentStatus(ref, status) {
      await custom.patchNamespacedCustomObjectStatus(
        {
          ...sessionPath(ref),
          body: { apiVersion: API_VERSION, kind: DEVSESSION.kind, metadata: { name: ref.name, namespace: ref.namespace }, status: status ?? {} },
          fieldManager: AGENT_FIELD_MANAGER,
          force: true,
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
      );
    },
    async setKeepDeployments(ref, keep) {
      await custom.patchNamespacedCustomObject(
        { ...sessionPath(ref), body: { spec: { keepDeployments: keep } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    },
    deleteSession: (ref) => existed(custom.deleteNamespacedCustomObject({ ...sessionPath(ref), propagationPolicy: 'Background' })),
    getImageBuild: (ref) => orUndefined(custom.getNamespacedCustomObject(buildPath(ref)) as Promise<ImageBuild>),
    // A merge patch touches only this annotation: the operator's server-side apply of the ImageBuild
    // does not own it, so it neither removes it nor conflicts with it.
    requestBuild: (ref, requestedAt) =>
      existed(
        custom.patchNamespacedCustomObject(
          { ...buildPath(ref), body: { metadata: { annotations: { [ANNOTATIONS.requestedAt]: requestedAt } } }, fieldManager: AGENT_FIELD_MANAGER },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        ),
      ),
    async listPods(namespace, labelSelector) {
      return (await core.listNamespacedPod({ namespace, ...(labelSelector ? { labelSelector } : {}) })).items;
    },
    getPod: (namespace, name) => orUndefined(core.readNamespacedPod({ namespace, name })),
  };
}
