// Helpers shared by the v1beta and v2beta1 normalizers.
import path from 'node:path';
import type { ConfigWarning, CustomBuildConfig, DependencyConfig, DevPodConfig, DockerBuildOptions, GitSource, HelmChartRef, KanikoOptions, PodSelector, SourcePos, SyncCommandConfig, SyncConfig } from '../../../api/src/model/project.js';
import { SYNC_LIMITS } from '../../../api/src/v1alpha1/devsession.js';
import { ConfigError } from './errors.js';
import { fmtPath, type Seg } from './paths.js';
import type { FileReader } from './types.js';
import { childPos, isPlainObject, metaOf } from './yaml-source.js';

export type Obj = Record<string, unknown>;

/** A path the config references; checked after normalization when checkFiles is on. */
export interface FileRef {
  abs: string;
  /** What must be there: a file, a folder, either, or a glob that must match something. */
  want: 'file' | 'dir' | 'any' | 'glob';
  what: string;
  pos: SourcePos;
  path: string;
}

/**
 * An exclude file (`excludeFile: .gitignore`) of a sync entry, read once the entry is complete: its
 * lines go after the inline patterns of `list`. `rel` is as written: DevSpace resolves it against the
 * sync's local folder (for a single-file sync, the file's folder), not the config's folder.
 */
export interface ExcludeFileRef {
  rel: string;
  sync: SyncConfig;
  list: 'excludePaths' | 'downloadExcludePaths' | 'uploadExcludePaths';
  pos: SourcePos;
  path: string;
}

/** A sync entry whose `path` may name a single file (DevSpace 6 stats it); checked after normalization. */
export interface SyncFileCheck {
  sync: SyncConfig;
  pos: SourcePos;
  path: string;
}

export interface NormCtx {
  file: string;
  dir: string;
  rootPos: SourcePos;
  warnings: ConfigWarning[];
  refs: FileRef[];
  excludeFiles: ExcludeFileRef[];
  syncFiles: SyncFileCheck[];
  fs: FileReader;
  checkFiles: boolean;
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
export const strs = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.map((x) => String(x)) : undefined);
export const obj = (v: unknown): Obj | undefined => (isPlainObject(v) ? v : undefined);
export const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
export const strMap = (v: unknown): Record<string, string> | undefined =>
  isPlainObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null || x === undefined ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x)])) : undefined;

/** Position of `o[key]` (value), else of `o`, else the document root. */
export function posAt(ctx: NormCtx, o: unknown, key?: string | number, which: 'key' | 'val' = 'val'): SourcePos {
  return (key !== undefined ? childPos(o, key, which) : undefined) ?? metaOf(o)?.pos ?? ctx.rootPos;
}

export function fail(ctx: NormCtx, o: unknown, key: string | number | undefined, path: Seg[], reason: string): never {
  const p = posAt(ctx, o, key);
  throw new ConfigError(p.file, p.line, p.col, fmtPath(path), reason);
}

export function warn(ctx: NormCtx, o: unknown, key: string | number | undefined, path: Seg[], message: string): void {
  ctx.warnings.push({ path: fmtPath(path), message, pos: posAt(ctx, o, key, 'key') });
}

export function abs(ctx: NormCtx, p: string): string {
  return path.resolve(ctx.dir, p);
}

/** Records a path reference and returns it absolute. */
export function ref(ctx: NormCtx, o: unknown, key: string | number | undefined, segs: Seg[], p: string, want: FileRef['want'], what: string): string {
  const a = abs(ctx, p);
  ctx.refs.push({ abs: a, want: /[*?[]/.test(p) && want !== 'dir' ? 'glob' : want, what, pos: posAt(ctx, o, key), path: fmtPath(segs) });
  return a;
}

export function dnsName(s: string): string {
  const n = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/g, '');
  return n || 'devspace';
}

/**
 * DevSpace's `chart.name` is either a local chart folder or a repo chart name. We decide the way
 * DevSpace does when the folder exists; without file checks, names that look like paths (./x,
 * ../x, /x, or a/b whose first part is not a well-known repo alias) are taken as local.
 */
export async function chartRef(ctx: NormCtx, chart: Obj, segs: Seg[]): Promise<HelmChartRef> {
  const name = str(chart.name) ?? '';
  const repo = str(chart.repo);
  const version = str(chart.version);
  const remote = (): HelmChartRef => ({
    name,
    ...(repo ? { repo } : {}),
    ...(version ? { version } : {}),
    ...(str(chart.username) ? { username: str(chart.username) as string } : {}),
    ...(str(chart.password) ? { password: str(chart.password) as string } : {}),
  });
  if (repo || /^(oci|https?):\/\//.test(name)) return remote();
  const looksLocal = /^(\.{1,2}[\\/]|[\\/]|\.{1,2}$)/.test(name) || CHART_ARCHIVE.test(name);
  const kind = await ctx.fs.stat(abs(ctx, name)).catch(() => undefined);
  if (kind !== undefined || looksLocal || (!ctx.checkFiles && name.includes('/') && !/^(stable|incubator|bitnami)\//.test(name))) {
    return localChart(ctx, chart, 'name', [...segs, 'name'], name);
  }
  return remote();
}

/** A packed chart (what `helm package` writes); helm takes it wherever it takes a chart folder. */
const CHART_ARCHIVE = /\.(tgz|tar\.gz)$/;

/** A local chart: a folder, or a packed chart (.tgz) file. */
export function localChart(ctx: NormCtx, o: Obj, key: string, segs: Seg[], p: string): HelmChartRef {
  return CHART_ARCHIVE.test(p) ? { path: ref(ctx, o, key, segs, p, 'file', 'chart archive') } : { path: ref(ctx, o, key, segs, p, 'dir', 'chart folder') };
}

/** v2beta1/v1beta10 `imageSelector`: an images key's image (or `${runtime.images.X…}`) means that image. */
export function imageSelectorToSelector(sel: string, images: Obj | undefined): Pick<PodSelector, 'imageName' | 'imageSelector'> {
  const rt = /^\$\{runtime\.images\.([^.}]+)(?:\.image)?\}$/.exec(sel);
  if (rt && rt[1] && images && Object.prototype.hasOwnProperty.call(images, rt[1])) return { imageName: rt[1] };
  const img = /^image\(([^)]+)\)$/.exec(sel);
  if (img && img[1] && images && Object.prototype.hasOwnProperty.call(images, img[1])) return { imageName: img[1] };
  if (images) {
    for (const [k, v] of Object.entries(images)) {
      if (isPlainObject(v) && typeof v.image === 'string' && v.image === sel) return { imageName: k };
    }
  }
  return { imageSelector: sel };
}

/** Dev pods grouped by equal selector (DevSpace 6's upgrade of v1beta ports/sync/terminal lists). */
export class PodGroups {
  readonly pods: DevPodConfig[] = [];
  private readonly byKey = new Map<string, DevPodConfig>();

  get(selector: PodSelector, nameHint: string): DevPodConfig {
    const key = JSON.stringify(selector, Object.keys(selector).sort()) + JSON.stringify(selector.labelSelector ? Object.entries(selector.labelSelector).sort() : []);
    const found = this.byKey.get(key);
    if (found) return found;
    let name = dnsName(nameHint);
    for (let i = 2; this.pods.some((p) => p.name === name); i++) name = `${dnsName(nameHint)}-${i}`;
    const pod: DevPodConfig = { name, selector, ports: [], reversePorts: [], sync: [] };
    this.pods.push(pod);
    this.byKey.set(key, pod);
    return pod;
  }
}

export function selectorName(sel: PodSelector, fallback: string): string {
  if (sel.imageName) return sel.imageName;
  if (sel.labelSelector) {
    const vals = Object.values(sel.labelSelector).filter(Boolean);
    if (vals.length) return vals.join('-');
  }
  if (sel.imageSelector) return sel.imageSelector.replace(/^.*\//, '').replace(/[:@].*$/, '');
  return fallback;
}

/** A list of sync patterns (exclude lists, onChange globs) within the API's bounds, empty entries dropped. */
function patterns(ctx: NormCtx, o: Obj, key: string, segs: Seg[], max: number): string[] {
  const list = strs(o[key]) ?? [];
  if (list.length > max) fail(ctx, o, key, [...segs, key], `has ${list.length} patterns; at most ${max}`);
  list.forEach((p, i) => {
    if (p.length > SYNC_LIMITS.patternLength) fail(ctx, o[key], i, [...segs, key, i], `pattern is ${p.length} characters long; at most ${SYNC_LIMITS.patternLength}`);
  });
  return list.filter((p) => p !== '');
}

/** `command` + `args` of a sync command, within the API's bounds. */
function commandLine(ctx: NormCtx, o: Obj, segs: Seg[]): { command: string; args: string[] } {
  const command = str(o.command) ?? '';
  if (command.length > SYNC_LIMITS.argLength) fail(ctx, o, 'command', [...segs, 'command'], `is ${command.length} characters long; at most ${SYNC_LIMITS.argLength}`);
  const args = strs(o.args) ?? [];
  if (args.length > SYNC_LIMITS.args) fail(ctx, o, 'args', [...segs, 'args'], `has ${args.length} arguments; at most ${SYNC_LIMITS.args}`);
  args.forEach((a, i) => {
    if (a.length > SYNC_LIMITS.argLength) fail(ctx, o.args, i, [...segs, 'args', i], `is ${a.length} characters long; at most ${SYNC_LIMITS.argLength}`);
  });
  return { command, args };
}

const syncCommand = (c: { command: string; args: string[] }, over: Partial<SyncCommandConfig>): SyncCommandConfig => ({
  command: c.command,
  args: c.args,
  shell: false,
  where: 'container',
  trigger: 'batch',
  onChange: [],
  once: false,
  failOnError: true,
  ...over,
});

/**
 * DevSpace's `execRemote` (onUpload, v1beta6+ and v2beta1) and `execLocal` (onDownload, v1beta6–11):
 * `command`/`args` run per file and per created directory, unless onFileChange/onDirCreate say
 * otherwise (getSyncCommands), and onBatch after each batch. No shell; a failure stops the sync.
 * An empty command means "none", as in DevSpace.
 */
function execCommandSet(ctx: NormCtx, o: Obj, segs: Seg[], where: SyncCommandConfig['where']): SyncCommandConfig[] {
  const out: SyncCommandConfig[] = [];
  const top = commandLine(ctx, o, segs);
  const one = (key: string, on: SyncCommandConfig['trigger']): void => {
    const sub = obj(o[key]);
    const c = sub ? commandLine(ctx, sub, [...segs, key]) : undefined;
    if (c?.command) out.push(syncCommand(c, { where, trigger: on }));
  };
  if (top.command) out.push(syncCommand(top, { where, trigger: 'file' }), syncCommand(top, { where, trigger: 'dir' }));
  else {
    one('onFileChange', 'file');
    one('onDirCreate', 'dir');
  }
  one('onBatch', 'batch');
  return out;
}

/** v1beta11/v2beta1 `onUpload.exec[]`: per batch, in the container or `local`; no args = a shell line. */
function execList(ctx: NormCtx, list: unknown, segs: Seg[]): SyncCommandConfig[] {
  const items = objs(list);
  if (items.length > SYNC_LIMITS.commands) fail(ctx, list, undefined, segs, `has ${items.length} commands; at most ${SYNC_LIMITS.commands}`);
  return items.map((e, i) => {
    const es: Seg[] = [...segs, i];
    const c = commandLine(ctx, e, es);
    if (!c.command) fail(ctx, e, 'command', [...es, 'command'], 'must not be empty');
    const name = str(e.name);
    return syncCommand(c, {
      ...(name ? { name } : {}),
      shell: e.args === undefined,
      where: bool(e.local) ? 'local' : 'container',
      onChange: patterns(ctx, e, 'onChange', es, SYNC_LIMITS.onChange),
      once: bool(e.once) ?? false,
      failOnError: bool(e.failOnError) ?? false,
    });
  });
}

/**
 * A sync entry's options, both config families: the schemas differ in how the paths are written
 * (v1beta localSubPath/containerPath, v2beta1 a "local:remote" spec), which the caller resolves,
 * and in which keys exist (each version's schema already refused the others). `segs` is the
 * entry's own path, e.g. dev.sync[0].
 */
export function syncOptions(ctx: NormCtx, s: Obj, segs: Seg[], localPath: string, containerPath: string, extra: Partial<SyncConfig> = {}): SyncConfig {
  if (containerPath.length > SYNC_LIMITS.pathLength) fail(ctx, s, undefined, segs, `container path is ${containerPath.length} characters long; at most ${SYNC_LIMITS.pathLength}`);
  const sc: SyncConfig = {
    ...(str(s.name) ? { name: s.name as string } : {}),
    localPath,
    containerPath,
    excludePaths: patterns(ctx, s, 'excludePaths', segs, SYNC_LIMITS.excludes),
    downloadExcludePaths: patterns(ctx, s, 'downloadExcludePaths', segs, SYNC_LIMITS.excludes),
    uploadExcludePaths: patterns(ctx, s, 'uploadExcludePaths', segs, SYNC_LIMITS.excludes),
    disableDownload: bool(s.disableDownload) ?? false,
    disableUpload: bool(s.disableUpload) ?? false,
    ...extra,
  };
  if (str(s.initialSync)) sc.initialSync = s.initialSync as SyncConfig['initialSync'];
  // v1beta3–6: DevSpace's v1beta6 upgrade turns downloadOnInitialSync: true into preferLocal.
  else if (bool(s.downloadOnInitialSync)) sc.initialSync = 'preferLocal';
  if (str(s.initialSyncCompareBy)) sc.initialSyncCompareBy = s.initialSyncCompareBy as SyncConfig['initialSyncCompareBy'];
  for (const key of ['file', 'waitInitialSync', 'startContainer', 'polling', 'noWatch', 'printLogs'] as const) {
    const v = bool(s[key]);
    if (v !== undefined) sc[key] = v;
  }
  if (num(s.throttleChangeDetection) !== undefined) sc.throttleChangeDetection = s.throttleChangeDetection as number;
  const bw = obj(s.bandwidthLimits);
  if (bw) sc.bandwidthLimits = { ...(num(bw.download) !== undefined ? { download: bw.download as number } : {}), ...(num(bw.upload) !== undefined ? { upload: bw.upload as number } : {}) };
  const up = obj(s.onUpload);
  if (up) {
    const us: Seg[] = [...segs, 'onUpload'];
    // DevSpace runs exec[] first, then execRemote.onBatch, then restarts (upstream.execCommands).
    const exec = [...execList(ctx, up.exec, [...us, 'exec']), ...(obj(up.execRemote) ? execCommandSet(ctx, up.execRemote as Obj, [...us, 'execRemote'], 'container') : [])];
    if (exec.length > SYNC_LIMITS.commands) fail(ctx, s, 'onUpload', us, `has ${exec.length} commands; at most ${SYNC_LIMITS.commands}`);
    sc.onUpload = { ...(bool(up.restartContainer) !== undefined ? { restartContainer: up.restartContainer as boolean } : {}), ...(exec.length ? { exec } : {}) };
  }
  const down = obj(s.onDownload);
  const execLocal = obj(down?.execLocal);
  if (execLocal) {
    const exec = execCommandSet(ctx, execLocal, [...segs, 'onDownload', 'execLocal'], 'local');
    if (exec.length) sc.onDownload = { exec };
  }
  for (const [key, list] of [
    ['excludeFile', 'excludePaths'],
    ['downloadExcludeFile', 'downloadExcludePaths'],
    ['uploadExcludeFile', 'uploadExcludePaths'],
  ] as const) {
    const f = str(s[key]);
    if (f) ctx.excludeFiles.push({ rel: f, sync: sc, list, pos: posAt(ctx, s, key), path: fmtPath([...segs, key]) });
  }
  return sc;
}

/**
 * DevSpace 6's ParseSyncPath: "" is ".:.", one part is both sides, and with more than one `:` the
 * last one separates (so `C:\src:/app` keeps its drive letter); an empty side is `.`.
 */
export function parseSyncPath(spec: string): { local: string; remote: string } {
  if (spec === '') return { local: '.', remote: '.' };
  const cut = spec.lastIndexOf(':');
  if (cut < 0) return { local: spec, remote: spec };
  return { local: spec.slice(0, cut) || '.', remote: spec.slice(cut + 1) || '.' };
}

/** A git repository as both schemas write it: the URL with branch/tag/revision/subPath beside it in `o`. */
export function gitSource(o: Obj, url: string): GitSource {
  return {
    url,
    ...(str(o.branch) ? { branch: o.branch as string } : {}),
    ...(str(o.tag) ? { tag: o.tag as string } : {}),
    ...(str(o.revision) ? { revision: o.revision as string } : {}),
    ...(str(o.subPath) ? { subPath: o.subPath as string } : {}),
  };
}

/** A dependency's source; exactly one of `p` (a local folder, its subPath inside it) and `git` is set. */
export function dependencySource(ctx: NormCtx, o: Obj, p: string | undefined, git: string | undefined): DependencyConfig['source'] {
  return p ? { path: path.resolve(ctx.dir, p, str(o.subPath) ?? '.') } : { git: gitSource(o, git as string) };
}

/** An image's kaniko options; the args are taken from the first of `argsKeys` that is set (v1beta also reads `flags`). */
export function kanikoOptions(kaniko: Obj | undefined, argsKeys: readonly string[] = ['args']): KanikoOptions {
  const k: KanikoOptions = {};
  if (!kaniko) return k;
  if (bool(kaniko.cache) !== undefined) k.cache = kaniko.cache as boolean;
  if (bool(kaniko.insecure) !== undefined) k.insecure = kaniko.insecure as boolean;
  if (str(kaniko.namespace)) k.namespace = kaniko.namespace as string;
  if (str(kaniko.pullSecret)) k.pullSecret = kaniko.pullSecret as string;
  const args = argsKeys.map((key) => strs(kaniko[key])).find((a) => a !== undefined);
  if (args) k.args = args;
  if (str(kaniko.image)) k.image = kaniko.image as string;
  if (str(kaniko.snapshotMode)) k.snapshotMode = kaniko.snapshotMode as string;
  const res = obj(kaniko.resources);
  if (res) k.resources = { ...(strMap(res.requests) ? { requests: strMap(res.requests) } : {}), ...(strMap(res.limits) ? { limits: strMap(res.limits) } : {}) };
  return k;
}

/** `build.docker` / `docker`: the options the agent's docker builder acts on. */
export function dockerOptions(docker: Obj): DockerBuildOptions {
  return { disableFallback: bool(docker.disableFallback) ?? false, preferMinikube: bool(docker.preferMinikube) ?? true };
}

/** Go's GOOS for this platform, as DevSpace's custom `commands[].os` names it. */
function goos(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

/**
 * `build.custom` / `custom`. The command is `command`, unless a `commands[]` entry names this OS
 * (DevSpace's ShouldExecuteOnOS: a comma-separated GOOS list, empty = any); onChange globs become
 * absolute (DevSpace resolves them against the project folder).
 */
export function customBuild(ctx: NormCtx, custom: Obj, segs: Seg[], opts: { argsKeys: readonly string[]; imageArg: boolean }): CustomBuildConfig {
  let command = str(custom.command) ?? '';
  for (const c of objs(custom.commands)) {
    const os = (str(c.os) ?? '').split(',').map((o) => o.trim()).filter(Boolean);
    if (os.length === 0 || os.includes(goos())) {
      command = str(c.command) ?? command;
      break;
    }
  }
  if (command.trim() === '') fail(ctx, custom, undefined, segs, 'needs a command (or a commands entry for this OS)');
  const args = opts.argsKeys.map((key) => strs(custom[key])).find((a) => a !== undefined) ?? [];
  return {
    command,
    args,
    appendArgs: strs(custom.appendArgs) ?? [],
    ...(str(custom.imageFlag) ? { imageFlag: custom.imageFlag as string } : {}),
    imageTagOnly: bool(custom.imageTagOnly) ?? false,
    imageArg: opts.imageArg,
    onChange: (strs(custom.onChange) ?? []).filter((g) => g !== '').map((g) => abs(ctx, g)),
  };
}

/**
 * kubectl `manifests` as references: files, folders or globs (expanded once files are checked); with
 * kustomize, folders — a trailing `kustomization.yaml` or `*` is dropped as DevSpace does.
 */
export function manifestRefs(ctx: NormCtx, kubectl: Obj, segs: Seg[], kustomize: boolean): string[] {
  return (strs(kubectl.manifests) ?? []).map((m, j) => {
    const at: Seg[] = [...segs, 'manifests', j];
    if (!kustomize) return ref(ctx, kubectl.manifests, j, at, m, 'any', 'manifest');
    const dir = m.replace(/\*+$/, '').replace(/(^|[\\/])kustomization\.ya?ml$/, '$1') || '.';
    return ref(ctx, kubectl.manifests, j, at, dir, 'dir', 'kustomization folder');
  });
}

/** A tool's path as written: a bare name is looked up on PATH when it runs; anything with a slash is relative to the project. */
export function binaryPath(ctx: NormCtx, p: string): string {
  return /[\\/]/.test(p) ? abs(ctx, p) : p;
}
