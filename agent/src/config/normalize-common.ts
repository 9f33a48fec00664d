// Helpers shared by the v1beta and v2beta1 normalizers.
import path from 'node:path';
import type { ConfigWarning, DependencyConfig, DevPodConfig, GitSource, HelmChartRef, KanikoOptions, PodSelector, SourcePos, SyncConfig } from '../../../api/src/model/project.js';
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

/** An exclude file (`excludeFile: .gitignore`) whose lines are appended to `into` once read. */
export interface ExcludeFileRef {
  abs: string;
  into: string[];
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
  const looksLocal = /^(\.{1,2}[\\/]|[\\/]|\.{1,2}$)/.test(name);
  const kind = await ctx.fs.stat(abs(ctx, name)).catch(() => undefined);
  if (kind === 'dir' || looksLocal || (!ctx.checkFiles && name.includes('/') && !/^(stable|incubator|bitnami)\//.test(name))) {
    return { path: ref(ctx, chart, 'name', [...segs, 'name'], name, 'dir', 'chart folder') };
  }
  return remote();
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

/** Commands a sync runs in the container after a batch of uploads. */
export type SyncUploadExec = NonNullable<NonNullable<SyncConfig['onUpload']>['exec']>;

/**
 * A sync entry's options that v1beta and v2beta1 spell alike. The schemas differ in how the paths
 * are written (v1beta localSubPath/containerPath, v2beta1 a "local:remote" spec) and in where the
 * upload commands live (v1beta onUpload.execRemote.onBatch, v2beta1 onUpload.exec), so the caller
 * resolves those and passes them in. `segs` is the entry's own path, e.g. dev.sync[0].
 */
export function syncOptions(ctx: NormCtx, s: Obj, segs: Seg[], localPath: string, containerPath: string, uploadExec: (onUpload: Obj) => SyncUploadExec | undefined): SyncConfig {
  const sc: SyncConfig = {
    localPath,
    containerPath,
    excludePaths: strs(s.excludePaths) ?? [],
    downloadExcludePaths: strs(s.downloadExcludePaths) ?? [],
    uploadExcludePaths: strs(s.uploadExcludePaths) ?? [],
    disableDownload: bool(s.disableDownload) ?? false,
    disableUpload: bool(s.disableUpload) ?? false,
  };
  if (str(s.initialSync)) sc.initialSync = s.initialSync as SyncConfig['initialSync'];
  if (bool(s.waitInitialSync) !== undefined) sc.waitInitialSync = s.waitInitialSync as boolean;
  if (bool(s.polling) !== undefined) sc.polling = s.polling as boolean;
  const bw = obj(s.bandwidthLimits);
  if (bw) sc.bandwidthLimits = { ...(num(bw.download) !== undefined ? { download: bw.download as number } : {}), ...(num(bw.upload) !== undefined ? { upload: bw.upload as number } : {}) };
  const up = obj(s.onUpload);
  if (up) {
    const exec = uploadExec(up);
    sc.onUpload = { ...(bool(up.restartContainer) !== undefined ? { restartContainer: up.restartContainer as boolean } : {}), ...(exec?.length ? { exec } : {}) };
  }
  // The exclude files are read after normalization; their lines are appended to these lists.
  for (const [key, into] of [
    ['excludeFile', sc.excludePaths],
    ['downloadExcludeFile', sc.downloadExcludePaths],
    ['uploadExcludeFile', sc.uploadExcludePaths],
  ] as const) {
    const f = str(s[key]);
    if (f) ctx.excludeFiles.push({ abs: path.resolve(ctx.dir, f), into, pos: posAt(ctx, s, key), path: fmtPath([...segs, key]) });
  }
  return sc;
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
