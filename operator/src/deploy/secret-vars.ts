// spec.secretVars at render time: the values of secret-typed variables, read from the session's Secret as the
// session's own account, replace their `${dsa.secret.NAME}` placeholders (api/src/secret-vars.ts) in helm values
// before rendering, and in the rendered objects and the dev overrides before the transforms — so confinement
// judges the objects exactly as they will be applied. The values never reach status or events.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Reason, mapSecretPlaceholders, type DevSession, type SessionDeployment } from '@dsa/api';
import { SLOW_RETRY_MS, StallError } from './errors.js';

export interface SecretReader {
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export interface SecretVarValues {
  /** The deployment with helm values resolved (kubectl manifests are resolved once parsed: applyObjects). */
  apply(dep: SessionDeployment): SessionDeployment;
  applyObjects(objects: readonly KubernetesObject[]): KubernetesObject[];
  /** The session with its spec resolved (dev overrides: env, command, …). */
  applySession(s: DevSession): DevSession;
}

const IDENTITY: SecretVarValues = {
  apply: (d) => d,
  applyObjects: (o) => [...o],
  applySession: (s) => s,
};

/**
 * Reads spec.secretVars' Secret (as `user`, through `reader`) and returns the replacements. A missing Secret or
 * key stalls the session naming them (never the values); retried slowly, as the agent may create it next.
 */
export async function resolveSecretVars(s: DevSession, reader: SecretReader, user: string | undefined): Promise<SecretVarValues> {
  const ref = s.spec.secretVars;
  if (!ref || ref.names.length === 0) return IDENTITY;
  const ns = s.metadata.namespace ?? '';
  const data = await reader.readSecret(ns, ref.secretName);
  if (!data) throw new StallError(Reason.InvalidSpec, `spec.secretVars: Secret ${ns}/${ref.secretName} not found${user ? ` (read as ${user})` : ''}`, SLOW_RETRY_MS);
  const missing = ref.names.filter((n) => data[n] === undefined);
  if (missing.length) throw new StallError(Reason.InvalidSpec, `spec.secretVars: Secret ${ns}/${ref.secretName} has no key ${missing.join(', ')}`, SLOW_RETRY_MS);
  const names = new Set(ref.names);
  const value = (n: string) => data[n]!;
  return {
    apply: (dep) => (dep.helm?.values ? { ...dep, helm: { ...dep.helm, values: mapSecretPlaceholders(dep.helm.values, names, value) } } : dep),
    applyObjects: (objects) => objects.map((o) => mapSecretPlaceholders(o, names, value)),
    applySession: (x) => ({ ...x, spec: mapSecretPlaceholders(x.spec, names, value) }),
  };
}
