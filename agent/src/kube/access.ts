// Lazily resolved cluster access: which kubeconfig/context/namespace applies is decided offline
// (render and validate never load client-node), the client-node KubeConfig only when an action needs
// the cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../output/logger.js';
import { createKubeConfig } from './client.js';
import { loadKubeconfig, resolveTarget, type KubeTarget, type MergedKubeconfig } from './kubeconfig.js';

/** What the loaded project asks for (flags still win). */
export interface ProjectKubeHints {
  namespace?: string;
  kubeContext?: string;
}

export interface KubeAccess {
  /** Which kubeconfig/context/namespace applies; never contacts the cluster. Memoized per hints. */
  target(hints?: ProjectKubeHints): KubeTarget;
  /** A client-node KubeConfig for that target; throws ClusterError when no cluster is configured. */
  kubeConfig(hints?: ProjectKubeHints): Promise<KubeConfig>;
}

export interface KubeAccessOptions {
  /** `--kubeconfig`, `--context`, `-n`. */
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  cwd: string;
  log: Pick<Logger, 'debug' | 'warn'>;
}

export function createKubeAccess(opts: KubeAccessOptions): KubeAccess {
  let merged: MergedKubeconfig | undefined;
  const targets = new Map<string, KubeTarget>();
  const access: KubeAccess = {
    target(hints = {}) {
      const key = JSON.stringify([hints.namespace ?? '', hints.kubeContext ?? '']);
      let t = targets.get(key);
      if (t === undefined) {
        merged ??= loadKubeconfig({ kubeconfig: opts.kubeconfig, env: opts.env, homeDir: opts.homeDir, cwd: opts.cwd });
        t = resolveTarget(merged, {
          context: opts.context,
          namespace: opts.namespace,
          projectContext: hints.kubeContext,
          projectNamespace: hints.namespace,
          env: opts.env,
        });
        opts.log.debug(`kube: files=[${t.files.join(', ')}] context=${t.contextName ?? '-'} namespace=${t.namespace} (from ${t.namespaceSource})`);
        if (t.ignoredProjectContext) opts.log.warn(`kube context "${t.ignoredProjectContext}" from the config does not exist here; using ${t.contextName ?? 'none'}`);
        targets.set(key, t);
      }
      return t;
    },
    async kubeConfig(hints) {
      const t = access.target(hints);
      return createKubeConfig(merged!, t);
    },
  };
  return access;
}
