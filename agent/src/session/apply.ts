// Apply the rendered DevSessions: namespaces first, then each session by server-side apply as
// `dsa-agent` (force), dependencies before the sessions that use them. The ImageBuilds are the
// operator's children; the agent only derives their names (desiredImageBuilds) to act on them.
//
// -d/--force-deploy sets the requested-at annotation (as Flux does): an annotation change makes the
// operator reconcile — and re-apply every deployment — even when the spec is unchanged.
//
// -b/--force-build is not applied here: the rebuild request goes on each ImageBuild, once the operator
// has given it the spec we just applied (see uploads.ts requestRebuild).
import { ANNOTATIONS, DEVSESSION, desiredImageBuilds, type DevSession } from '@dsa/api';
import { ClusterError, ValidationError } from '../errors.js';
import { apiMessage, statusCode, toClusterError, type SecretForApply, type SessionKube, type SessionRef } from './kube.js';

export interface ApplyOptions {
  forceDeploy?: boolean;
  /**
   * The Secrets of the sessions' secret variables (spec.secretVars): each is applied before its session, so the
   * operator finds it, then again owned by the session, so deleting the session deletes it.
   */
  secrets?: readonly SecretForApply[];
  /** Progress lines (stderr). */
  log?: (line: string) => void;
  now?: () => Date;
}

export const refOf = (s: { metadata: { name: string; namespace?: string } }): SessionRef => ({ namespace: s.metadata.namespace ?? 'default', name: s.metadata.name });
export const showRef = (r: SessionRef) => `${r.namespace}/${r.name}`;

/** The object the agent applies: the rendered session without status, plus the force-deploy annotation. Pure. */
export function sessionForApply(session: DevSession, opts: Pick<ApplyOptions, 'forceDeploy' | 'now'> = {}): DevSession {
  const { status: _status, ...rest } = structuredClone(session);
  const out = rest as DevSession;
  if (opts.forceDeploy) {
    out.metadata.annotations = { ...(out.metadata.annotations ?? {}), [ANNOTATIONS.requestedAt]: (opts.now?.() ?? new Date()).toISOString() };
  }
  return out;
}

/** Distinct namespaces of the sessions and of their builds, in first-seen order. */
export function namespacesOf(sessions: readonly DevSession[]): string[] {
  const out = new Set<string>();
  for (const s of sessions) {
    out.add(refOf(s).namespace);
    for (const ib of desiredImageBuilds(s)) if (ib.metadata.namespace) out.add(ib.metadata.namespace);
  }
  return [...out];
}

/** Map an apply failure to the error the user sees. */
export function applyError(e: unknown, session: SessionRef): unknown {
  const code = statusCode(e);
  const what = `DevSession ${showRef(session)}`;
  if (code === 404) {
    return new ClusterError(`the ${DEVSESSION.kind} CRD is not installed in this cluster`, { cause: e, hint: 'install the operator with make deploy' });
  }
  if (code === 400 || code === 422) return new ValidationError(`${what} was rejected by the apiserver: ${apiMessage(e)}`, { cause: e });
  return toClusterError(e, `applying ${what}`);
}

/**
 * Apply `sessions` (dependencies first, as renderProject returns them). Returns the stored objects, in
 * the same order; their metadata.generation is what the wait compares observedGeneration against.
 */
export async function applySessions(kube: SessionKube, sessions: readonly DevSession[], opts: ApplyOptions = {}): Promise<DevSession[]> {
  const log = opts.log ?? (() => undefined);
  for (const ns of namespacesOf(sessions)) {
    let created: boolean;
    try {
      created = await kube.ensureNamespace(ns);
    } catch (e) {
      throw toClusterError(e, `creating namespace ${ns}`);
    }
    if (created) log(`created namespace ${ns}`);
  }
  const applied: DevSession[] = [];
  for (const s of sessions) {
    const ref = refOf(s);
    const secret = secretOf(s, opts.secrets ?? []);
    if (secret) await applySecret(kube, secret);
    let stored: DevSession;
    try {
      stored = await kube.applySession(sessionForApply(s, opts));
    } catch (e) {
      throw applyError(e, ref);
    }
    applied.push(stored);
    if (secret && stored.metadata.uid) {
      await applySecret(kube, { ...secret, metadata: { ...secret.metadata, ownerReferences: [{ apiVersion: stored.apiVersion, kind: stored.kind, name: stored.metadata.name, uid: stored.metadata.uid }] } });
    }
    log(`applied DevSession ${ref.name} (namespace ${ref.namespace})${secret ? ` and Secret ${secret.metadata.name} (${Object.keys(secret.stringData).length} secret variables)` : ''}`);
  }
  return applied;
}

/** The Secret spec.secretVars of `session` names, among `secrets`. Pure. */
export function secretOf(session: DevSession, secrets: readonly SecretForApply[]): SecretForApply | undefined {
  const ref = session.spec.secretVars;
  if (!ref) return undefined;
  const ns = refOf(session).namespace;
  return secrets.find((x) => x.metadata.name === ref.secretName && x.metadata.namespace === ns);
}

async function applySecret(kube: SessionKube, secret: SecretForApply): Promise<void> {
  try {
    await kube.applySecret(secret);
  } catch (e) {
    const what = `Secret ${secret.metadata.namespace}/${secret.metadata.name} (the project's secret variables)`;
    if (statusCode(e) === 403) {
      throw new ClusterError(`applying ${what}: forbidden: ${apiMessage(e)}`, { cause: e, hint: `your account needs create and patch on secrets in namespace ${secret.metadata.namespace}` });
    }
    throw toClusterError(e, `applying ${what}`);
  }
}
