// Tag replacement (docs/api/v1alpha1.md "Tag replacement"; DevSpace's replaceImageTags/updateImageTags):
// an image reference equal to a built image's repository WITHOUT tag or digest gets the built tag.
// References with an explicit tag or digest are the user's choice and are left alone.
//
// Everything here is pure: inputs are never mutated, callers get fresh objects back.
import type { KubernetesObject } from '@kubernetes/client-node';
import { normalizeRepository, parseImageRef } from './image-ref.js';

/** Built images: repository (as in spec.images[].image, no tag) → tag that was pushed. */
export type BuiltImages = Readonly<Record<string, string>>;

/** Lookup that tolerates Docker Hub spellings (`nginx` vs `docker.io/library/nginx`). */
export class BuiltImageIndex {
  private readonly byRepo = new Map<string, string>();

  constructor(built: BuiltImages) {
    for (const [repo, tag] of Object.entries(built)) this.byRepo.set(normalizeRepository(parseImageRef(repo).repository), tag);
  }

  get size(): number {
    return this.byRepo.size;
  }

  /** `ref` with the built tag when it is an untagged reference to a built repository, else undefined. */
  replacement(ref: string): string | undefined {
    if (this.byRepo.size === 0 || ref.trim() === '') return undefined;
    const p = parseImageRef(ref);
    if (p.tag !== undefined || p.digest !== undefined) return undefined;
    const tag = this.byRepo.get(normalizeRepository(p.repository));
    // Keep the spelling the user wrote; only append the tag.
    return tag === undefined ? undefined : `${p.repository}:${tag}`;
  }

  /** The built `repo:tag` for `ref` if untagged and built, else `ref` unchanged. */
  resolve(ref: string): string {
    return this.replacement(ref) ?? ref;
  }
}

/** Workload kinds whose pod spec dsa rewrites, with where the pod spec lives. */
export const WORKLOAD_POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Path of the pod template (metadata + spec) of a workload, or undefined for Pods and other kinds. */
export function podTemplatePath(kind: string | undefined): readonly string[] | undefined {
  const p = kind ? WORKLOAD_POD_SPEC_PATH[kind] : undefined;
  return p && p.length > 1 ? p.slice(0, -1) : undefined;
}

export function getIn(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

export interface TagReplacementResult<T> {
  objects: T[];
  /** Human-readable list of what changed (`Deployment/api containers[api]: repo → repo:tag`). */
  replaced: string[];
}

/**
 * Rewrites container images of every Pod/Deployment/StatefulSet/DaemonSet/ReplicaSet/Job/CronJob in
 * `objects` (containers, initContainers, ephemeralContainers). Other kinds pass through untouched.
 */
export function replaceImageTags<T extends KubernetesObject>(objects: readonly T[], built: BuiltImages | BuiltImageIndex): TagReplacementResult<T> {
  const index = built instanceof BuiltImageIndex ? built : new BuiltImageIndex(built);
  const replaced: string[] = [];
  const out = objects.map((obj) => {
    const path = obj.kind ? WORKLOAD_POD_SPEC_PATH[obj.kind] : undefined;
    if (!path || index.size === 0) return obj;
    const podSpec = getIn(obj, path);
    if (!isObj(podSpec)) return obj;
    let changed = false;
    const newSpec: Json = { ...podSpec };
    for (const list of CONTAINER_LISTS) {
      const containers = podSpec[list];
      if (!Array.isArray(containers)) continue;
      newSpec[list] = containers.map((c: unknown) => {
        if (!isObj(c) || typeof c.image !== 'string') return c;
        const r = index.replacement(c.image);
        if (r === undefined) return c;
        changed = true;
        replaced.push(`${obj.kind}/${obj.metadata?.name ?? '?'} ${list}[${String(c.name ?? '?')}]: ${c.image} → ${r}`);
        return { ...c, image: r };
      });
    }
    return changed ? (setIn(obj, path, newSpec) as T) : obj;
  });
  return { objects: out, replaced };
}

/**
 * Helm values: DevSpace walks every string value (not only keys named `image`) and replaces those
 * equal to an untagged built repository. Returns a new tree; untouched branches are shared.
 */
export function replaceInHelmValues<T>(values: T, built: BuiltImages | BuiltImageIndex): T {
  const index = built instanceof BuiltImageIndex ? built : new BuiltImageIndex(built);
  if (index.size === 0) return values;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return index.replacement(v) ?? v;
    if (Array.isArray(v)) {
      const mapped = v.map(walk);
      return mapped.some((m, i) => m !== v[i]) ? mapped : v;
    }
    if (isObj(v)) {
      let changed = false;
      const out: Json = {};
      for (const [k, child] of Object.entries(v)) {
        const m = walk(child);
        if (m !== child) changed = true;
        out[k] = m;
      }
      return changed ? out : v;
    }
    return v;
  };
  return walk(values) as T;
}

/** Immutable set: copies the objects along `path` only. */
export function setIn(obj: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const base: Json = isObj(obj) ? obj : {};
  return { ...base, [head]: setIn(base[head], rest, value) };
}
