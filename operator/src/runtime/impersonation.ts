// Acting as a tenant's ServiceAccount (Kubernetes user impersonation, as Flux's runtime/client impersonator).
//
// What a DevSession deploys or builds is sent with `Impersonate-User: system:serviceaccount:<ns>:<sa>`, so the
// apiserver authorizes every write (and every Secret read) against THAT account's RBAC, not the operator's. The
// operator itself only needs the `impersonate` verb on serviceaccounts (charts/dsa-operator/README.md).
//
// An impersonating config is a copy of the operator's KubeConfig whose current user carries `impersonateUser`
// (client-node then sets the header on API calls, watches and exec/WebSocket alike); it shares the operator's
// pooled keep-alive connections and request counter (connection-reuse.ts), so impersonation costs no handshake.
import * as k8s from '@kubernetes/client-node';
import { apiErrorMessage, statusCode } from './api-errors.js';
import { reuseConnections } from './connection-reuse.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export class ImpersonationError extends Error {
  override readonly name = 'ImpersonationError';
}

/** `system:serviceaccount:<namespace>:<name>`; throws on names that are not valid object names. */
export function serviceAccountUser(namespace: string, name: string): string {
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) throw new ImpersonationError(`"${namespace}" is not a valid namespace name`);
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) throw new ImpersonationError(`"${name}" is not a valid ServiceAccount name`);
  return `system:serviceaccount:${namespace}:${name}`;
}

/** A copy of `base` that impersonates `user` on every request; shares `base`'s connection pool. */
export function impersonatingKubeConfig(base: k8s.KubeConfig, user: string): k8s.KubeConfig {
  const current = base.getCurrentUser();
  if (!current) throw new ImpersonationError('the operator has no current user in its kubeconfig');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: base.clusters,
    contexts: base.contexts,
    users: base.users.map((u) => (u.name === current.name ? { ...u, impersonateUser: user } : u)),
    currentContext: base.getCurrentContext(),
  });
  return reuseConnections(kc, { shareWith: base });
}

/** One impersonating KubeConfig per user, made on first use (bounded: least recently used dropped). */
export class Impersonator {
  private readonly configs = new Map<string, k8s.KubeConfig>();

  constructor(
    readonly base: k8s.KubeConfig,
    private readonly maxEntries = 1024,
  ) {}

  config(user: string): k8s.KubeConfig {
    let kc = this.configs.get(user);
    if (kc) {
      this.configs.delete(user);
    } else {
      kc = impersonatingKubeConfig(this.base, user);
      if (this.configs.size >= this.maxEntries) {
        const [oldest] = this.configs.keys();
        if (oldest !== undefined) this.configs.delete(oldest);
      }
    }
    this.configs.set(user, kc);
    return kc;
  }
}

/**
 * One line for a 403 met while acting as `user`: who was impersonated, what the apiserver refused, and how to
 * grant it. The operator lacking the impersonate right itself reads differently from the account lacking a
 * permission.
 */
export function describeForbidden(e: unknown, user: string): string {
  const raw = apiErrorMessage(e);
  if (/cannot impersonate/.test(raw)) {
    return `the operator may not impersonate ${user} (${raw}); its chart grants impersonate on serviceaccounts (charts/dsa-operator/README.md, "RBAC")`;
  }
  // `deployments.apps "x" is forbidden: User "system:serviceaccount:a:b" cannot patch resource "deployments" in API group "apps" in the namespace "a"`
  const m = /cannot (\w+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/.exec(raw);
  const what = m ? `${m[1]} ${m[2]}${m[3] ? `.${m[3]}` : ''}${m[4] ? ` in namespace ${m[4]}` : ' (cluster-wide)'}` : raw;
  return `${user} may not ${what}: grant it with a Role and RoleBinding for that ServiceAccount (ready-made: charts/dsa-operator/README.md, "Tenant namespaces")`;
}

export const isForbiddenError = (e: unknown): boolean => statusCode(e) === 403;

/**
 * A 403 from RBAC (the account lacks a permission, or the operator may not impersonate it) — not one from
 * admission (PodSecurity, quota), which a Role would not fix.
 */
export function isRbacDenied(e: unknown): boolean {
  return statusCode(e) === 403 && /cannot [\w-]+ resource|cannot impersonate|cannot [\w-]+ path/.test(apiErrorMessage(e));
}
