// Dev overrides (spec.dev.pods[].devImage/command/args/workingDir/env/resources, and v1beta "interactive
// mode"): patch the pod template of the workloads a dev pod selects, in the rendered manifests, BEFORE
// apply. DevSpace v6 instead copies a running pod and replaces it; patching the template is simpler and
// declarative: removing the override from the spec and re-applying restores the original (SSA force
// owns the fields), and the annotation records what was changed.
//
// Only workloads with a pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) are
// patched: a bare Pod's containers are immutable after creation, so an override there would turn every
// change into an apply error.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ANNOTATIONS, type DevPod, type SessionImage } from '@dsa/api';
import { normalizeRepository, parseImageRef } from './image-ref.js';
import { BuiltImageIndex, getIn, podTemplatePath, setIn } from './tag-replacement.js';

/** The command interactive mode puts in place of the entrypoint, as DevSpace v4's `dev -i` did. */
export const INTERACTIVE_COMMAND: readonly string[] = ['sleep'];
export const INTERACTIVE_ARGS: readonly string[] = ['999999999'];

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface DevOverrideInput {
  devPods: readonly DevPod[];
  images: readonly SessionImage[];
  /** spec.dev.interactive */
  interactive: boolean;
  /** For selector.namespace defaulting. */
  sessionNamespace: string;
  /** devImage may name a built repository without tag; it gets the built tag like any other reference. */
  built: BuiltImageIndex;
}

export interface AppliedOverride {
  devPod: string;
  kind: string;
  namespace: string;
  name: string;
  container: string;
  fields: string[];
}

export interface DevOverrideResult<T> {
  objects: T[];
  applied: AppliedOverride[];
}

/** The override fields a dev pod asks for (interactive mode folded in). Empty → nothing to patch. */
export function effectiveOverrides(pod: DevPod, interactive: boolean): Partial<Pick<DevPod, 'devImage' | 'command' | 'args' | 'workingDir' | 'env' | 'resources'>> {
  const o: Partial<Pick<DevPod, 'devImage' | 'command' | 'args' | 'workingDir' | 'env' | 'resources'>> = {};
  if (pod.devImage) o.devImage = pod.devImage;
  if (pod.command) o.command = pod.command;
  if (pod.args) o.args = pod.args;
  if (pod.workingDir) o.workingDir = pod.workingDir;
  if (pod.env?.length) o.env = pod.env;
  if (pod.resources) o.resources = pod.resources;
  if (interactive && !pod.command) {
    // Keep the container alive doing nothing so the developer's terminal session is the "process".
    o.command = [...INTERACTIVE_COMMAND];
    o.args = [...INTERACTIVE_ARGS];
  }
  return o;
}

/**
 * Which dev pods interactive mode applies to: those with a terminal enabled; when none has one, the
 * first dev pod (v1beta `dev.interactive` without images targeted the first image).
 */
export function interactivePods(pods: readonly DevPod[], interactive: boolean): Set<string> {
  if (!interactive) return new Set();
  const withTerminal = pods.filter((p) => p.terminal && p.terminal.enabled !== false);
  const chosen = withTerminal.length > 0 ? withTerminal : pods.slice(0, 1);
  return new Set(chosen.map((p) => p.name));
}

/** Does `image` (a container's image) match the dev pod's imageName/imageSelector? */
export function imageMatches(pod: DevPod, images: readonly SessionImage[], image: string): boolean {
  const sel = pod.selector;
  const ref = parseImageRef(image);
  if (sel.imageName) {
    const img = images.find((i) => i.name === sel.imageName);
    return !!img && normalizeRepository(parseImageRef(img.image).repository) === normalizeRepository(ref.repository);
  }
  if (sel.imageSelector) {
    const want = parseImageRef(sel.imageSelector);
    if (normalizeRepository(want.repository) !== normalizeRepository(ref.repository)) return false;
    // An untagged selector matches any tag (the built tag is content-addressed and unknown to the user).
    if (want.digest !== undefined) return ref.digest === want.digest;
    if (want.tag !== undefined) return ref.tag === want.tag;
    return true;
  }
  return false;
}

const labelsMatch = (labels: Record<string, string> | undefined, want: Record<string, string>): boolean =>
  Object.entries(want).every(([k, v]) => labels?.[k] === v);

/** Index of the container in `containers` the dev pod selects, or -1. */
export function selectContainer(pod: DevPod, images: readonly SessionImage[], containers: readonly Json[], templateLabels: Record<string, string> | undefined): number {
  const sel = pod.selector;
  const byName = (c: Json) => !sel.containerName || c.name === sel.containerName;
  if (sel.labelSelector) {
    if (!labelsMatch(templateLabels, sel.labelSelector)) return -1;
    return containers.findIndex(byName);
  }
  return containers.findIndex((c) => byName(c) && typeof c.image === 'string' && imageMatches(pod, images, c.image));
}

function mergeEnv(existing: unknown, add: ReadonlyArray<{ name: string; value: string }>): Json[] {
  const out: Json[] = Array.isArray(existing) ? (existing as Json[]).map((e) => ({ ...e })) : [];
  for (const e of add) {
    const i = out.findIndex((x) => x.name === e.name);
    // A plain value replaces valueFrom too: the developer asked for exactly this value.
    if (i >= 0) out[i] = { name: e.name, value: e.value };
    else out.push({ name: e.name, value: e.value });
  }
  return out;
}

export function applyDevOverrides<T extends KubernetesObject>(objects: readonly T[], input: DevOverrideInput): DevOverrideResult<T> {
  const interactiveSet = interactivePods(input.devPods, input.interactive);
  const active = input.devPods
    .map((p) => ({ pod: p, o: effectiveOverrides(p, interactiveSet.has(p.name)) }))
    .filter((x) => Object.keys(x.o).length > 0);
  const applied: AppliedOverride[] = [];
  if (active.length === 0) return { objects: [...objects], applied };

  const out = objects.map((obj) => {
    const tpl = podTemplatePath(obj.kind);
    if (!tpl) return obj;
    const ns = obj.metadata?.namespace ?? input.sessionNamespace;
    const original = getIn(obj, tpl);
    if (!isObj(original) || !isObj(original.spec) || !Array.isArray(original.spec.containers)) return obj;
    let template: Json = original;
    const records: Array<{ devPod: string; container: string; fields: string[] }> = [];
    for (const { pod, o } of active) {
      if ((pod.selector.namespace || input.sessionNamespace) !== ns) continue;
      const spec = template.spec as Json;
      const containers = spec.containers as Json[];
      const labels = isObj(template.metadata) ? (template.metadata.labels as Record<string, string> | undefined) : undefined;
      const idx = selectContainer(pod, input.images, containers, labels);
      if (idx < 0) continue;
      const c: Json = { ...containers[idx]! };
      const fields: string[] = [];
      if (o.devImage) {
        c.image = input.built.resolve(o.devImage);
        fields.push('image');
      }
      if (o.command) {
        c.command = [...o.command];
        fields.push('command');
        // An overridden entrypoint with the image's old args rarely makes sense; DevSpace clears them too.
        if (!o.args) delete c.args;
      }
      if (o.args) {
        c.args = [...o.args];
        fields.push('args');
      }
      if (o.workingDir) {
        c.workingDir = o.workingDir;
        fields.push('workingDir');
      }
      if (o.env) {
        c.env = mergeEnv(c.env, o.env);
        fields.push('env');
      }
      if (o.resources) {
        c.resources = o.resources;
        fields.push('resources');
      }
      if (interactiveSet.has(pod.name) && !pod.command) {
        // A sleeping container fails any probe that talks to the app.
        delete c.livenessProbe;
        delete c.readinessProbe;
        delete c.startupProbe;
        fields.push('probes');
      }
      const newContainers = containers.map((x, i) => (i === idx ? c : x));
      template = { ...template, spec: { ...spec, containers: newContainers } };
      const cname = String(c.name ?? idx);
      records.push({ devPod: pod.name, container: cname, fields });
      applied.push({ devPod: pod.name, kind: obj.kind ?? '', namespace: ns, name: obj.metadata?.name ?? '', container: cname, fields });
    }
    if (records.length === 0) return obj;
    const tMeta = isObj(template.metadata) ? template.metadata : {};
    const annotations = { ...((tMeta.annotations as Record<string, string> | undefined) ?? {}), [ANNOTATIONS.devOverride]: JSON.stringify(records) };
    template = { ...template, metadata: { ...tMeta, annotations } };
    return setIn(obj, tpl, template) as T;
  });
  return { objects: out, applied };
}
