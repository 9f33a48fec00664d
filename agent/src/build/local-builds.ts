// The images the agent builds itself, before the DevSessions are applied: `docker` (the local Docker
// daemon, else in-cluster kaniko unless disableFallback) and `custom` (the user's command). Images with
// no build section, or `kaniko`, stay with the operator. A built image is recorded in the DevSession as
// already built: `skip: true` and its tag first in `tags`, so the operator creates no ImageBuild (no
// kaniko pod) and its tag replacement uses that tag (reconciler: skipped images with tags[0]).
//
//   planLocalBuilds (pure) → runLocalBuilds (daemon check, decisions, builds) → withLocalBuilds (pure)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { desiredImageBuildSpec, type DevSession, type ImageConfig, type ProjectConfig } from '@dsa/api';
import type { PreparedContext } from '@dsa/api/build-context';
import type { AgentEnv } from '../env.js';
import { dnsLabel, planSessions } from '../render/render-project.js';
import { cacheKey, cacheRoot, readBuildCache, recordBuilds, type CachedBuild } from './build-cache.js';
import { customBuildInvocation } from './custom-command.js';
import { runCustomBuild } from './custom-builder.js';
import { decideBuild } from './decide.js';
import type { DockerApi } from './docker-api.js';
import { dockerBuildAndPush } from './docker-builder.js';
import { DockerHostError, describeEndpoint, dockerEndpoint, parseDockerEnv, type DockerEndpoint } from './docker-host.js';
import { LocalBuildError } from './errors.js';
import { registryAuth } from './registry-auth.js';

export interface LocalBuildJob {
  /** DevSession name and spec.images[].name of the image. */
  session: string;
  specName: string;
  /** Cache key in the project's build cache (build-cache.ts). */
  key: string;
  projectDir: string;
  config: ImageConfig;
  engine: 'docker' | 'custom';
  /** The content-addressed tag (docker: the ImageBuild's; custom: the renderer's). */
  tag: string;
  /** The user's explicit tags, pushed too. */
  userTags: string[];
}

/** An image built (or found built) locally: deploy it with these tags, the first one for tag replacement. */
export interface LocalBuildResult {
  session: string;
  specName: string;
  tags: string[];
}

/** Which images of the rendered sessions the agent builds itself. Pure. */
export function planLocalBuilds(project: ProjectConfig, namespace: string, sessions: readonly DevSession[]): LocalBuildJob[] {
  const jobs: LocalBuildJob[] = [];
  const byName = new Map(sessions.map((s) => [s.metadata.name, s]));
  for (const plan of planSessions(project, namespace).sessions) {
    if (plan.skipBuild) continue;
    const session = byName.get(plan.name);
    for (const img of plan.project.images) {
      const engine = img.requestedEngine;
      if ((engine !== 'docker' && engine !== 'custom') || img.disabled) continue;
      const specName = dnsLabel(img.name);
      const spec = session?.spec.images?.find((i) => i.name === specName);
      if (!spec) continue;
      let tag: string | undefined;
      let userTags: string[];
      if (engine === 'docker') {
        if (!spec.context) continue;
        tag = desiredImageBuildSpec({ ...spec, context: spec.context }).tag;
        userTags = spec.tags ?? [];
      } else {
        // The renderer put the custom build's content-addressed tag first.
        [tag, ...userTags] = spec.tags ?? [];
      }
      if (!tag) throw new LocalBuildError(`images.${img.name}: no tag could be computed for the ${engine} build (are its files readable?)`);
      jobs.push({ session: plan.name, specName, key: cacheKey(plan.project.configPath, plan.project.profiles, img.name), projectDir: plan.project.dir, config: img, engine, tag, userTags });
    }
  }
  return jobs;
}

/** The sessions with every locally built image marked as built: `skip: true`, its tags, no context. Pure. */
export function withLocalBuilds(sessions: readonly DevSession[], results: readonly LocalBuildResult[]): DevSession[] {
  return sessions.map((s) => {
    const mine = results.filter((r) => r.session === s.metadata.name);
    if (mine.length === 0) return s;
    const copy = structuredClone(s);
    copy.spec.images = (copy.spec.images ?? []).map((image) => {
      const r = mine.find((m) => m.specName === image.name);
      if (!r) return image;
      const { context: _context, ...rest } = image;
      return { ...rest, skip: true, tags: r.tags };
    });
    return copy;
  });
}

export interface LocalBuildOptions {
  /** -b */
  force?: boolean;
  /** --skip-build: reference the last local build when there is one. */
  skipBuild?: boolean;
  /** --build-sequential */
  sequential?: boolean;
  /** Per image: the whole build and push. */
  timeoutMs: number;
  /** The kube context in use (preferMinikube). */
  kubeContext?: string;
  /** What DOCKER_HOST & co., and the custom commands, see. */
  processEnv: Readonly<Record<string, string | undefined>>;
}

/** The outside world of the local builders; tests and the benchmark pass their own. */
export interface LocalBuildDeps {
  dockerApi(endpoint: DockerEndpoint): Promise<DockerApi>;
  prepare(contextDir: string, dockerfile: string): Promise<PreparedContext>;
  /** `minikube docker-env --shell none`, or undefined when minikube is not there. */
  minikubeDockerEnv(): Promise<string | undefined>;
  /** Text of ~/.docker/config.json (or $DOCKER_CONFIG/config.json), if any. */
  dockerConfig(env: Readonly<Record<string, string | undefined>>): string | undefined;
}

function runCapture(file: string, args: string[], timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let out = '';
    let child;
    try {
      child = spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'], timeout: timeoutMs });
    } catch {
      return resolve(undefined);
    }
    child.stdout.on('data', (c: Buffer) => {
      if (out.length < 64 * 1024) out += c.toString('utf8');
    });
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 ? out : undefined));
  });
}

export const defaultLocalBuildDeps: LocalBuildDeps = {
  async dockerApi(endpoint) {
    const { dockerodeApi } = await import('./docker-api.js');
    return dockerodeApi(endpoint);
  },
  async prepare(contextDir, dockerfile) {
    const { prepareContext } = await import('@dsa/api/build-context');
    return prepareContext(contextDir, dockerfile);
  },
  minikubeDockerEnv: () => runCapture('minikube', ['docker-env', '--shell', 'none'], 15_000),
  dockerConfig(env) {
    const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
    try {
      const text = readFileSync(path.join(dir, 'config.json'), 'utf8');
      return text.length > 1024 * 1024 ? undefined : text;
    } catch {
      return undefined;
    }
  },
};

const PING_TIMEOUT_MS = 5_000;

interface DockerSide {
  api?: DockerApi;
  /** Why there is no daemon. */
  unreachable?: string;
  /** minikube's daemon: the node has the image, no push. */
  minikube: boolean;
  endpoint: string;
}

/** The daemon the docker jobs use: minikube's (preferMinikube on a minikube context), else DOCKER_HOST / the default socket. */
async function dockerSide(env: AgentEnv, jobs: readonly LocalBuildJob[], opts: LocalBuildOptions, deps: LocalBuildDeps): Promise<DockerSide> {
  let processEnv = opts.processEnv;
  let minikube = false;
  if (opts.kubeContext === 'minikube' && jobs.some((j) => j.config.docker?.preferMinikube ?? true)) {
    const out = await deps.minikubeDockerEnv();
    const vars = out ? parseDockerEnv(out) : {};
    if (vars.DOCKER_HOST) {
      processEnv = { ...processEnv, ...vars };
      minikube = true;
      env.log.info(`building with minikube's Docker daemon (${vars.DOCKER_HOST}); images stay in the node, not pushed`);
    }
  }
  let endpoint: DockerEndpoint;
  try {
    endpoint = dockerEndpoint(processEnv);
  } catch (e) {
    if (e instanceof DockerHostError) return { unreachable: e.message, minikube, endpoint: processEnv.DOCKER_HOST ?? '' };
    throw e;
  }
  const where = describeEndpoint(endpoint);
  try {
    const api = await deps.dockerApi(endpoint);
    await api.ping(PING_TIMEOUT_MS);
    return { api, minikube, endpoint: where };
  } catch (e) {
    const why = ((e as Error).message ?? String(e)).split('\n')[0];
    return { unreachable: `no Docker daemon answers at ${where} (${why})`, minikube, endpoint: where };
  }
}

/** Run `fns` in parallel (or in order); the first failure aborts the others and is thrown. */
async function runAll(fns: Array<(signal: AbortSignal) => Promise<void>>, sequential: boolean, parent: AbortSignal): Promise<void> {
  if (sequential) {
    for (const f of fns) await f(parent);
    return;
  }
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  parent.addEventListener('abort', onAbort, { once: true });
  let first: unknown;
  try {
    await Promise.all(
      fns.map((f) =>
        f(stop.signal).catch((e: unknown) => {
          if (first === undefined) {
            first = e;
            stop.abort();
          }
        }),
      ),
    );
  } finally {
    parent.removeEventListener('abort', onAbort);
  }
  if (first !== undefined) throw first;
}

/**
 * Build the jobs' images. Returns what was built (or found built, or referenced with --skip-build);
 * docker jobs without a daemon are left out (their DevSession image stays an in-cluster build) unless
 * disableFallback makes that an error. Successful builds are recorded in each project's build cache.
 */
export async function runLocalBuilds(env: AgentEnv, jobs: readonly LocalBuildJob[], opts: LocalBuildOptions, deps: LocalBuildDeps = defaultLocalBuildDeps): Promise<LocalBuildResult[]> {
  if (jobs.length === 0) return [];
  const dockerJobs = jobs.filter((j) => j.engine === 'docker');
  let docker: DockerSide | undefined;
  let runnable = [...jobs];
  if (dockerJobs.length > 0) {
    docker = await dockerSide(env, dockerJobs, opts, deps);
    if (!docker.api) {
      const strict = dockerJobs.find((j) => j.config.docker?.disableFallback);
      if (strict) {
        throw new LocalBuildError(`image ${strict.config.name}: ${docker.unreachable}, and docker.disableFallback is set`, [], { hint: 'start the Docker daemon or point DOCKER_HOST at one' });
      }
      for (const j of dockerJobs) env.log.info(`image ${j.config.name}: ${docker.unreachable}; building it in the cluster with kaniko`);
      runnable = runnable.filter((j) => j.engine !== 'docker');
    }
  }

  const root = cacheRoot(opts.processEnv);
  const caches = new Map<string, Record<string, CachedBuild>>();
  for (const dir of new Set(runnable.map((j) => j.projectDir))) caches.set(dir, (await readBuildCache(dir, root)).images);
  const results: LocalBuildResult[] = [];
  const record = new Map<string, Record<string, CachedBuild>>();
  const now = () => (env.now?.() ?? new Date()).toISOString();
  const output = (name: string) => (line: string) => env.log.info(`  ${name} | ${line}`);

  const run = async (job: LocalBuildJob, signal: AbortSignal): Promise<void> => {
    const name = job.config.name;
    const repo = job.config.image;
    const cached = caches.get(job.projectDir)?.[job.key];
    const inDaemon = job.engine === 'docker' && docker?.api && !opts.force && !opts.skipBuild ? await docker.api.hasImage(`${repo}:${job.tag}`) : undefined;
    const decision = decideBuild({ engine: job.engine, tag: job.tag, image: repo, force: !!opts.force, skipBuild: !!opts.skipBuild, cached, hasOnChange: (job.config.custom?.onChange.length ?? 0) > 0, inDaemon });
    if (decision.action === 'reference') {
      env.log.info(`image ${name}: ${decision.reason}`);
      results.push({ session: job.session, specName: job.specName, tags: [decision.tag, ...job.userTags.filter((t) => t !== decision.tag)] });
      return;
    }
    const tags = [job.tag, ...job.userTags.filter((t) => t !== job.tag)];
    let pushed = false;
    if (job.engine === 'docker') {
      const api = docker!.api!;
      const skipPush = job.config.skipPush || docker!.minikube;
      if (decision.action === 'reuse') env.log.info(`image ${name}: ${decision.reason}${skipPush ? '' : '; pushing'}`);
      const dockerCfg = deps.dockerConfig(opts.processEnv);
      await dockerBuildAndPush(
        {
          name,
          image: repo,
          tags,
          contextDir: job.config.context,
          dockerfile: job.config.dockerfile,
          buildArgs: job.config.buildArgs,
          ...(job.config.target ? { target: job.config.target } : {}),
          ...(job.config.network ? { network: job.config.network } : {}),
          ...(job.config.entrypoint ? { entrypoint: job.config.entrypoint } : {}),
          ...(job.config.cmd ? { cmd: job.config.cmd } : {}),
          skipPush,
        },
        { api, prepare: deps.prepare, auth: (registry) => registryAuth(dockerCfg, registry), log: (l) => env.log.info(l), output: output(name), signal, timeoutMs: opts.timeoutMs },
        { build: decision.action === 'build' },
      );
      pushed = !skipPush;
    } else if (decision.action === 'build') {
      const inv = customBuildInvocation(job.config.custom!, name, repo, tags);
      env.log.info(`image ${name}: building ${repo}:${job.tag} with the custom command (${decision.reason})`);
      const t0 = Date.now();
      await runCustomBuild(inv, { cwd: job.projectDir, env: { ...opts.processEnv }, output: output(name), signal, timeoutMs: opts.timeoutMs, what: `image ${name}` });
      env.log.info(`image ${name}: custom build done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    } else {
      env.log.info(`image ${name}: ${repo}:${job.tag} is up to date (${decision.reason})`);
    }
    results.push({ session: job.session, specName: job.specName, tags });
    const entries = record.get(job.projectDir) ?? {};
    entries[job.key] = { image: repo, tag: job.tag, engine: job.engine, builtAt: decision.action === 'reuse' && cached?.tag === job.tag ? cached.builtAt : now(), ...(job.engine === 'docker' ? { pushed } : {}) };
    record.set(job.projectDir, entries);
  };

  try {
    await runAll(
      runnable.map((j) => (signal) => run(j, signal)),
      !!opts.sequential,
      env.signal,
    );
  } finally {
    // What did build is recorded even when another image failed: the next run skips it.
    for (const [dir, entries] of record) await recordBuilds(dir, root, entries).catch((e: unknown) => env.log.debug(`could not record the builds of ${dir} in ${root}: ${(e as Error).message}`));
  }
  return results;
}
