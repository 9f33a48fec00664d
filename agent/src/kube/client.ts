// Lazily built @kubernetes/client-node objects. The library is imported on first use only: it takes
// a few hundred milliseconds to load, which offline commands (render, validate, --help) should not pay.
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from '../errors.js';
import { requireCluster, targetKubeconfigYaml, type KubeTarget, type MergedKubeconfig } from './kubeconfig.js';

export async function createKubeConfig(kc: MergedKubeconfig, target: KubeTarget): Promise<KubeConfig> {
  requireCluster(target);
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  try {
    if (target.inCluster) config.loadFromCluster();
    else config.loadFromString(targetKubeconfigYaml(kc, target));
  } catch (err) {
    throw new ClusterError(`invalid kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  return config;
}
