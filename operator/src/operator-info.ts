// The operator's version, where a developer can read it: a ConfigMap `dsa-operator-info` in the operator's
// own namespace (version, the dsa API it reconciles, a digest of the CRD schemas it was built with, its
// scope). `dsa version --cluster` shows it and `dsa up`/`deploy` warn once when the agent speaks another
// API (agent/src/actions/cluster-version.ts). A ConfigMap because every install may write one in its own
// namespace (no cluster-wide write) and read access can be granted for that one object by name.
//
// Written once at start-up by every replica (server-side apply, same content), in the background: the
// operator reconciles whether or not it could publish.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, canonicalJson, generateCrds, OPERATOR_FIELD_MANAGER, sha256Hex } from '@dsa/api';
import type { Logger } from './log.js';

/** The agent reads this name (agent/src/actions/cluster-version.ts; a unit test keeps them equal). */
export const OPERATOR_INFO_NAME = 'dsa-operator-info';

/** sha256 (12 hex digits) of the CRDs' names and versions; the agent computes the same for itself. */
export function apiDigest(): string {
  return sha256Hex(canonicalJson(generateCrds().map((c) => ({ name: c.metadata.name, versions: c.spec.versions })))).slice(0, 12);
}

export interface OperatorInfoInput {
  namespace: string;
  version: string;
  scope: string;
  startedAt: Date;
}

/** Pure: the ConfigMap to apply. */
export function operatorInfoConfigMap(input: OperatorInfoInput): k8s.V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: OPERATOR_INFO_NAME,
      namespace: input.namespace,
      labels: { 'app.kubernetes.io/name': 'dsa-operator', 'app.kubernetes.io/component': 'operator-info', 'app.kubernetes.io/managed-by': 'dsa' },
    },
    data: { version: input.version, apiVersion: API_VERSION, apiDigest: apiDigest(), scope: input.scope, startedAt: input.startedAt.toISOString() },
  };
}

/** Apply the ConfigMap in the background, retrying a few times; a failure (e.g. RBAC) is logged, never thrown. */
export function publishOperatorInfo(kc: k8s.KubeConfig, input: Omit<OperatorInfoInput, 'startedAt'> & { log: Logger; attempts?: number }): Promise<void> {
  const log = input.log.child({ component: 'operator-info' });
  if (!input.namespace) {
    log.debug('no namespace (POD_NAMESPACE / --leader-election-namespace): version not published');
    return Promise.resolve();
  }
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const body = operatorInfoConfigMap({ ...input, startedAt: new Date() });
  const attempts = input.attempts ?? 5;
  const run = async (): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await core.patchNamespacedConfigMap(
          { name: OPERATOR_INFO_NAME, namespace: input.namespace, body, fieldManager: OPERATOR_FIELD_MANAGER, force: true },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
        );
        log.info({ namespace: input.namespace, name: OPERATOR_INFO_NAME, version: input.version }, 'published operator version');
        return;
      } catch (err) {
        if (attempt >= attempts) {
          log.warn({ err, namespace: input.namespace }, `cannot publish ConfigMap ${OPERATOR_INFO_NAME}: dsa version --cluster will not show this operator`);
          return;
        }
        await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)).unref());
      }
    }
  };
  return run();
}
