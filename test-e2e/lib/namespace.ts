// Namespace per test file: a random name so parallel or leftover runs never collide, and a cleanup that
// waits for the namespace to be gone (optional) so the next suite starts from a clean cluster.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from './wait.js';
import { scopeLabels } from './scope.js';
import { grantDeployer } from './tenant.js';

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

export interface CleanupOptions {
  /** Wait until the API no longer returns the namespace. */
  wait?: boolean;
  timeoutMs?: number;
  /**
   * Custom resources whose finalizers are removed first. Needed when the controller that would remove them is no
   * longer running (it was stopped or uninstalled by the test): otherwise the namespace stays Terminating forever.
   */
  stripFinalizers?: CustomResource[];
}

export interface TestNamespace {
  name: string;
  /** Delete the namespace. Never throws on not-found. */
  cleanup(opts?: CleanupOptions): Promise<void>;
}

/** Remove metadata.finalizers from every object of a custom resource in a namespace. */
export async function stripFinalizers(kc: k8s.KubeConfig, namespace: string, cr: CustomResource): Promise<number> {
  const api = kc.makeApiClient(k8s.CustomObjectsApi);
  let list: { items: Array<{ metadata?: { name?: string; finalizers?: string[] } }> };
  try {
    list = (await api.listNamespacedCustomObject({ ...cr, namespace })) as typeof list;
  } catch (e) {
    if (isNotFound(e)) return 0; // CRD or namespace gone
    throw e;
  }
  let n = 0;
  for (const item of list.items) {
    if (!item.metadata?.finalizers?.length || !item.metadata.name) continue;
    try {
      await api.patchNamespacedCustomObject(
        { ...cr, namespace, name: item.metadata.name, body: { metadata: { finalizers: null } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      n++;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return n;
}

const isNotFound = (e: unknown) => (e as { code?: number })?.code === 404;

/**
 * A namespace with a random name, labelled with this file's operator scope (scope.ts): only the suite's own
 * operators reconcile what is created in it. `labels` may override the scope label (a test of scoping).
 * It is a tenant namespace (tenant.ts): the confined operators impersonate its `dsa-deployer` ServiceAccount,
 * which holds the chart's ready-made tenant Role — unless `deployer: false` (a namespace nobody deploys into).
 */
export async function createTestNamespace(kc: k8s.KubeConfig, prefix: string, labels: Record<string, string> = {}, opts: { deployer?: boolean } = {}): Promise<TestNamespace> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels: { 'dsa.dev/e2e': 'true', ...scopeLabels(), ...labels } } } });
  if (opts.deployer !== false) await grantDeployer(kc, name);
  return {
    name,
    async cleanup(opts = {}) {
      for (const cr of opts.stripFinalizers ?? []) await stripFinalizers(kc, name, cr);
      try {
        await core.deleteNamespace({ name, propagationPolicy: 'Background' });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (opts.wait) {
        await waitFor(
          `namespace ${name} to be deleted`,
          async () => {
            try {
              await core.readNamespace({ name });
              return false;
            } catch (e) {
              if (isNotFound(e)) return true;
              throw e;
            }
          },
          { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 500 },
        );
      }
    },
  };
}
