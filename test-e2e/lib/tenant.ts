// Tenant namespaces for the confined operator (docs/security.md): every operator the suites start impersonates
// the session namespace's ServiceAccount `dsa-deployer`, which gets exactly the chart's ready-made tenant rules
// (charts/dsa-operator/files/tenant-rules.yaml) through a namespaced Role. So the suites run under the default
// confinement, and the ready-made Role is proven sufficient for everything they deploy and build.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

export const DEPLOYER_SA = 'dsa-deployer';
const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** The chart's tenant rules (the same file the chart renders into its `<release>-tenant` ClusterRole). */
export function tenantRules(): k8s.V1PolicyRule[] {
  return parseYaml(readFileSync(resolve(REPO, 'charts/dsa-operator/files/tenant-rules.yaml'), 'utf8')) as k8s.V1PolicyRule[];
}

const ignoreExists = (e: unknown) => {
  if ((e as { code?: number }).code !== 409) throw e;
};

/**
 * The ServiceAccount `sa` (default dsa-deployer) in `namespace`, a Role with the tenant rules (plus `extra`), and
 * the RoleBinding between them. Idempotent.
 */
export async function grantDeployer(kc: k8s.KubeConfig, namespace: string, opts: { sa?: string; extra?: k8s.V1PolicyRule[] } = {}): Promise<void> {
  const sa = opts.sa ?? DEPLOYER_SA;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa }, automountServiceAccountToken: false } }).catch(ignoreExists);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: `${sa}-tenant` }, rules: [...tenantRules(), ...(opts.extra ?? [])] } }).catch(ignoreExists);
  await rbac
    .createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: `${sa}-tenant` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${sa}-tenant` },
        subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
      },
    })
    .catch(ignoreExists);
}

/** Rules beyond the ready-made tenant Role, for a suite that deploys more (a Role + RoleBinding of their own). */
export async function grantExtra(kc: k8s.KubeConfig, namespace: string, rules: k8s.V1PolicyRule[], sa = DEPLOYER_SA): Promise<void> {
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: `${sa}-extra` }, rules } }).catch(ignoreExists);
  await rbac
    .createNamespacedRoleBinding({
      namespace,
      body: { metadata: { name: `${sa}-extra` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${sa}-extra` }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace }] },
    })
    .catch(ignoreExists);
}
