// Tenant confinement (docs/security.md): what an operator install lets a DevSession do on a shared cluster.
//
//  - impersonate: everything a session deploys or builds is sent as a ServiceAccount of the session's own
//    namespace (spec.serviceAccountName, else `defaultServiceAccount`), so Kubernetes RBAC decides what a
//    session may create — exactly what that account may create;
//  - allowCrossNamespace / allowClusterScoped: objects outside the session's namespace, and cluster-scoped
//    kinds, are refused before anything is sent (the `confinement` transform), and so are ImageBuilds in
//    another namespace.
//
// The confined values are the defaults of the flags and of the chart; UNCONFINED is the documented switch back
// to the operator acting with its own rights (one trusted team per cluster). Pure.
import type { ConfinementPolicy } from '../deploy/pipeline.js';
import { serviceAccountUser } from '../runtime/impersonation.js';

export interface Confinement extends ConfinementPolicy {
  /** Act as the session's ServiceAccount (impersonation). false = the operator's own identity. */
  impersonate: boolean;
  /** ServiceAccount (in the session's namespace) for sessions without spec.serviceAccountName. */
  defaultServiceAccount: string;
}

export const DEFAULT_SERVICE_ACCOUNT = 'dsa-deployer';

export const CONFINED: Confinement = Object.freeze({
  impersonate: true,
  defaultServiceAccount: DEFAULT_SERVICE_ACCOUNT,
  allowCrossNamespace: false,
  allowClusterScoped: false,
});

/** The pre-confinement behaviour: the operator's own (chart-granted) rights, anywhere they reach. */
export const UNCONFINED: Confinement = Object.freeze({
  impersonate: false,
  defaultServiceAccount: DEFAULT_SERVICE_ACCOUNT,
  allowCrossNamespace: true,
  allowClusterScoped: true,
});

/**
 * The user an object of `namespace` acts as: `system:serviceaccount:<namespace>:<sa>`, or undefined when the
 * install does not impersonate (the operator's own identity). Throws ImpersonationError on invalid names.
 */
export function actingUser(c: Pick<Confinement, 'impersonate' | 'defaultServiceAccount'>, namespace: string, serviceAccountName?: string): string | undefined {
  if (!c.impersonate) return undefined;
  return serviceAccountUser(namespace, serviceAccountName || c.defaultServiceAccount);
}
