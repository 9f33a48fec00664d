// The built-in transforms of the deploy pipeline (pipeline.ts), in the order they run. Each is a thin adapter
// from the DeployContext to a pure function that lives next to its tests (tag-replacement.ts, decorate.ts,
// dev-overrides.ts, confinement below); IO (discovery) goes through the context.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Reason } from '@dsa/api';
import { StallError } from '../runtime/errors.js';
import { decorateObjects } from './decorate.js';
import { applyDevOverrides } from './dev-overrides.js';
import { syncSidecar } from './sync-sidecar.js';
import { replaceImageTags } from './tag-replacement.js';
import type { ConfinementPolicy, DeployContext, Transform } from './pipeline.js';

/** Untagged references to a built repository get the built tag (unless `updateImageTags: false`). */
export const tagReplacement: Transform = {
  name: 'tag-replacement',
  run: async (objects, ctx) => {
    if (ctx.deployment.updateImageTags === false) return [...objects];
    const r = replaceImageTags(objects, ctx.built);
    if (r.replaced.length) ctx.log.debug({ deployment: ctx.deployment.name, replaced: r.replaced }, 'tag replacement');
    return r.objects;
  },
};

/** Discovery answers for every distinct apiVersion/kind in `objects` (one lookup each). */
export async function namespacedLookup(objects: readonly KubernetesObject[], ctx: Pick<DeployContext, 'isNamespaced'>): Promise<(apiVersion: string, kind: string) => boolean | undefined> {
  const known = new Map<string, boolean | undefined>();
  for (const o of objects) {
    const k = `${o.apiVersion ?? ''}\0${o.kind ?? ''}`;
    if (!known.has(k)) known.set(k, await ctx.isNamespaced(o.apiVersion ?? '', o.kind ?? ''));
  }
  return (apiVersion, kind) => known.get(`${apiVersion}\0${kind}`);
}

/** Ownership labels, pod-template labels and the default namespace (see decorate.ts). */
export const decorate: Transform = {
  name: 'decorate',
  run: async (objects, ctx) =>
    decorateObjects(objects, {
      session: ctx.session.metadata.name,
      sessionNamespace: ctx.sessionNamespace,
      ...(ctx.session.metadata.uid ? { sessionUid: ctx.session.metadata.uid } : {}),
      deployment: ctx.deployment.name,
      defaultNamespace: ctx.targetNamespace,
      isNamespaced: await namespacedLookup(objects, ctx),
    }),
};

/** spec.dev.pods overrides and interactive mode, patched into the selected workloads' pod templates. */
export const devOverrides: Transform = {
  name: 'dev-overrides',
  run: async (objects, ctx) =>
    applyDevOverrides(objects, {
      devPods: ctx.session.spec.dev?.pods ?? [],
      images: ctx.session.spec.images ?? [],
      interactive: ctx.session.spec.dev?.interactive ?? false,
      sessionNamespace: ctx.sessionNamespace,
      built: ctx.built,
    }).objects,
};

/** `Kind ns/name` as status messages name objects. */
export function describeObject(o: KubernetesObject): string {
  return `${o.kind ?? '?'} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? '?'}`;
}

/**
 * The first object `policy` refuses, with why; undefined when all are allowed. Pure: `namespaced` is the
 * discovery answer (undefined = unknown kind, judged by whether it carries a namespace).
 */
export function confinementViolation(
  objects: readonly KubernetesObject[],
  policy: ConfinementPolicy,
  sessionNamespace: string,
  namespaced: (apiVersion: string, kind: string) => boolean | undefined,
): string | undefined {
  for (const o of objects) {
    const isNamespaced = namespaced(o.apiVersion ?? '', o.kind ?? '') ?? o.metadata?.namespace !== undefined;
    if (!isNamespaced) {
      if (!policy.allowClusterScoped) return `${describeObject(o)}: cluster-scoped objects are not allowed for sessions (the operator's allowClusterScoped is off)`;
      continue;
    }
    const ns = o.metadata?.namespace ?? sessionNamespace;
    if (ns !== sessionNamespace && !policy.allowCrossNamespace) {
      return `${describeObject(o)}: objects outside the session's namespace ${sessionNamespace} are not allowed (the operator's allowCrossNamespace is off)`;
    }
  }
  return undefined;
}

/** Last: judges the objects exactly as they will be applied, whatever an earlier transform added. */
export const confinement: Transform = {
  name: 'confinement',
  run: async (objects, ctx) => {
    const p = ctx.confinement;
    if (p.allowClusterScoped && p.allowCrossNamespace) return [...objects];
    const why = confinementViolation(objects, p, ctx.sessionNamespace, await namespacedLookup(objects, ctx));
    if (why) throw new StallError(Reason.ObjectNotAllowed, `deployment ${ctx.deployment.name}: ${why}`);
    return [...objects];
  },
};

/**
 * The pipeline, in order. A new step joins by adding its entry here (or with insertTransform):
 *  - sync-sidecar (sync-sidecar.ts) goes after dev-overrides — it builds on the overridden pod
 *    template (image, command) — and before confinement, which must see every object as applied.
 */
export const DEFAULT_TRANSFORMS: readonly Transform[] = [tagReplacement, decorate, devOverrides, syncSidecar, confinement];

/** `list` with `t` inserted right after the transform named `after` (throws on an unknown name). */
export function insertTransform(list: readonly Transform[], t: Transform, where: { after: string }): Transform[] {
  const i = list.findIndex((x) => x.name === where.after);
  if (i < 0) throw new Error(`insertTransform: no transform named ${where.after} (have ${list.map((x) => x.name).join(', ')})`);
  return [...list.slice(0, i + 1), t, ...list.slice(i + 1)];
}
