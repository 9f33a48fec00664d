// The cluster harness's environment contract (test-e2e/cluster/env.sh), read once with clear errors.
import * as k8s from '@kubernetes/client-node';

export interface ClusterEnv {
  kubeconfig: string;
  tier: string;
  nodeIp: string | undefined;
  registry: string | undefined;
  testImage: string | undefined;
  nodeImage: string | undefined;
  kanikoImage: string | undefined;
  /** The dev sidecar image (sidecar/build/build-image.sh). */
  sidecarImage: string | undefined;
  helm: string | undefined;
  kubeBin: string | undefined;
}

const HINT = 'run: eval "$(test-e2e/cluster/ensure.sh node)" (or `make test-node`)';

export function clusterEnv(env: Record<string, string | undefined> = process.env): ClusterEnv {
  if (!env.KUBECONFIG) throw new Error(`KUBECONFIG is not set; ${HINT}`);
  return {
    kubeconfig: env.KUBECONFIG,
    tier: env.DSA_CLUSTER_TIER ?? 'unknown',
    nodeIp: env.DSA_NODE_IP || undefined,
    registry: env.DSA_REGISTRY || undefined,
    testImage: env.DSA_TEST_IMAGE || undefined,
    nodeImage: env.DSA_NODE_IMAGE || undefined,
    kanikoImage: env.DSA_KANIKO_IMAGE || undefined,
    sidecarImage: env.DSA_SIDECAR_IMAGE || undefined,
    helm: env.DSA_HELM || undefined,
    kubeBin: env.DSA_KUBE_BIN || undefined,
  };
}

/** Like clusterEnv(), but every listed field must be set (a full-node suite needs the registry, images, helm). */
export function requireEnv<K extends keyof ClusterEnv>(...keys: K[]): ClusterEnv & { [P in K]-?: NonNullable<ClusterEnv[P]> } {
  const e = clusterEnv();
  const missing = keys.filter((k) => !e[k]);
  if (missing.length) throw new Error(`cluster environment incomplete (missing ${missing.join(', ')}); ${HINT}`);
  return e as ClusterEnv & { [P in K]-?: NonNullable<ClusterEnv[P]> };
}

/** KubeConfig from KUBECONFIG; refuses client-node's silent fallback to localhost:8080. */
export function kubeFromEnv(): k8s.KubeConfig {
  clusterEnv();
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const server = kc.getCurrentCluster()?.server;
  if (!server || server === 'http://localhost:8080') throw new Error(`KUBECONFIG has no usable cluster; ${HINT}`);
  return kc;
}
