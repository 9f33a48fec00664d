// v1beta2 … v1beta11 → ProjectConfig pieces. Mapping follows DevSpace's own upgrade chain
// (v1betaN/upgrade.go) and the v1beta11 → v2beta1 upgrade for dev pods (reference §2.6).
import path from 'node:path';
import type {
  CommandConfig,
  DependencyConfig,
  DeploymentConfig,
  DevConfig,
  DevPodConfig,
  HookConfig,
  ImageConfig,
  PodSelector,
  PortMapping,
} from '../../../api/src/model/project.js';
import {
  abs,
  bool,
  chartRef,
  customBuild,
  dependencySource,
  dockerOptions,
  dnsName,
  fail,
  imageSelectorToSelector,
  kanikoOptions,
  manifestRefs,
  num,
  obj,
  objs,
  PodGroups,
  ref,
  selectorName,
  str,
  strMap,
  strs,
  syncOptions,
  warn,
  type NormCtx,
  type Obj,
} from './normalize-common.js';
import { normHook, type HookSpec } from './hooks.js';
import type { Seg } from './paths.js';

export interface NormalizedPieces {
  name?: string;
  images: ImageConfig[];
  deployments: DeploymentConfig[];
  dev: DevConfig;
  dependencies: DependencyConfig[];
  /** Where each dependency's source is written (same order as dependencies). */
  dependencyAt: Array<{ o: Obj; key: string; segs: Seg[] }>;
  hooks: HookConfig[];
  commands: CommandConfig[];
  namespace?: string;
  kubeContext?: string;
}

function buildArgs(v: unknown): Record<string, string> {
  return strMap(v) ?? {};
}

function normImages(ctx: NormCtx, images: Obj | undefined): ImageConfig[] {
  const out: ImageConfig[] = [];
  for (const [name, raw] of Object.entries(images ?? {})) {
    const img = obj(raw) ?? {};
    const segs: Seg[] = ['images', name];
    const build = obj(img.build) ?? {};
    const docker = obj(build.docker);
    const kaniko = obj(build.kaniko);
    const custom = obj(build.custom);
    const kanikoBuildOptions = obj(kaniko?.options);
    const options = kanikoBuildOptions ?? obj(docker?.options) ?? {};
    const k = kanikoOptions(kaniko, ['args', 'flags']);
    const dockerfileRel = str(img.dockerfile) ?? './Dockerfile';
    const contextRel = str(img.context) ?? './';
    const disabled = bool(build.disabled) ?? false;
    const engine = custom ? 'custom' : build.buildKit ? 'buildkit' : docker ? 'docker' : 'kaniko';
    const tags = str(img.tag) !== undefined ? [img.tag as string] : (strs(img.tags) ?? []);
    // A disabled image is never built, and a custom command needs neither: they need not exist.
    const unchecked = disabled || custom !== undefined;
    const image: ImageConfig = {
      name,
      image: str(img.image) ?? '',
      tags,
      dockerfile: unchecked ? path.resolve(ctx.dir, dockerfileRel) : ref(ctx, img, img.dockerfile !== undefined ? 'dockerfile' : undefined, [...segs, 'dockerfile'], dockerfileRel, 'file', 'Dockerfile'),
      context: unchecked ? path.resolve(ctx.dir, contextRel) : ref(ctx, img, img.context !== undefined ? 'context' : undefined, [...segs, 'context'], contextRel, 'dir', 'build context'),
      buildArgs: buildArgs(options.buildArgs),
      requestedEngine: engine,
      kaniko: k,
      createPullSecret: bool(img.createPullSecret) ?? false,
      skipPush: bool(docker?.skipPush) ?? false,
      disabled,
    };
    if (strs(img.entrypoint)) image.entrypoint = strs(img.entrypoint);
    if (strs(img.cmd)) image.cmd = strs(img.cmd);
    if (strs(img.appendDockerfileInstructions)) image.appendDockerfileInstructions = strs(img.appendDockerfileInstructions);
    if (str(options.target)) image.target = options.target as string;
    // kaniko's options.network is warned by the schema (in-cluster builds have no build network).
    if (str(options.network) && !kanikoBuildOptions) image.network = options.network as string;
    if (docker) image.docker = dockerOptions(docker);
    // DevSpace 3.5–5 add the image argument unless skipImageArg (v1beta9+) says not to.
    if (custom) image.custom = customBuild(ctx, custom, [...segs, 'build', 'custom'], { argsKeys: ['args', 'flags'], imageArg: bool(custom.skipImageArg) !== true });
    out.push(image);
  }
  return out;
}

async function normDeployments(ctx: NormCtx, list: Obj[]): Promise<DeploymentConfig[]> {
  const out: DeploymentConfig[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = list[i] as Obj;
    const segs: Seg[] = ['deployments', i];
    const name = str(d.name) ?? '';
    const kinds = ['component', 'helm', 'kubectl'].filter((k) => d[k] !== undefined);
    if (kinds.length !== 1) fail(ctx, d, undefined, segs, kinds.length ? `has ${kinds.join(' and ')}; a deployment needs exactly one of component, helm, kubectl` : 'needs one of component, helm, kubectl');
    const namespace = str(d.namespace);
    const base = { name, ...(namespace ? { namespace } : {}) };
    if (d.component !== undefined) {
      // As DevSpace's v1beta3 upgrade: component → helm with the component chart, the component
      // spec as values and its `options` as helm options.
      const comp = { ...(obj(d.component) ?? {}) };
      const options = obj(comp.options) ?? {};
      delete comp.options;
      out.push({
        ...base,
        kind: 'helm',
        releaseName: name,
        updateImageTags: bool(options.replaceImageTags) ?? true,
        chart: { component: true },
        values: comp,
        valuesFiles: [],
        ...(bool(options.wait) !== undefined ? { wait: options.wait as boolean } : {}),
        ...(num(options.timeout) !== undefined ? { timeoutSeconds: options.timeout as number } : {}),
        ...(bool(options.rollback) !== undefined ? { atomic: options.rollback as boolean } : {}),
      });
      continue;
    }
    if (d.helm !== undefined) {
      const h = obj(d.helm) ?? {};
      const hs: Seg[] = [...segs, 'helm'];
      const chart = obj(h.chart);
      const componentChart = bool(h.componentChart) === true;
      if (!chart && !componentChart) fail(ctx, h, undefined, hs, 'needs chart (or componentChart: true)');
      if (chart && componentChart) warn(ctx, h, 'chart', [...hs, 'chart'], 'ignored because componentChart is true');
      const valuesFiles = (strs(h.valuesFiles) ?? []).map((f, j) => ref(ctx, h.valuesFiles, j, [...hs, 'valuesFiles', j], f, 'file', 'values file'));
      const atomic = bool(h.atomic) ?? bool(h.rollback);
      out.push({
        ...base,
        kind: 'helm',
        releaseName: name,
        updateImageTags: bool(h.replaceImageTags) ?? true,
        chart: componentChart || !chart ? { component: true } : await chartRef(ctx, chart, [...hs, 'chart']),
        values: obj(h.values) ?? {},
        valuesFiles,
        ...(bool(h.wait) !== undefined ? { wait: h.wait as boolean } : {}),
        ...(num(h.timeout) !== undefined ? { timeoutSeconds: h.timeout as number } : {}),
        ...(atomic !== undefined ? { atomic } : {}),
        ...(strs(h.upgradeArgs) ? { upgradeArgs: strs(h.upgradeArgs) } : {}),
      });
      continue;
    }
    const k = obj(d.kubectl) ?? {};
    const ks: Seg[] = [...segs, 'kubectl'];
    const kustomize = bool(k.kustomize) ?? false;
    const manifests = manifestRefs(ctx, k, ks, kustomize);
    const applyArgs = strs(k.applyArgs) ?? strs(k.flags);
    out.push({
      ...base,
      kind: 'kubectl',
      updateImageTags: bool(k.replaceImageTags) ?? true,
      manifests,
      kustomize,
      ...(applyArgs ? { applyArgs } : {}),
      ...(strs(k.kustomizeArgs) ? { kustomizeArgs: strs(k.kustomizeArgs) } : {}),
    });
  }
  return out;
}

function normDev(ctx: NormCtx, dev: Obj, images: Obj | undefined, version: number): DevConfig {
  const groups = new PodGroups();
  const named = new Map<string, Obj>();
  for (const s of objs(dev.selectors)) if (str(s.name)) named.set(s.name as string, s);
  const hasImage = (n: string): boolean => images !== undefined && Object.prototype.hasOwnProperty.call(images, n);

  /** The pod selector of a ports/sync/terminal entry; undefined when it names none. */
  const selectorOf = (e: Obj, segs: Seg[]): PodSelector | undefined => {
    let src: Obj = e;
    if (str(e.selector)) {
      const s = named.get(e.selector as string);
      if (!s) fail(ctx, e, 'selector', [...segs, 'selector'], `no selector named ${JSON.stringify(e.selector)} in dev.selectors`);
      src = { ...s, ...Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'selector')) };
    }
    const sel: PodSelector = {};
    if (str(src.imageName)) {
      if (!hasImage(src.imageName as string)) fail(ctx, e, 'imageName', [...segs, 'imageName'], `images has no ${JSON.stringify(src.imageName)}`);
      sel.imageName = src.imageName as string;
    } else if (str(src.imageSelector)) Object.assign(sel, imageSelectorToSelector(src.imageSelector as string, images));
    else if (strMap(src.labelSelector)) sel.labelSelector = strMap(src.labelSelector);
    else return undefined;
    if (str(src.namespace)) sel.namespace = src.namespace as string;
    if (str(src.containerName)) sel.containerName = src.containerName as string;
    return sel;
  };
  const podFor = (e: Obj, segs: Seg[], hint: string): DevPodConfig => {
    const sel = selectorOf(e, segs);
    if (sel) return groups.get(sel, str(e.selector) ?? selectorName(sel, hint));
    const first = groups.pods[0];
    if (first) {
      warn(ctx, e, undefined, segs, `no selector (imageName/labelSelector); attached to dev pod ${first.name}`);
      return first;
    }
    const firstImage = images ? Object.keys(images)[0] : undefined;
    if (firstImage) {
      warn(ctx, e, undefined, segs, `no selector (imageName/labelSelector); using the pods of image ${firstImage}`);
      return groups.get({ imageName: firstImage }, firstImage);
    }
    return fail(ctx, e, undefined, segs, 'needs a selector (imageName or labelSelector) to find its pod');
  };

  const fwd = (list: unknown): PortMapping[] =>
    objs(list).map((f) => ({ localPort: f.port as number, remotePort: num(f.remotePort) ?? (f.port as number), ...(str(f.bindAddress) ? { bindAddress: f.bindAddress as string } : {}) }));

  objs(dev.ports).forEach((p, i) => {
    const segs: Seg[] = ['dev', 'ports', i];
    const pod = podFor(p, segs, `ports-${i}`);
    pod.ports.push(...fwd(p.forward));
    pod.reversePorts.push(...fwd(p.reverseForward));
  });

  // DevSpace 6's upgrade of v1beta prints sync logs when dev.logs is there and logs.sync is not false.
  const logs = obj(dev.logs);
  const printLogs = logs ? (bool(logs.sync) ?? true) : undefined;
  objs(dev.sync).forEach((s, i) => {
    const segs: Seg[] = ['dev', 'sync', i];
    const pod = podFor(s, segs, `sync-${i}`);
    // A missing local folder is not an error: DevSpace creates it (a download fills it).
    const localPath = abs(ctx, str(s.localSubPath) || '.');
    pod.sync.push(syncOptions(ctx, s, segs, localPath, str(s.containerPath) || '.', printLogs !== undefined ? { printLogs } : {}));
  });

  let interactive = false;
  // v1beta2: `devspace dev` opened a terminal unless dev.terminal.disabled; overrideImages rebuilt
  // the image with another ENTRYPOINT, which we express as the dev command of its pods.
  if (version <= 2) {
    const t = obj(dev.terminal);
    interactive = !(t && bool(t.disabled) === true);
    objs(dev.overrideImages).forEach((o, i) => {
      const segs: Seg[] = ['dev', 'overrideImages', i];
      const n = str(o.name) as string;
      if (!hasImage(n)) fail(ctx, o, 'name', [...segs, 'name'], `images has no ${JSON.stringify(n)}`);
      const pod = groups.get({ imageName: n }, n);
      if (strs(o.entrypoint)) pod.command = strs(o.entrypoint);
    });
  }
  const term = obj(dev.terminal);
  if (term) {
    const segs: Seg[] = ['dev', 'terminal'];
    const hasSel = term.selector !== undefined || term.labelSelector !== undefined || term.imageSelector !== undefined;
    const pod = hasSel ? podFor(term, segs, 'terminal') : (groups.pods[0] ?? podFor(term, segs, 'terminal'));
    pod.terminal = { enabled: bool(term.disabled) !== true, ...(strs(term.command) ? { command: strs(term.command) } : {}), ...(str(term.workDir) ? { workDir: term.workDir as string } : {}) };
    if (version >= 10) interactive = pod.terminal.enabled;
  }
  const inter = obj(dev.interactive);
  if (inter) {
    interactive = bool(inter.defaultEnabled) ?? false;
    objs(inter.images).forEach((im, i) => {
      const segs: Seg[] = ['dev', 'interactive', 'images', i];
      const n = str(im.name) as string;
      if (!hasImage(n)) fail(ctx, im, 'name', [...segs, 'name'], `images has no ${JSON.stringify(n)}`);
      const pod = groups.get({ imageName: n }, n);
      // DevSpace 4 rebuilt interactive images with ENTRYPOINT ["sleep"] CMD ["999999999"] unless given.
      const entry = strs(im.entrypoint);
      pod.command = entry ?? ['sleep'];
      const cmd = strs(im.cmd) ?? (entry ? undefined : ['999999999']);
      if (cmd) pod.args = cmd;
      pod.terminal ??= { enabled: true };
    });
    const t = obj(inter.terminal);
    if (t) {
      const segs: Seg[] = ['dev', 'interactive', 'terminal'];
      const pod = t.imageName !== undefined || t.labelSelector !== undefined ? podFor(t, segs, 'terminal') : groups.pods[0];
      if (pod) pod.terminal = { enabled: true, ...(strs(t.command) ? { command: strs(t.command) } : {}) };
      else warn(ctx, inter, 'terminal', segs, 'no selector and no other dev entry to attach the terminal to');
    }
  }
  objs(dev.replacePods).forEach((r, i) => {
    const segs: Seg[] = ['dev', 'replacePods', i];
    const pod = podFor(r, segs, `replace-${i}`);
    if (str(r.replaceImage)) pod.devImage = r.replaceImage as string;
    const patches = objs(r.patches).map((p) => ({ op: String(p.op), path: String(p.path), ...(p.value !== undefined ? { value: p.value } : {}) }));
    if (patches.length) pod.patches = patches;
  });

  // dev.logs applies to the dev pods' log streams (dsa streams the dev pods' containers, not every
  // deployed image's): disabled turns them off, showLast is the backlog, images picks the pods by image.
  if (logs) {
    const images = strs(logs.images);
    const lastLines = num(logs.showLast);
    for (const pod of groups.pods) {
      const picked = !images || (pod.selector.imageName !== undefined && images.includes(pod.selector.imageName));
      pod.logs = { enabled: bool(logs.disabled) !== true && picked, ...(lastLines !== undefined ? { lastLines } : {}) };
    }
  }
  const out: DevConfig = { pods: groups.pods, interactive, open: objs(dev.open).map((o) => String(o.url)) };
  if (logs) out.logs = { enabled: bool(logs.disabled) !== true, ...(num(logs.showLast) !== undefined ? { lastLines: logs.showLast as number } : {}), ...(strs(logs.images) ? { images: strs(logs.images) } : {}) };
  const ar = obj(dev.autoReload);
  if (ar) out.autoReload = { paths: (strs(ar.paths) ?? []).map((p) => path.resolve(ctx.dir, p)), deployments: strs(ar.deployments) ?? [], images: strs(ar.images) ?? [] };
  return out;
}

export function depName(src: { path?: string; git?: string; subPath?: string }): string {
  if (src.path) return dnsName(path.basename(path.resolve('/', src.path)) || 'dependency');
  const repo = (src.git ?? '').replace(/\.git$/, '').replace(/\/+$/, '').split(/[/:]/).pop() ?? '';
  return dnsName(src.subPath ? `${repo}-${path.basename(src.subPath)}` : repo || 'dependency');
}

function normDependencies(ctx: NormCtx, list: Obj[]): { deps: DependencyConfig[]; at: NormalizedPieces['dependencyAt'] } {
  const deps: DependencyConfig[] = [];
  const at: NormalizedPieces['dependencyAt'] = [];
  list.forEach((d, i) => {
    const segs: Seg[] = ['dependencies', i];
    const src = obj(d.source) ?? {};
    const git = str(src.git);
    const p = str(src.path);
    if ((git ? 1 : 0) + (p ? 1 : 0) !== 1) fail(ctx, d, 'source', [...segs, 'source'], 'needs exactly one of path, git');
    const vars: Record<string, string> = {};
    for (const v of objs(d.vars)) vars[String(v.name)] = str(v.value) ?? '';
    const dep: DependencyConfig = {
      name: str(d.name) ?? depName({ ...(p ? { path: p } : {}), ...(git ? { git } : {}), ...(str(src.subPath) ? { subPath: src.subPath as string } : {}) }),
      source: dependencySource(ctx, src, p, git),
      skipBuild: bool(d.skipBuild) ?? false,
      vars,
      ignoreDependencies: bool(d.ignoreDependencies) ?? false,
    };
    const profile = str(d.profile) ?? str(d.config);
    if (profile) dep.profile = profile;
    if (str(d.namespace)) dep.namespace = d.namespace as string;
    deps.push(dep);
    at.push({ o: src, key: p ? 'path' : 'git', segs: [...segs, 'source', p ? 'path' : 'git'] });
  });
  return { deps, at };
}

function normHooks(ctx: NormCtx, list: Obj[]): HookSpec[] {
  return list.map((h, i) => {
    const events: string[] = [...(strs(h.events) ?? [])];
    const when = obj(h.when);
    for (const phase of ['before', 'after'] as const) {
      const t = obj(when?.[phase]);
      if (!t) continue;
      for (const [key, ev] of [
        ['images', 'build'],
        ['deployments', 'deploy'],
      ] as const) {
        const target = str(t[key]);
        if (target) events.push(target === 'all' ? `${phase}:${ev}` : `${phase}:${ev}:${target}`);
      }
    }
    return normHook(ctx, h, i, events);
  }).filter((h): h is HookSpec => h !== undefined);
}

export async function normalizeV1beta(ctx: NormCtx, doc: Obj, version: number): Promise<NormalizedPieces> {
  const images = obj(doc.images);
  const { deps, at } = normDependencies(ctx, objs(doc.dependencies));
  const cluster = obj(doc.cluster);
  return {
    images: normImages(ctx, images),
    deployments: await normDeployments(ctx, objs(doc.deployments)),
    dev: normDev(ctx, obj(doc.dev) ?? {}, images, version),
    dependencies: deps,
    dependencyAt: at,
    hooks: normHooks(ctx, objs(doc.hooks)),
    commands: objs(doc.commands).map((c) => ({ name: String(c.name), command: String(c.command), ...(str(c.description) ? { description: c.description as string } : {}) })),
    ...(str(cluster?.namespace) ? { namespace: cluster?.namespace as string } : {}),
    ...(str(cluster?.kubeContext) ? { kubeContext: cluster?.kubeContext as string } : {}),
  };
}
