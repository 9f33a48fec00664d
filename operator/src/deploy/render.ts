// One spec.deployments[] entry → the objects to apply, as written (the pipeline's transforms come after:
// see pipeline.ts). kubectl: inline YAML, or files/kustomizations from git. helm: dsa's component chart
// (in-process), or `helm template` of a repo chart, an archive or a chart in git. The one tag replacement
// that happens here is in helm values, because values must be rewritten before rendering; container images
// of the rendered objects are the tag-replacement transform's.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Reason, type SessionDeployment } from '@dsa/api';
import { ComponentValuesError, renderComponentChart } from './component-chart.js';
import { SLOW_RETRY_MS, StallError } from './errors.js';
import { ToolNotFoundError } from './exec.js';
import type { GitFetcher } from './git-source.js';
import { ChartError, HelmRenderer, writeChartArchive } from './helm.js';
import { KustomizeRenderer } from './kustomize.js';
import { MAX_MANIFEST_BYTES, ManifestError, parseManifests } from './manifests.js';
import { BuiltImageIndex, replaceInHelmValues } from './tag-replacement.js';

export interface RenderContext {
  /** Namespace the deployment goes to (helm's .Release.Namespace). */
  namespace: string;
  built: BuiltImageIndex;
  helm: HelmRenderer;
  kustomize: KustomizeRenderer;
  /** undefined: git sources unsupported in this build → stall with a message. */
  git?: GitFetcher;
  workDir?: string;
  signal?: AbortSignal;
}

export interface Rendered {
  objects: KubernetesObject[];
}

export async function renderDeployment(dep: SessionDeployment, ctx: RenderContext): Promise<Rendered> {
  const replaceTags = dep.updateImageTags !== false;
  let objects: KubernetesObject[];
  try {
    if (dep.kubectl) objects = await renderKubectl(dep, ctx);
    else if (dep.helm) objects = await renderHelm(dep, ctx, replaceTags);
    else throw new StallError(Reason.InvalidSpec, `deployment ${dep.name}: exactly one of kubectl or helm must be set`);
  } catch (e) {
    throw toStall(dep.name, e);
  }
  return { objects };
}

function toStall(name: string, e: unknown): unknown {
  if (e instanceof StallError) return e;
  if (e instanceof ManifestError || e instanceof ComponentValuesError) return new StallError(Reason.InvalidSpec, `deployment ${name}: ${e.message}`, undefined, { cause: e });
  if (e instanceof ChartError) {
    // A chart repo may be down for a moment: retry slowly. A broken archive never fixes itself.
    return new StallError(Reason.ChartNotFound, `deployment ${name}: ${e.message}`, e.notFound ? SLOW_RETRY_MS : undefined, { cause: e });
  }
  if (e instanceof ToolNotFoundError) return new StallError(Reason.DeployFailed, `deployment ${name}: ${e.message}`, SLOW_RETRY_MS, { cause: e });
  return e;
}

async function renderKubectl(dep: SessionDeployment, ctx: RenderContext): Promise<KubernetesObject[]> {
  const k = dep.kubectl!;
  if (k.manifests) {
    if (k.kustomize) {
      // The agent renders local kustomizations before sending them (docs/api/v1alpha1.md).
      throw new StallError(Reason.InvalidSpec, `deployment ${dep.name}: kustomize with inline manifests is not supported; the agent sends pre-rendered manifests`);
    }
    return k.manifests.flatMap((text, i) => parseManifests(text, `deployment ${dep.name}, manifest #${i + 1}`));
  }
  if (!k.git) throw new StallError(Reason.InvalidSpec, `deployment ${dep.name}: kubectl needs manifests or git`);
  const kustomize = k.git.kustomize ?? k.kustomize ?? false;
  if (kustomize && !ctx.kustomize.available) {
    throw new StallError(Reason.DeployFailed, `deployment ${dep.name}: kustomize is not available in the operator (set DSA_KUBECTL to a kubectl binary)`, SLOW_RETRY_MS);
  }
  return withGit(dep.name, ctx, k.git.url, k.git.ref, async (root) => {
    const paths = k.git!.paths?.length ? k.git!.paths : ['.'];
    const out: KubernetesObject[] = [];
    let bytes = 0;
    for (const p of paths) {
      const abs = inside(root, p, dep.name);
      if (kustomize) out.push(...(await ctx.kustomize.build(abs, ctx.signal)));
      else {
        for (const f of await manifestFiles(abs, dep.name, p)) {
          // One budget for every file of the deployment, checked before a file is read.
          bytes += (await stat(f)).size;
          if (bytes > MAX_MANIFEST_BYTES) throw new StallError(Reason.InvalidSpec, `deployment ${dep.name}: more than ${MAX_MANIFEST_BYTES / (1024 * 1024)} MiB of manifests under ${k.git!.paths?.join(', ') || '.'}`);
          out.push(...parseManifests(await readFile(f, 'utf8'), `deployment ${dep.name}, ${relative(root, f)}`));
        }
      }
    }
    return out;
  });
}

async function renderHelm(dep: SessionDeployment, ctx: RenderContext, replaceTags: boolean): Promise<KubernetesObject[]> {
  const h = dep.helm!;
  const release = h.releaseName || dep.name;
  const values = replaceTags ? replaceInHelmValues(h.values ?? {}, ctx.built) : (h.values ?? {});
  const timeoutMs = (h.timeoutSeconds ?? 120) * 1000;
  const chart = h.chart;
  if (chart.component) return renderComponentChart(release, values);
  if (chart.name) {
    return ctx.helm.template({ release, namespace: ctx.namespace, chart: { kind: 'repo', name: chart.name, repo: chart.repo, version: chart.version }, values, timeoutMs, signal: ctx.signal });
  }
  if (chart.archive) {
    const dir = await mkdtemp(join(ctx.workDir ?? tmpdir(), 'dsa-chart-'));
    try {
      const file = await writeChartArchive(chart.archive, dir);
      return await ctx.helm.template({ release, namespace: ctx.namespace, chart: { kind: 'path', path: file }, values, timeoutMs, signal: ctx.signal });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (chart.git) {
    const g = chart.git;
    return withGit(dep.name, ctx, g.url, g.ref, async (root) => {
      const path = inside(root, g.path ?? '.', dep.name);
      return ctx.helm.template({ release, namespace: ctx.namespace, chart: { kind: 'path', path }, values, timeoutMs, signal: ctx.signal });
    });
  }
  throw new StallError(Reason.InvalidSpec, `deployment ${dep.name}: helm.chart needs one of component, name, archive or git`);
}

async function withGit<T>(name: string, ctx: RenderContext, url: string, ref: string | undefined, fn: (root: string) => Promise<T>): Promise<T> {
  if (!ctx.git) throw new StallError(Reason.GitFetchFailed, `deployment ${name}: git sources are not supported by this operator build`);
  let checkout;
  try {
    checkout = await ctx.git.checkout(url, ref, ctx.signal);
  } catch (e) {
    // Unreachable server, unknown ref, auth: a person has to look; retry slowly in case it was the network.
    throw new StallError(Reason.GitFetchFailed, `deployment ${name}: cannot fetch ${url}${ref ? `@${ref}` : ''}: ${e instanceof Error ? e.message : String(e)}`, SLOW_RETRY_MS, { cause: e });
  }
  try {
    return await fn(checkout.dir);
  } finally {
    await checkout.cleanup();
  }
}

/** `p` resolved inside `root`; `..` escapes are a spec error, not a file read. */
function inside(root: string, p: string, name: string): string {
  const abs = resolve(root, p);
  if (abs !== root && !abs.startsWith(root + sep)) throw new StallError(Reason.InvalidSpec, `deployment ${name}: path ${p} leaves the repository`);
  return abs;
}

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

async function manifestFiles(abs: string, name: string, shown: string): Promise<string[]> {
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new StallError(Reason.InvalidSpec, `deployment ${name}: ${shown} does not exist in the repository`);
  }
  if (st.isFile()) return [abs];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile() && MANIFEST_EXT.test(e.name)) out.push(full);
    }
  };
  await walk(abs);
  return out;
}
