// The deploy pipeline `dsa deploy` and `dsa up` share:
//   load + render (offline) → validate → apply the DevSessions → (uploads ‖ wait for Ready) → re-read.
// Uploads and the wait run together: the session only gets Ready after the builds its uploads feed,
// and whichever fails first stops the other.
import type { KubeConfig } from '@kubernetes/client-node';
import { imageBuildName, type DevSession, type ProjectConfig } from '@dsa/api';
import { planSessions, dnsLabel } from '../render/render-project.js';
import type { CommandContext } from '../cli/context.js';
import { formatWarning, loadAndRender } from '../cli/project.js';
import { InterruptedError, ValidationError } from '../errors.js';
import { applySessions, refOf } from './apply.js';
import { parseDuration } from './duration.js';
import { createSessionKube, type SessionKube } from './kube.js';
import { planUploads, runUploads, type LocalContext, type UploadDeps } from './uploads.js';
import { waitForSession } from './wait.js';

export interface DeployFlags {
  forceBuild?: boolean;
  forceDeploy?: boolean;
  buildSequential?: boolean;
  skipBuild?: boolean;
  /** `--timeout`, e.g. `10m`. */
  timeout?: string;
}

export const DEFAULT_TIMEOUT = '10m';

export interface DeployResult {
  kc: KubeConfig;
  kube: SessionKube;
  project: ProjectConfig;
  /** As stored after the root became Ready; dependencies first, root last. */
  sessions: DevSession[];
  root: DevSession;
}

export interface DeployDeps {
  createKube(kc: KubeConfig): Promise<SessionKube>;
  prepare: UploadDeps['prepare'];
  upload(kc: KubeConfig, target: { namespace: string; pod: string; container: string }, tar: AsyncIterable<Buffer | Uint8Array>, signal: AbortSignal): Promise<{ bytes: number }>;
  /** The -b request time (tests). */
  now?: () => Date;
}

export const defaultDeployDeps: DeployDeps = {
  createKube: createSessionKube,
  async prepare(local) {
    const { prepareContext } = await import('@dsa/api/build-context');
    return prepareContext(local.contextDir, local.dockerfile);
  },
  async upload(kc, target, tar, signal) {
    const { uploadContext } = await import('@dsa/api/build-context');
    return uploadContext(kc, target, tar, { signal });
  },
};

/** `<session>/<spec image name>` → local context, for every image the renderer gave an upload digest. */
export function localContexts(project: ProjectConfig, namespace: string): Map<string, LocalContext> {
  const out = new Map<string, LocalContext>();
  for (const plan of planSessions(project, namespace).sessions) {
    for (const img of plan.project.images) {
      // The renderer's image names are dnsLabel(key); a rare collision suffix just makes the digest check fail loudly.
      out.set(`${plan.name}/${dnsLabel(img.name)}`, { contextDir: img.context, dockerfile: img.dockerfile });
    }
  }
  return out;
}

/**
 * --skip-build: images that were built before are referenced by their last tag and not built; the
 * others are built as usual (there is nothing to deploy them with otherwise).
 */
export async function referenceExistingBuilds(kube: Pick<SessionKube, 'getImageBuild'>, sessions: readonly DevSession[], log: (l: string) => void): Promise<DevSession[]> {
  const out: DevSession[] = [];
  for (const s of sessions) {
    const copy = structuredClone(s);
    for (const [i, image] of (copy.spec.images ?? []).entries()) {
      if (image.skip || !image.context) continue;
      const ns = image.builder?.namespace || refOf(s).namespace;
      const ib = await kube.getImageBuild({ namespace: ns, name: imageBuildName(s.metadata.name, image.name) });
      const tag = ib?.status?.phase === 'Succeeded' ? (ib.status.tag ?? ib.spec.tag) : undefined;
      if (!tag) {
        log(`--skip-build: image ${image.name} has no earlier build; building it`);
        continue;
      }
      const { context: _context, ...rest } = image;
      copy.spec.images![i] = { ...rest, skip: true, tags: [tag, ...(image.tags ?? []).filter((t) => t !== tag)] };
      log(`--skip-build: using ${image.image}:${tag} for ${image.name}`);
    }
    out.push(copy);
  }
  return out;
}

export async function deployProject(ctx: CommandContext, flags: DeployFlags, deps: DeployDeps = defaultDeployDeps): Promise<DeployResult> {
  const timeoutMs = parseDuration(flags.timeout ?? DEFAULT_TIMEOUT);
  const { project, target, rendered, warnings } = await loadAndRender(ctx, { checkFiles: true });
  for (const w of warnings) ctx.log.warn(formatWarning(w));
  const services = await ctx.services();
  for (const obj of rendered.sessions) {
    const issues = services.validateObject(obj);
    if (issues.length > 0) {
      const first = issues[0]!;
      throw new ValidationError(`rendered DevSession ${obj.metadata?.name ?? ''} is invalid: ${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more; see dsa validate)` : ''}`);
    }
  }
  let sessions = rendered.sessions as unknown as DevSession[];
  const root = sessions[sessions.length - 1];
  if (!root) throw new ValidationError('the project rendered no DevSession');

  const kc = await ctx.kube.kubeConfig({ namespace: project.namespace, kubeContext: project.kubeContext });
  const kube = await deps.createKube(kc);
  const info = (line: string) => ctx.log.info(line);
  if (flags.skipBuild) sessions = await referenceExistingBuilds(kube, sessions, info);

  const applied = await applySessions(kube, sessions, { forceDeploy: flags.forceDeploy, log: (l) => ctx.log.debug(l) });
  const appliedRoot = applied[applied.length - 1]!;
  ctx.log.info(`applied ${applied.length === 1 ? 'DevSession' : `${applied.length} DevSessions`} ${applied.map((s) => s.metadata.name).join(', ')} in namespace ${refOf(appliedRoot).namespace}`);

  // One controller for both branches: Ctrl-C, or the first failure of either, stops the other.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const jobs = planUploads(applied, localContexts(project, target.namespace), { forceBuild: flags.forceBuild });
  // -b: one request time for every image of this deploy; the operator rebuilds each once for it.
  const requestedAt = flags.forceBuild ? (deps.now?.() ?? new Date()).toISOString() : undefined;
  const uploadDeps: UploadDeps = { kube, prepare: deps.prepare, upload: (t, tar, signal) => deps.upload(kc, t, tar, signal) };
  try {
    const failFast = <T>(p: Promise<T>) =>
      p.catch((e: unknown) => {
        stop.abort();
        throw e;
      });
    const [, ready] = await Promise.all([
      failFast(runUploads(uploadDeps, jobs, { sequential: flags.buildSequential, signal: stop.signal, log: info, logError: (l) => ctx.log.error(l), timeoutMs, ...(requestedAt ? { requestedAt } : {}) })),
      failFast(waitForSession(kube, refOf(appliedRoot), { generation: appliedRoot.metadata.generation ?? 1, timeoutMs, signal: stop.signal, onProgress: info })),
    ]);
    const final: DevSession[] = [];
    for (const s of applied.slice(0, -1)) final.push((await kube.getSession(refOf(s))) ?? s);
    final.push(ready);
    return { kc, kube, project, sessions: final, root: ready };
  } catch (e) {
    if (ctx.signal.aborted) throw new InterruptedError();
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}
