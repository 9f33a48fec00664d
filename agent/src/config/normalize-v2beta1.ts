// DevSpace 6 (`version: v2beta1`) → ProjectConfig pieces.
import type { DependencyConfig, DeploymentConfig, DevConfig, DevPodConfig, HelmChartRef, ImageConfig, PodSelector, PortMapping, SyncConfig } from '../../../api/src/model/project.js';
import { abs, binaryPath, bool, chartRef, customBuild, dependencySource, dockerOptions, fail, gitSource, imageSelectorToSelector, kanikoOptions, localChart, manifestRefs, num, obj, objs, parseSyncPath, posAt, ref, str, strMap, strs, syncOptions, warn, type NormCtx, type Obj } from './normalize-common.js';
import { normHook, type HookSpec } from './hooks.js';
import { depName, type NormalizedPieces } from './normalize-v1beta.js';
import { fmtPath, type Seg } from './paths.js';
import { parsePortSpec } from './ports.js';

function normImages(ctx: NormCtx, images: Obj): ImageConfig[] {
  return Object.entries(images).map(([name, raw]) => {
    const img = obj(raw) ?? {};
    const segs: Seg[] = ['images', name];
    const kaniko = obj(img.kaniko);
    const k = kanikoOptions(kaniko);
    const engines = ['docker', 'buildKit', 'kaniko', 'custom'].filter((e) => img[e] !== undefined);
    if (engines.length > 1) fail(ctx, img, engines[1], [...segs, engines[1] as string], `only one build engine per image (also has ${engines[0]})`);
    const custom = obj(img.custom);
    const dockerfileRel = str(img.dockerfile) ?? './Dockerfile';
    const contextRel = str(img.context) ?? './';
    const out: ImageConfig = {
      name,
      image: str(img.image) ?? '',
      tags: strs(img.tags) ?? [],
      // A custom command needs no Dockerfile (nor a context folder): not checked.
      dockerfile: custom ? abs(ctx, dockerfileRel) : ref(ctx, img, img.dockerfile !== undefined ? 'dockerfile' : undefined, [...segs, 'dockerfile'], dockerfileRel, 'file', 'Dockerfile'),
      context: custom ? abs(ctx, contextRel) : ref(ctx, img, img.context !== undefined ? 'context' : undefined, [...segs, 'context'], contextRel, 'dir', 'build context'),
      buildArgs: strMap(img.buildArgs) ?? {},
      requestedEngine: custom ? 'custom' : img.buildKit ? 'buildkit' : img.docker ? 'docker' : 'kaniko',
      kaniko: k,
      createPullSecret: bool(img.createPullSecret) ?? false,
      skipPush: bool(img.skipPush) ?? false,
      disabled: false,
    };
    if (strs(img.entrypoint)) out.entrypoint = strs(img.entrypoint);
    if (strs(img.cmd)) out.cmd = strs(img.cmd);
    if (strs(img.appendDockerfileInstructions)) out.appendDockerfileInstructions = strs(img.appendDockerfileInstructions);
    if (str(img.target)) out.target = img.target as string;
    if (str(img.network)) out.network = img.network as string;
    const docker = obj(img.docker);
    if (docker) out.docker = dockerOptions(docker);
    // DevSpace 6 adds the image argument only when the deprecated skipImageArg is written as false.
    if (custom) out.custom = customBuild(ctx, custom, [...segs, 'custom'], { argsKeys: ['args'], imageArg: bool(custom.skipImageArg) === false });
    return out;
  });
}

async function normDeployments(ctx: NormCtx, deployments: Obj): Promise<DeploymentConfig[]> {
  const out: DeploymentConfig[] = [];
  for (const [name, raw] of Object.entries(deployments)) {
    const d = obj(raw) ?? {};
    const segs: Seg[] = ['deployments', name];
    const kinds = ['helm', 'kubectl'].filter((k) => d[k] !== undefined);
    if (kinds.length !== 1) fail(ctx, d, undefined, segs, kinds.length ? 'has both helm and kubectl; a deployment needs exactly one' : 'needs one of helm, kubectl');
    const base = { name, updateImageTags: bool(d.updateImageTags) ?? true, ...(str(d.namespace) ? { namespace: d.namespace as string } : {}) };
    if (d.helm !== undefined) {
      const h = obj(d.helm) ?? {};
      const hs: Seg[] = [...segs, 'helm'];
      const chart = obj(h.chart);
      let chartRefV: HelmChartRef;
      // DevSpace 6: a helm deployment without a chart uses the component chart.
      if (!chart || (!str(chart.name) && !str(chart.path) && !str(chart.git))) chartRefV = { component: true };
      else if (str(chart.git)) {
        chartRefV = { git: gitSource(chart, chart.git as string), ...(str(chart.version) ? { version: chart.version as string } : {}) };
      } else if (str(chart.path)) chartRefV = localChart(ctx, chart, 'path', [...hs, 'chart', 'path'], chart.path as string);
      else chartRefV = await chartRef(ctx, chart, [...hs, 'chart']);
      out.push({
        ...base,
        kind: 'helm',
        releaseName: str(h.releaseName) ?? name,
        chart: chartRefV,
        values: obj(h.values) ?? {},
        valuesFiles: (strs(h.valuesFiles) ?? []).map((f, j) => ref(ctx, h.valuesFiles, j, [...hs, 'valuesFiles', j], f, 'file', 'values file')),
        ...(strs(h.upgradeArgs) ? { upgradeArgs: strs(h.upgradeArgs) } : {}),
      });
      continue;
    }
    const k = obj(d.kubectl) ?? {};
    const ks: Seg[] = [...segs, 'kubectl'];
    const kustomize = bool(k.kustomize) ?? false;
    if (k.manifests === undefined && k.inlineManifest === undefined) fail(ctx, k, undefined, ks, 'needs manifests or inlineManifest');
    out.push({
      ...base,
      kind: 'kubectl',
      manifests: manifestRefs(ctx, k, ks, kustomize),
      ...(str(k.inlineManifest) ? { inlineManifest: k.inlineManifest as string } : {}),
      kustomize,
      ...(strs(k.applyArgs) ? { applyArgs: strs(k.applyArgs) } : {}),
      ...(strs(k.kustomizeArgs) ? { kustomizeArgs: strs(k.kustomizeArgs) } : {}),
      ...(str(k.kustomizeBinaryPath) ? { kustomizeBinaryPath: binaryPath(ctx, k.kustomizeBinaryPath as string) } : {}),
    });
  }
  return out;
}

function ports(ctx: NormCtx, list: unknown, segs: Seg[]): PortMapping[] {
  return objs(list).map((p, i) => {
    const spec = parsePortSpec(p.port as string | number);
    if (!spec) return fail(ctx, p, 'port', [...segs, i, 'port'], `${JSON.stringify(p.port)} is not a port (want "local[:remote]")`);
    return { localPort: spec.local, remotePort: spec.remote, ...(str(p.bindAddress) ? { bindAddress: p.bindAddress as string } : {}) };
  });
}

function syncs(ctx: NormCtx, list: unknown, segs: Seg[]): SyncConfig[] {
  return objs(list).map((s, i) => {
    const ss: Seg[] = [...segs, i];
    const { local, remote } = parseSyncPath(str(s.path) ?? '');
    // A missing local folder is not an error: DevSpace creates it (a download fills it).
    const localPath = abs(ctx, local);
    const sc = syncOptions(ctx, s, ss, localPath, remote);
    // DevSpace 6 syncs a single file when `file: true` or when the local path is a file (known
    // only once files are checked): then both paths must end in the same name.
    ctx.syncFiles.push({ sync: sc, pos: posAt(ctx, s, s.path !== undefined ? 'path' : s.file !== undefined ? 'file' : undefined), path: fmtPath([...ss, s.path !== undefined ? 'path' : 'file']) });
    return sc;
  });
}

const CONTAINER_KEYS = ['devImage', 'command', 'args', 'workingDir', 'env', 'resources', 'reversePorts', 'sync', 'terminal', 'logs', 'container'];

function container(ctx: NormCtx, pod: DevPodConfig, c: Obj, segs: Seg[]): void {
  if (str(c.container)) pod.selector.containerName = c.container as string;
  if (str(c.devImage)) pod.devImage = c.devImage as string;
  if (strs(c.command)) pod.command = strs(c.command);
  if (strs(c.args)) pod.args = strs(c.args);
  if (str(c.workingDir)) pod.workingDir = c.workingDir as string;
  const env = objs(c.env).map((e) => ({ name: String(e.name), value: str(e.value) ?? '' }));
  if (env.length) pod.env = env;
  const res = obj(c.resources);
  if (res) pod.resources = { ...(strMap(res.requests) ? { requests: strMap(res.requests) } : {}), ...(strMap(res.limits) ? { limits: strMap(res.limits) } : {}) };
  pod.reversePorts.push(...ports(ctx, c.reversePorts, [...segs, 'reversePorts']));
  pod.sync.push(...syncs(ctx, c.sync, [...segs, 'sync']));
  const t = obj(c.terminal);
  if (t) {
    // DevSpace 6 runs terminal.command through `sh -c`.
    pod.terminal = {
      enabled: bool(t.enabled) ?? true,
      ...(str(t.command) ? { command: ['sh', '-c', t.command as string] } : {}),
      ...(str(t.workDir) ? { workDir: t.workDir as string } : {}),
    };
  }
  const l = obj(c.logs);
  if (l) pod.logs = { enabled: bool(l.enabled) ?? true, ...(num(l.lastLines) !== undefined ? { lastLines: l.lastLines as number } : {}) };
}

function normDev(ctx: NormCtx, dev: Obj, images: Obj | undefined): DevConfig {
  const pods: DevPodConfig[] = [];
  const open: string[] = [];
  let interactive = false;
  for (const [name, raw] of Object.entries(dev)) {
    const d = obj(raw) ?? {};
    const segs: Seg[] = ['dev', name];
    const sel: PodSelector = {};
    if (str(d.imageSelector) && d.labelSelector !== undefined) fail(ctx, d, 'labelSelector', [...segs, 'labelSelector'], 'use either imageSelector or labelSelector, not both');
    if (str(d.imageSelector)) {
      Object.assign(sel, imageSelectorToSelector(d.imageSelector as string, images));
      if (sel.imageSelector?.includes('${runtime.')) warn(ctx, d, 'imageSelector', [...segs, 'imageSelector'], `runtime variable in ${JSON.stringify(sel.imageSelector)} is left as written (dsa resolves only \${runtime.images.<name>})`);
    } else if (strMap(d.labelSelector)) sel.labelSelector = strMap(d.labelSelector);
    else fail(ctx, d, undefined, segs, 'needs imageSelector or labelSelector');
    if (str(d.namespace)) sel.namespace = d.namespace as string;
    const mk = (n: string, s: PodSelector): DevPodConfig => ({ name: n, selector: { ...s }, ports: [], reversePorts: [], sync: [] });
    const made: DevPodConfig[] = [];
    const inline = CONTAINER_KEYS.some((k) => d[k] !== undefined);
    const containers = obj(d.containers);
    if (inline || !containers || Object.keys(containers).length === 0) {
      const pod = mk(name, sel);
      container(ctx, pod, d, segs);
      made.push(pod);
    }
    for (const [cname, craw] of Object.entries(containers ?? {})) {
      const c = obj(craw) ?? {};
      const pod = mk(`${name}-${cname}`, { ...sel, containerName: cname });
      container(ctx, pod, c, [...segs, 'containers', cname]);
      made.push(pod);
    }
    const first = made[0] as DevPodConfig;
    first.ports.push(...ports(ctx, d.ports, [...segs, 'ports']));
    const patches = objs(d.patches).map((p) => ({ op: String(p.op), path: String(p.path), ...(p.value !== undefined ? { value: p.value } : {}) }));
    if (patches.length) first.patches = patches;
    for (const o of objs(d.open)) open.push(String(o.url));
    if (made.some((p) => p.terminal?.enabled)) interactive = true;
    pods.push(...made);
  }
  return { pods, interactive, open };
}

function normDependencies(ctx: NormCtx, deps: Obj): { deps: DependencyConfig[]; at: NormalizedPieces['dependencyAt'] } {
  const out: DependencyConfig[] = [];
  const at: NormalizedPieces['dependencyAt'] = [];
  for (const [name, raw] of Object.entries(deps)) {
    const d = obj(raw) ?? {};
    const segs: Seg[] = ['dependencies', name];
    if (bool(d.disabled) === true) continue;
    const git = str(d.git);
    const p = str(d.path);
    if ((git ? 1 : 0) + (p ? 1 : 0) !== 1) fail(ctx, d, undefined, segs, 'needs exactly one of path, git');
    const profiles = strs(d.profiles) ?? [];
    if (profiles.length > 1) warn(ctx, d, 'profiles', [...segs, 'profiles'], `only the first profile (${profiles[0]}) is applied to dependencies`);
    const dep: DependencyConfig = {
      name: name || depName({ ...(p ? { path: p } : {}), ...(git ? { git } : {}) }),
      source: dependencySource(ctx, d, p, git),
      skipBuild: false,
      vars: strMap(d.vars) ?? {},
      ignoreDependencies: bool(d.ignoreDependencies) ?? false,
    };
    if (profiles[0]) dep.profile = profiles[0];
    if (str(d.namespace)) dep.namespace = d.namespace as string;
    out.push(dep);
    at.push({ o: d, key: p ? 'path' : 'git', segs: [...segs, p ? 'path' : 'git'] });
  }
  return { deps: out, at };
}

function normHooks(ctx: NormCtx, list: Obj[]): HookSpec[] {
  return list.map((h, i) => normHook(ctx, h, i, strs(h.events) ?? [])).filter((h): h is HookSpec => h !== undefined);
}

export async function normalizeV2beta1(ctx: NormCtx, doc: Obj): Promise<NormalizedPieces> {
  const images = obj(doc.images);
  const { deps, at } = normDependencies(ctx, obj(doc.dependencies) ?? {});
  return {
    ...(str(doc.name) ? { name: doc.name as string } : {}),
    images: normImages(ctx, images ?? {}),
    deployments: await normDeployments(ctx, obj(doc.deployments) ?? {}),
    dev: normDev(ctx, obj(doc.dev) ?? {}, images),
    dependencies: deps,
    dependencyAt: at,
    hooks: normHooks(ctx, objs(doc.hooks)),
    commands: Object.entries(obj(doc.commands) ?? {}).map(([name, c]) =>
      typeof c === 'string' ? { name, command: c } : { name, command: String(obj(c)?.command ?? ''), ...(str(obj(c)?.description) ? { description: obj(c)?.description as string } : {}) },
    ),
  };
}
