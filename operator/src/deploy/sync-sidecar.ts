// The dev sidecar transform (docs/sync.md "In the pod"): for every dev pod with sync paths or reverse
// ports, add to the selected workload's pod template
//   - the `dsa-tools` init container (copies the static helper into an emptyDir),
//   - the `dsa-seed` init container (the APP's image; copies the image's own files under each sync path
//     into that path's emptyDir, so they stay visible once the volume is mounted over them),
//   - the `dsa-sync` native sidecar (restartPolicy: Always) the agent execs into,
//   - the sync volumes mounted at their containerPath in the app container,
//   - with onUpload.restartContainer (or startContainer), the supervisor as the app's command.
// It runs after dev overrides (so it sees the dev image, command and working dir), on rendered objects,
// before apply. Removing sync from the session removes all of it on the next apply (server-side apply
// drops the fields the operator stops sending).
//
// Pure: what it needs from the outside (the image configs of the app containers, for a relative
// containerPath and for the original entrypoint) is looked up by the caller first, for the images
// `imagesNeedingConfig()` names.
import { posix } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevPod, SessionImage, SyncPath } from '@dsa/api';
import {
  CTL_DIR,
  CTL_VOLUME,
  HELPER_BIN,
  HELPER_IN_IMAGE,
  SEED_INIT_CONTAINER,
  SIDECAR_ANNOTATION,
  SIDECAR_CONTAINER,
  SIDECAR_PATHS_ENV,
  SIDECAR_REVERSE_PORTS_ENV,
  TOOLS_DIR,
  TOOLS_INIT_CONTAINER,
  TOOLS_VOLUME,
  syncMountPath,
  syncVolumeName,
  type SidecarPath,
} from '@dsa/api/sync-layout';
import { Reason } from '@dsa/api';
import { selectContainer } from './dev-overrides.js';
import { SLOW_RETRY_MS, StallError } from './errors.js';
import type { Transform } from './pipeline.js';
import { getIn, podTemplatePath, setIn } from './tag-replacement.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the operator needs from an image's config (the `config` object of the OCI image config). */
export interface ImageConfigInfo {
  workingDir?: string;
  entrypoint?: string[];
  cmd?: string[];
  /** `uid`, `uid:gid`, `name` or `name:group`, as in the Dockerfile's USER. */
  user?: string;
}

export interface DevSidecarInput {
  devPods: readonly DevPod[];
  images: readonly SessionImage[];
  sessionNamespace: string;
  /** The sidecar image (operator config `--sidecar-image`); undefined → sessions with sync stall saying so. */
  sidecarImage: string | undefined;
  /** Native sidecars (initContainers with restartPolicy Always): Kubernetes ≥ 1.29. */
  nativeSidecars: boolean;
  /** Configs looked up for the images imagesNeedingConfig() named; undefined = unknown (lookup failed). */
  imageConfig: (image: string) => ImageConfigInfo | undefined;
}

export interface SidecarProblem {
  devPod: string;
  /** `Deployment ns/name` */
  object: string;
  message: string;
  /** The image whose config was needed but unknown: worth retrying later (registry down). */
  image?: string;
}

export interface DevSidecarResult<T> {
  objects: T[];
  /** `Deployment ns/name: dev pod api (2 paths, restart)` for logs. */
  applied: string[];
  problems: SidecarProblem[];
}

/** Does this dev pod get a sidecar? */
export function needsSidecar(pod: DevPod): boolean {
  return (pod.sync?.length ?? 0) > 0 || (pod.reversePorts?.length ?? 0) > 0;
}

const wantsRestart = (paths: readonly SyncPath[]) => paths.some((s) => s.onUpload?.restartContainer === true);
const wantsWaitStart = (paths: readonly SyncPath[]) => paths.some((s) => (s as SyncPath & { startContainer?: boolean }).startContainer === true);

/** The pod template {metadata, spec} of a workload: the object itself for a bare Pod. */
function templatePath(kind: string | undefined): readonly string[] | undefined {
  if (kind === 'Pod') return [];
  return podTemplatePath(kind);
}
const getTemplate = (obj: unknown, path: readonly string[]) => (path.length === 0 ? obj : getIn(obj, path));
const setTemplate = (obj: unknown, path: readonly string[], value: unknown) => (path.length === 0 ? value : setIn(obj, path, value));

const describe = (obj: KubernetesObject, ns: string) => `${obj.kind} ${obj.metadata?.namespace ?? ns}/${obj.metadata?.name ?? ''}`;

interface Selected {
  pod: DevPod;
  index: number;
  container: Json;
}

function selections(obj: KubernetesObject, input: DevSidecarInput): { path: readonly string[]; template: Json; selected: Selected[] } | undefined {
  const path = templatePath(obj.kind);
  if (!path) return undefined;
  const template = getTemplate(obj, path);
  if (!isObj(template) || !isObj(template.spec) || !Array.isArray(template.spec.containers)) return undefined;
  const ns = obj.metadata?.namespace ?? input.sessionNamespace;
  const containers = template.spec.containers as Json[];
  const labels = isObj(template.metadata) ? (template.metadata.labels as Record<string, string> | undefined) : undefined;
  const selected: Selected[] = [];
  for (const pod of input.devPods) {
    if (!needsSidecar(pod)) continue;
    if ((pod.selector.namespace || input.sessionNamespace) !== ns) continue;
    const idx = selectContainer(pod, input.images, containers, labels);
    if (idx >= 0) selected.push({ pod, index: idx, container: containers[idx]! });
  }
  return { path, template, selected };
}

/** Effective security context fields of a container (container overrides pod). */
function securityOf(podSpec: Json, c: Json): { runAsUser?: number; runAsGroup?: number } {
  const pod = isObj(podSpec.securityContext) ? podSpec.securityContext : {};
  const own = isObj(c.securityContext) ? c.securityContext : {};
  const pick = (k: string) => (typeof own[k] === 'number' ? (own[k] as number) : typeof pod[k] === 'number' ? (pod[k] as number) : undefined);
  const out: { runAsUser?: number; runAsGroup?: number } = {};
  const u = pick('runAsUser');
  const g = pick('runAsGroup');
  if (u !== undefined) out.runAsUser = u;
  if (g !== undefined) out.runAsGroup = g;
  return out;
}

/** Numeric uid[:gid] from a Dockerfile USER, else undefined (a name needs the image's /etc/passwd). */
export function numericUser(user: string | undefined): { uid: number; gid?: number } | undefined {
  if (!user) return { uid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user.trim());
  if (!m) return undefined;
  return m[2] !== undefined ? { uid: Number(m[1]), gid: Number(m[2]) } : { uid: Number(m[1]) };
}

const needsWorkingDir = (pod: DevPod, c: Json) => !c.workingDir && (pod.sync ?? []).some((s) => !posix.isAbsolute(s.containerPath));
const needsEntrypoint = (pod: DevPod, c: Json) => (wantsRestart(pod.sync ?? []) || wantsWaitStart(pod.sync ?? [])) && !Array.isArray(c.command);

/** The images (as written in the rendered containers) whose config the transform needs. */
export function imagesNeedingConfig(objects: readonly KubernetesObject[], input: DevSidecarInput): string[] {
  const out = new Set<string>();
  for (const obj of objects) {
    const sel = selections(obj, input);
    for (const s of sel?.selected ?? []) {
      const image = typeof s.container.image === 'string' ? s.container.image : undefined;
      if (!image) continue;
      const podSpec = sel!.template.spec as Json;
      const sec = securityOf(podSpec, s.container);
      // The sidecar runs as the app's user: from the pod spec, else from the image's USER.
      if (needsWorkingDir(s.pod, s.container) || needsEntrypoint(s.pod, s.container) || sec.runAsUser === undefined) out.add(image);
    }
  }
  return [...out];
}

/** The app's original command line: Kubernetes' rules for command/args over ENTRYPOINT/CMD. */
export function originalCommand(c: Json, cfg: ImageConfigInfo | undefined): string[] | undefined {
  const args = Array.isArray(c.args) ? (c.args as string[]) : undefined;
  if (Array.isArray(c.command)) return [...(c.command as string[]), ...(args ?? [])];
  if (!cfg) return undefined;
  return [...(cfg.entrypoint ?? []), ...(args ?? cfg.cmd ?? [])];
}

/** Resolve a sync containerPath against the working dir; undefined when relative and the dir is unknown. */
export function resolveContainerPath(containerPath: string, workingDir: string | undefined): string | undefined {
  if (posix.isAbsolute(containerPath)) return posix.normalize(containerPath).replace(/(.)\/$/, '$1');
  if (workingDir === undefined) return undefined;
  return posix.normalize(posix.join(workingDir || '/', containerPath)).replace(/(.)\/$/, '$1');
}

export function injectDevSidecars<T extends KubernetesObject>(objects: readonly T[], input: DevSidecarInput): DevSidecarResult<T> {
  const applied: string[] = [];
  const problems: SidecarProblem[] = [];
  const out = objects.map((obj) => {
    const sel = selections(obj, input);
    if (!sel || sel.selected.length === 0) return obj;
    const what = describe(obj, input.sessionNamespace);
    if (!input.sidecarImage) {
      for (const s of sel.selected) problems.push({ devPod: s.pod.name, object: what, message: 'file sync and reverse ports need the dev sidecar image, and this operator has none configured (flag --sidecar-image, chart value sidecar.image)' });
      return obj;
    }
    const result = injectInto(sel.template, sel.selected, input, what);
    problems.push(...result.problems);
    if (!result.template) return obj;
    applied.push(...result.applied.map((a) => `${what}: ${a}`));
    return setTemplate(obj, sel.path, result.template) as T;
  });
  return { objects: out, applied, problems };
}

interface PlannedPath extends SidecarPath {
  /** The user's own volume already mounted at containerPath: share it, no seeding. */
  existingVolume?: { name: string; subPath?: string };
}

function injectInto(template: Json, selected: readonly Selected[], input: DevSidecarInput, what: string): { template?: Json; applied: string[]; problems: SidecarProblem[] } {
  const problems: SidecarProblem[] = [];
  const spec = template.spec as Json;
  const containers = (spec.containers as Json[]).map((c) => ({ ...c }));
  const paths: PlannedPath[] = [];
  const reverse: Array<{ devPod: string; port: number }> = [];
  const applied: string[] = [];
  let sidecarUser: { runAsUser?: number; runAsGroup?: number } | undefined;
  const seedByContainer = new Map<number, PlannedPath[]>();

  for (const s of selected) {
    const c = containers[s.index]!;
    const image = typeof c.image === 'string' ? c.image : '';
    const cfg = image ? input.imageConfig(image) : undefined;
    const syncs = s.pod.sync ?? [];
    const workingDir = typeof c.workingDir === 'string' && c.workingDir ? c.workingDir : cfg ? (cfg.workingDir ?? '/') : undefined;
    const mounts = Array.isArray(c.volumeMounts) ? (c.volumeMounts as Json[]).map((m) => ({ ...m })) : [];
    let ok = true;
    const mine: PlannedPath[] = [];
    for (const [j, sp] of syncs.entries()) {
      // A single-file sync (`file: true`) mounts the file's folder: a volume mounted on the file's own
      // path would turn it into a directory. The seed keeps the folder's other files visible, and the
      // agent syncs only that one name (agent/src/sync/path-sync.ts).
      const resolved = resolveContainerPath(sp.containerPath, workingDir);
      const abs = resolved !== undefined && sp.file ? posix.dirname(resolved) : resolved;
      if (abs === undefined) {
        problems.push({ devPod: s.pod.name, object: what, image, message: `sync path ${sp.localPath}:${sp.containerPath} is relative and the working directory of image ${image} is unknown (its config could not be read from the registry); set workingDir or an absolute containerPath` });
        ok = false;
        continue;
      }
      if (abs === '/') {
        problems.push({ devPod: s.pod.name, object: what, message: `sync path ${sp.localPath}:${sp.containerPath} resolves to / in container ${String(c.name)}; sync a folder below it` });
        ok = false;
        continue;
      }
      const existing = mounts.find((m) => m.mountPath === abs || (typeof m.mountPath === 'string' && m.mountPath.replace(/(.)\/$/, '$1') === abs));
      const same = [...paths, ...mine].find((p) => p.container === c.name && p.containerPath === abs);
      const index = same ? same.index : paths.length + mine.length;
      const planned: PlannedPath = { index, mountPath: syncMountPath(index), containerPath: abs, container: String(c.name ?? ''), devPod: s.pod.name, sync: j };
      if (existing && typeof existing.name === 'string' && !existing.name.startsWith('dsa-')) {
        planned.existingVolume = { name: existing.name, ...(typeof existing.subPath === 'string' ? { subPath: existing.subPath } : {}) };
      }
      if (same) {
        // Two entries on the same folder share one volume and one mount.
        paths.push({ ...planned, ...(same.existingVolume ? { existingVolume: same.existingVolume } : {}) });
        continue;
      }
      mine.push(planned);
    }
    if (!ok) continue;
    const restart = wantsRestart(syncs);
    const waitStart = wantsWaitStart(syncs);
    let command: string[] | undefined;
    if (restart || waitStart) {
      command = originalCommand(c, cfg);
      if (!command || command.length === 0) {
        problems.push({ devPod: s.pod.name, object: what, ...(cfg ? {} : { image }), message: `onUpload.restartContainer needs the app's command: container ${String(c.name)} sets none and ${cfg ? `image ${image} has no ENTRYPOINT/CMD` : `the config of image ${image} could not be read`}; set command in the dev config` });
        continue;
      }
    }
    // Mounts in the app container: each new path's volume at its containerPath; control and tools.
    for (const p of mine) {
      if (!p.existingVolume) mounts.push({ name: syncVolumeName(p.index), mountPath: p.containerPath });
    }
    if (!mounts.some((m) => m.name === CTL_VOLUME)) mounts.push({ name: CTL_VOLUME, mountPath: CTL_DIR });
    if (command && !mounts.some((m) => m.name === TOOLS_VOLUME)) mounts.push({ name: TOOLS_VOLUME, mountPath: TOOLS_DIR, readOnly: true });
    c.volumeMounts = mounts;
    if (command) {
      c.command = [HELPER_BIN, 'supervise', '--ctl', CTL_DIR, ...(waitStart ? ['--wait-start'] : []), '--', ...command];
      delete c.args;
    }
    paths.push(...mine);
    const seeds = mine.filter((p) => !p.existingVolume);
    if (seeds.length) seedByContainer.set(s.index, seeds);
    for (const r of s.pod.reversePorts ?? []) reverse.push({ devPod: s.pod.name, port: r.remotePort });
    // The sidecar writes files the app reads and writes: it runs as the app's user when that is known.
    const sec = securityOf(spec, c);
    const fromImage = numericUser(cfg?.user);
    const user = sec.runAsUser !== undefined ? sec : fromImage ? { runAsUser: fromImage.uid, ...(fromImage.gid !== undefined ? { runAsGroup: fromImage.gid } : {}) } : { runAsUser: 0 };
    if (!sidecarUser || (sidecarUser.runAsUser !== 0 && user.runAsUser === 0)) sidecarUser = user;
    applied.push(`dev pod ${s.pod.name} (container ${String(c.name)}: ${mine.length} sync path${mine.length === 1 ? '' : 's'}${command ? ', restart on upload' : ''}${(s.pod.reversePorts?.length ?? 0) ? `, ${s.pod.reversePorts!.length} reverse port(s)` : ''})`);
  }
  if (applied.length === 0) return { applied, problems };

  const sidecarImage = input.sidecarImage!;
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Json[]).filter((v) => !(typeof v.name === 'string' && v.name.startsWith('dsa-'))) : [];
  volumes.push({ name: TOOLS_VOLUME, emptyDir: {} }, { name: CTL_VOLUME, emptyDir: {} });
  for (const p of paths) if (!p.existingVolume && !volumes.some((v) => v.name === syncVolumeName(p.index))) volumes.push({ name: syncVolumeName(p.index), emptyDir: {} });

  const small = { requests: { cpu: '10m', memory: '32Mi' } };
  const toolsInit: Json = {
    name: TOOLS_INIT_CONTAINER,
    image: sidecarImage,
    command: [HELPER_IN_IMAGE, 'install', TOOLS_DIR],
    volumeMounts: [{ name: TOOLS_VOLUME, mountPath: TOOLS_DIR }],
    resources: small,
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 65532, capabilities: { drop: ['ALL'] } },
  };
  const seedInits: Json[] = [];
  for (const [idx, seeds] of seedByContainer) {
    const c = containers[idx]!;
    const seed: Json = {
      name: seedByContainer.size === 1 ? SEED_INIT_CONTAINER : `${SEED_INIT_CONTAINER}-${String(c.name)}`.slice(0, 63),
      image: c.image,
      command: [HELPER_BIN, 'seed', '--ctl', CTL_DIR, ...seeds.map((p) => `${p.containerPath}=${p.mountPath}`)],
      volumeMounts: [{ name: TOOLS_VOLUME, mountPath: TOOLS_DIR, readOnly: true }, { name: CTL_VOLUME, mountPath: CTL_DIR }, ...seeds.map((p) => ({ name: syncVolumeName(p.index), mountPath: p.mountPath }))],
      resources: small,
    };
    // Seeded files belong to whoever the app runs as, so the seed step runs as the app does.
    if (isObj(c.securityContext)) seed.securityContext = c.securityContext;
    if (typeof c.imagePullPolicy === 'string') seed.imagePullPolicy = c.imagePullPolicy;
    seedInits.push(seed);
  }
  const sidecarMounts: Json[] = [{ name: CTL_VOLUME, mountPath: CTL_DIR }];
  const mounted = new Set<number>();
  for (const p of paths) {
    if (mounted.has(p.index)) continue;
    mounted.add(p.index);
    sidecarMounts.push(p.existingVolume ? { name: p.existingVolume.name, mountPath: p.mountPath, ...(p.existingVolume.subPath ? { subPath: p.existingVolume.subPath } : {}) } : { name: syncVolumeName(p.index), mountPath: p.mountPath });
  }
  const sidecarPaths: SidecarPath[] = paths.map(({ existingVolume: _e, ...p }) => p);
  const sidecar: Json = {
    name: SIDECAR_CONTAINER,
    image: sidecarImage,
    env: [
      { name: SIDECAR_PATHS_ENV, value: JSON.stringify(sidecarPaths) },
      { name: SIDECAR_REVERSE_PORTS_ENV, value: JSON.stringify(reverse) },
    ],
    volumeMounts: sidecarMounts,
    resources: { requests: { cpu: '10m', memory: '64Mi' } },
    securityContext: {
      allowPrivilegeEscalation: false,
      ...sidecarUser,
      ...(sidecarUser?.runAsUser === 0 ? { capabilities: { drop: ['ALL'], add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'] } } : { runAsNonRoot: true, capabilities: { drop: ['ALL'] } }),
    },
  };
  const userInits = Array.isArray(spec.initContainers) ? (spec.initContainers as Json[]).filter((c) => !(typeof c.name === 'string' && c.name.startsWith('dsa-'))) : [];
  const newSpec: Json = { ...spec, containers, volumes };
  if (input.nativeSidecars) {
    newSpec.initContainers = [toolsInit, ...seedInits, { ...sidecar, restartPolicy: 'Always' }, ...userInits];
  } else {
    newSpec.initContainers = [toolsInit, ...seedInits, ...userInits];
    newSpec.containers = [...containers, sidecar];
  }
  const meta = isObj(template.metadata) ? template.metadata : {};
  const annotations = { ...((meta.annotations as Record<string, string> | undefined) ?? {}), [SIDECAR_ANNOTATION]: JSON.stringify({ paths: sidecarPaths, reversePorts: reverse, user: sidecarUser }) };
  return { template: { ...template, metadata: { ...meta, annotations }, spec: newSpec }, applied, problems };
}

/**
 * The pipeline step: looks up the image configs the pod specs leave implicit (working dir, entrypoint,
 * user), then injects. A problem that a registry hiccup may have caused (config unknown) retries slowly;
 * one the spec causes (path `/`, no command) stalls until the spec changes. Without a sidecar image
 * configured the objects pass unchanged (the agent reports that sync is unavailable).
 */
export const syncSidecar: Transform = {
  name: 'sync-sidecar',
  run: async (objects, ctx) => {
    const devPods = ctx.session.spec.dev?.pods ?? [];
    if (!devPods.some(needsSidecar)) return [...objects];
    if (!ctx.sidecarImage) {
      // An operator installed without a sidecar image still deploys; the agent says why sync is off.
      ctx.log.debug({ deployment: ctx.deployment.name }, 'dev sidecar skipped: no --sidecar-image configured');
      return [...objects];
    }
    const base: DevSidecarInput = {
      devPods,
      images: ctx.session.spec.images ?? [],
      sessionNamespace: ctx.sessionNamespace,
      sidecarImage: ctx.sidecarImage,
      nativeSidecars: ctx.capabilities.nativeSidecars,
      imageConfig: () => undefined,
    };
    const configs = new Map<string, ImageConfigInfo | undefined>();
    const lookupErrors = new Map<string, string>();
    for (const image of imagesNeedingConfig(objects, base)) {
      try {
        configs.set(image, await ctx.imageConfigs.config(image));
      } catch (e) {
        // Unreachable registry: decide with what the pod spec says; a needed field then becomes a
        // problem that names the image and is retried.
        lookupErrors.set(image, e instanceof Error ? e.message : String(e));
      }
    }
    const r = injectDevSidecars(objects, { ...base, imageConfig: (i) => configs.get(i) });
    if (r.problems.length) {
      const p = r.problems[0]!;
      const why = p.image && lookupErrors.has(p.image) ? ` (registry: ${lookupErrors.get(p.image)})` : '';
      const more = r.problems.length > 1 ? ` (and ${r.problems.length - 1} more)` : '';
      throw new StallError(Reason.InvalidSpec, `dev pod ${p.devPod}: ${p.object}: ${p.message}${why}${more}`, p.image ? SLOW_RETRY_MS : undefined);
    }
    if (r.applied.length) ctx.log.debug({ deployment: ctx.deployment.name, sidecars: r.applied }, 'dev sidecar');
    return r.objects;
  },
};
