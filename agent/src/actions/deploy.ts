// The deploy pipeline `dsa deploy` and `dsa up` share:
//   load + render (offline) → validate → before-hooks → apply the DevSessions → (uploads ‖ wait for
//   Ready, firing after-hooks as the status moves) → re-read → after:deploy hooks.
// Uploads and the wait run together: the session only gets Ready after the builds its uploads feed,
// and whichever fails first stops the other. While waiting, the rollout inspector (analyze/rollout.ts)
// looks at the builds and the pods behind the sessions and stops the wait as soon as the rollout cannot
// succeed without a change, printing what `dsa analyze` would say about it.
import type { KubeConfig } from '@kubernetes/client-node';
import { imageBuildName, type ConfigWarning, type DevSession, type ProjectConfig } from '@dsa/api';
import { planSessions, dnsLabel } from '../render/render-project.js';
import { buildLocalImages } from '../build/index.js';
import type { AgentEnv } from '../env.js';
import { ClusterError, DsaError, InterruptedError, RuntimeError, ValidationError } from '../errors.js';
import { applySessions, refOf } from '../session/apply.js';
import type { SecretForApply, SessionKube } from '../session/kube.js';
import { planUploads, runUploads, type LocalContext, type UploadDeps, type UploadJob } from '../session/uploads.js';
import { BuildFailedError, pollUploadSlot, SlotTimeoutError } from '@dsa/api/build-context';
import { SessionFailedError, waitForSession } from '../session/wait.js';
import { formatProblem, groupByObject, RolloutInspector, showObject, type Problem } from '../analyze/index.js';
import { eventsForSingle, SessionEventTracker } from '../hooks/events.js';
import { HookRunner } from '../hooks/runner.js';
import type { ProjectRef } from './action-deps.js';
import { defaultAnalyzeClients, type AnalyzeDeps } from './analyze.js';
import { withTerminal } from './dev.js';
import { formatWarning, loadAndRender } from './load-project.js';

export interface DeployOptions {
  project: ProjectRef;
  /** -b: the operator builds every image again, even when its tag exists. */
  forceBuild?: boolean;
  /** -d: the operator re-applies every deployment. */
  forceDeploy?: boolean;
  buildSequential?: boolean;
  /** Reference the last built tags instead of building. */
  skipBuild?: boolean;
  /** --skip-push: images built locally are not pushed (in-cluster kaniko builds always push, as in DevSpace). */
  skipPush?: boolean;
  /** -t: make sure the root session has a dev pod with a terminal (see withTerminal). */
  terminal?: boolean;
  /** How long to wait for Ready (and for each build pod). */
  timeoutMs: number;
  /** Tuning of the wait (tests): poll, inspect and -d settle intervals. */
  wait?: { pollMs?: number; inspectEveryMs?: number; settleMs?: number };
}

export interface DeployResult {
  kc: KubeConfig;
  kube: SessionKube;
  project: ProjectConfig;
  /** As stored after the root became Ready; dependencies first, root last. */
  sessions: DevSession[];
  root: DevSession;
  /** Stops background hooks started by this deploy (call when the command ends). */
  stopHooks(): void;
}

/** `<session>/<spec image name>` → local context, for every image the renderer gave an upload digest. Pure. */
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

/** The planned sessions (dependencies first) with the devspace.yaml names of their images and deployments. */
function hookPlans(project: ProjectConfig, namespace: string) {
  return planSessions(project, namespace).sessions.map((plan) => ({
    plan,
    names: {
      images: new Map(plan.project.images.map((i) => [dnsLabel(i.name), i.name])),
      deployments: new Map(plan.project.deployments.map((d) => [dnsLabel(d.name), d.name])),
    },
  }));
}

/** Wait until the job's ImageBuild has built the context we declared (--build-sequential). */
async function untilBuilt(kube: Pick<SessionKube, 'getImageBuild'>, job: UploadJob, o: { signal: AbortSignal; timeoutMs: number; log: (l: string) => void; requestedAt?: string }): Promise<void> {
  try {
    const done = await pollUploadSlot(() => kube.getImageBuild(job.imageBuild), {
      expected: { ...(job.digest !== undefined ? { digest: job.digest } : {}), ...(o.requestedAt ? { requestedAt: o.requestedAt } : {}) },
      untilDone: true,
      timeoutMs: o.timeoutMs,
      signal: o.signal,
    });
    o.log(`image ${job.image}: built${done.kind === 'done' && done.image ? ` ${done.image}` : ''} (--build-sequential: next image)`);
  } catch (e) {
    if (e instanceof BuildFailedError) throw new RuntimeError(`image ${job.image} failed to build: ${e.message}`, { cause: e, hint: 'dsa analyze shows the build log' });
    if (e instanceof SlotTimeoutError) throw new RuntimeError(`image ${job.image}: not built within ${Math.round(o.timeoutMs / 1000)}s`, { hint: 'raise --timeout, or run dsa analyze' });
    throw e;
  }
}

/** The problems, grouped by object, as `dsa analyze` prints them (stderr: the progress channel). */
function printProblems(env: AgentEnv, title: string, problems: readonly Problem[]): void {
  if (problems.length === 0) return;
  env.log.error(title);
  for (const g of groupByObject(problems)) {
    env.stderr.write(`${showObject(g.object)}\n`);
    for (const p of g.problems) env.stderr.write(`${formatProblem(p).join('\n')}\n`);
  }
}

/** The one-line error for a rollout that cannot succeed: its first problem, the fix as the hint. */
function rolloutError(problems: readonly Problem[]): RuntimeError {
  const first = problems[0]!;
  return new RuntimeError(`the rollout cannot succeed: ${showObject(first.object)}${first.container ? ` (container ${first.container})` : ''}: ${first.summary}`, { hint: first.hint });
}

/** The most useful fix among `problems` for a stalled session: a build's (it names the registry setting), else the session's. */
function bestHint(problems: readonly Problem[]): string | undefined {
  return (problems.find((p) => p.kind === 'BuildFailed' || p.kind === 'BuildRetrying') ?? problems.find((p) => p.object.kind === 'Pod') ?? problems[0])?.hint;
}

/**
 * The renderer's note that hooks run only when dsa drives the session: true for GitOps, noise here,
 * where dsa drives it.
 */
const agentOnlyHookNote = (w: ConfigWarning) => /(^|\.)hooks\[\d+\]$/.test(w.path) && w.message.includes('runs only when dsa drives the session');

export async function deployProject(env: AgentEnv, deps: AnalyzeDeps, opts: DeployOptions): Promise<DeployResult> {
  const loaded = await loadAndRender(env, deps, { project: opts.project, checkFiles: true });
  const { project, target } = loaded;
  let { rendered, warnings } = loaded;
  const services = await deps.services();
  const plans = hookPlans(project, target.namespace);
  // Container hooks need the cluster: connected on first use.
  let cluster: { kc: KubeConfig; kube: SessionKube } | undefined;
  const connect = async () => {
    if (!cluster) {
      const kc = await deps.kube.kubeConfig({ namespace: project.namespace, kubeContext: project.kubeContext });
      cluster = { kc, kube: await deps.cluster.sessionKube(kc) };
    }
    return cluster;
  };
  const hooks = new HookRunner({
    env,
    processEnv: opts.project.processEnv,
    namespace: target.namespace,
    ...(target.contextName ? { kubeContext: target.contextName } : {}),
    cluster: async () => {
      const c = await connect();
      return { listPods: (ns, sel) => c.kube.listPods(ns, sel), exec: () => deps.cluster.devClients(c.kc).exec() };
    },
  });
  const builtBy = (rs: readonly DevSession[], name: string) => new Set((rs.find((x) => x.metadata.name === name)?.spec.images ?? []).filter((i) => !i.skip).map((i) => i.name));
  try {
    // DevSpace runs before:build right before it builds and before:deploy right before it deploys, so
    // they may generate what the build copies or the deploy reads (a values file, a manifest): here
    // both happen after the objects are rendered, so they run first and the project is rendered again.
    let ranHooks = false;
    for (const { plan } of plans) {
      const built = builtBy(rendered.sessions as unknown as DevSession[], plan.name);
      // --skip-build: no build step, so no before:build (the images get skip:build below).
      const images = opts.skipBuild ? [] : plan.project.images.filter((i) => built.has(dnsLabel(i.name)));
      const events = [
        ...(images.length ? ['before:build', ...images.flatMap((i) => eventsForSingle('before:build', i.name))] : []),
        'before:deploy',
        ...plan.project.deployments.flatMap((d) => eventsForSingle('before:deploy', d.name)),
      ];
      if (!hooks.has(plan.project, events)) continue;
      ranHooks = true;
      if (images.length) await hooks.fire(plan.project, ['before:build']);
      for (const i of images) await hooks.fire(plan.project, eventsForSingle('before:build', i.name), { IMAGE_CONFIG_NAME: i.name, IMAGE_NAME: i.image });
      await hooks.fire(plan.project, ['before:deploy']);
      for (const d of plan.project.deployments) await hooks.fire(plan.project, eventsForSingle('before:deploy', d.name), { DEPLOY_NAME: d.name });
    }
    if (ranHooks) {
      rendered = await services.renderProject(loaded.forRender, { namespace: target.namespace, owner: opts.project.owner, checkFiles: true });
      warnings = [...project.warnings, ...rendered.warnings];
    }
  } catch (e) {
    hooks.stopBackground();
    throw e;
  }
  const info = (line: string) => env.log.info(line);
  // Background hooks started so far stop with the command when it fails before the wait.
  let applied: DevSession[];
  let kc!: KubeConfig;
  let kube!: SessionKube;
  try {
    for (const w of warnings) if (!agentOnlyHookNote(w)) env.log.warn(formatWarning(w));
    for (const obj of rendered.sessions) {
      const issues = services.validateObject(obj);
      if (issues.length > 0) {
        const first = issues[0]!;
        throw new ValidationError(`rendered DevSession ${obj.metadata?.name ?? ''} is invalid: ${first.path}: ${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more; see dsa validate)` : ''}`);
      }
    }
    let sessions = rendered.sessions as unknown as DevSession[];
    if (sessions.length === 0) throw new ValidationError('the project rendered no DevSession');
    if (opts.terminal) sessions = [...sessions.slice(0, -1), await withTerminal(sessions[sessions.length - 1]!, opts.project.prompt)];
    if (opts.skipPush) {
      // DevSpace's --skip-push is every image's skipPush: it applies to local (docker) builds; kaniko runs in the cluster and must push.
      for (const { plan } of plans) for (const img of plan.project.images) img.skipPush = true;
      env.log.info('--skip-push: images built locally are not pushed; in-cluster (kaniko) builds always push, the nodes pull from the registry');
    }

    ({ kc, kube } = await connect());
    // docker/custom images are built here, by the agent, and enter the sessions as built (agent/src/build).
    sessions = await buildLocalImages(env, project, target.namespace, sessions, {
      force: opts.forceBuild,
      skipBuild: opts.skipBuild,
      sequential: opts.buildSequential,
      timeoutMs: opts.timeoutMs,
      ...(target.contextName ? { kubeContext: target.contextName } : {}),
      processEnv: opts.project.processEnv,
    });
    if (opts.skipBuild) sessions = await referenceExistingBuilds(kube, sessions, info);

    for (const { plan } of plans) {
      // Images that are not built (--skip-build, disabled, a dependency's skipBuild): DevSpace's skip:build.
      const built = builtBy(sessions, plan.name);
      for (const i of plan.project.images.filter((x) => !built.has(dnsLabel(x.name)))) await hooks.fire(plan.project, eventsForSingle('skip:build', i.name), { IMAGE_CONFIG_NAME: i.name, IMAGE_NAME: i.image });
    }

    applied = await applySessions(kube, sessions, { forceDeploy: opts.forceDeploy, log: (l) => env.log.debug(l), now: env.now, secrets: rendered.secrets as unknown as SecretForApply[] });
  } catch (e) {
    hooks.stopBackground();
    throw e;
  }
  const appliedRoot = applied[applied.length - 1]!;
  env.log.info(`applied ${applied.length === 1 ? 'DevSession' : `${applied.length} DevSessions`} ${applied.map((s) => s.metadata.name).join(', ')} in namespace ${refOf(appliedRoot).namespace}`);

  // One controller for both branches: Ctrl-C, or the first failure of either, stops the other.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  env.signal.addEventListener('abort', onAbort, { once: true });
  const jobs = planUploads(applied, localContexts(project, target.namespace), { forceBuild: opts.forceBuild });
  // -b: one request time for every image of this deploy; the operator rebuilds each once for it.
  const requestedAt = opts.forceBuild ? (env.now?.() ?? new Date()).toISOString() : undefined;
  const uploadDeps: UploadDeps = { kube, prepare: deps.cluster.prepareContext, upload: (t, tar, signal) => deps.cluster.uploadContext(kc, t, tar, signal) };
  // Fail fast: the pods and builds behind the sessions, judged as `dsa analyze` judges them.
  const inspector = await (deps.analyze ?? defaultAnalyzeClients).analyzeKube(kc).then(
    (k) => new RolloutInspector(k),
    (e: unknown) => {
      env.log.debug(`no rollout inspection: ${(e as Error)?.message ?? String(e)}`);
      return undefined;
    },
  );
  const current = async (root: DevSession): Promise<DevSession[]> => {
    const out: DevSession[] = [];
    for (const s of applied.slice(0, -1)) out.push((await kube.getSession(refOf(s))) ?? s);
    return [...out, root];
  };
  const trackers = new Map(plans.map(({ plan, names }) => [plan.name, { project: plan.project, tracker: new SessionEventTracker(names, applied.find((a) => a.metadata.name === plan.name)?.metadata.generation ?? 1) }]));
  const fireFor = async (s: DevSession) => {
    const t = trackers.get(s.metadata.name);
    if (!t) return;
    for (const f of t.tracker.next(s)) await hooks.fire(t.project, f.events, f.extra);
  };
  let explained = false;
  try {
    const failFast = <T>(p: Promise<T>) =>
      p.catch((e: unknown) => {
        stop.abort();
        throw e;
      });
    const [, ready] = await Promise.all([
      failFast(
        (async () => {
          const uploadOpts = { signal: stop.signal, log: info, logError: (l: string) => env.log.error(l), timeoutMs: opts.timeoutMs, ...(requestedAt ? { requestedAt } : {}) };
          if (!opts.buildSequential) return runUploads(uploadDeps, jobs, uploadOpts);
          // --build-sequential: DevSpace builds one image after the other. The operator starts a build
          // when its context arrives, so the next context goes up once the previous image is built.
          for (const job of jobs) {
            await runUploads(uploadDeps, [job], uploadOpts);
            await untilBuilt(kube, job, { signal: stop.signal, timeoutMs: opts.timeoutMs, log: info, ...(requestedAt ? { requestedAt } : {}) });
          }
        })(),
      ),
      failFast(
        waitForSession(kube, refOf(appliedRoot), {
          generation: appliedRoot.metadata.generation ?? 1,
          timeoutMs: opts.timeoutMs,
          signal: stop.signal,
          onProgress: info,
          onDebug: (l) => env.log.debug(l),
          onSession: fireFor,
          ...(opts.wait?.pollMs !== undefined ? { pollMs: opts.wait.pollMs } : {}),
          ...(opts.wait?.inspectEveryMs !== undefined ? { inspectEveryMs: opts.wait.inspectEveryMs } : {}),
          // -d: the session's Ready may be the previous pass's; wait for the rollout the request causes.
          ...(opts.forceDeploy ? { settle: { minMs: opts.wait?.settleMs ?? 3000 } } : {}),
          ...(inspector
            ? {
                inspect: async (s: DevSession) => {
                  const r = await inspector.inspect(await current(s));
                  if (r.blocking.length === 0) return { ...(r.waitingOn ? { detail: r.waitingOn } : {}), settled: r.settled, ...(r.freshMs ? { freshMs: r.freshMs } : {}) };
                  printProblems(env, 'the rollout cannot succeed without a change:', r.blocking);
                  explained = true;
                  return { fail: rolloutError(r.blocking) };
                },
              }
            : {}),
        }),
      ),
    ]);
    const final = await current(ready);
    // Dependencies are Ready before the root: their remaining after-events, then every project's after:deploy.
    for (const s of final) await fireFor(s);
    for (const { plan } of plans) await hooks.fire(plan.project, ['after:deploy']);
    return { kc, kube, project, sessions: final, root: ready, stopHooks: () => hooks.stopBackground() };
  } catch (e) {
    if (env.signal.aborted) {
      hooks.stopBackground();
      throw new InterruptedError();
    }
    let err = e;
    // Whatever stopped the deploy (a stalled session, a failed build, the timeout): say what analyze would say.
    if (inspector && !explained && !(e instanceof ClusterError) && e instanceof DsaError) {
      const rootNow = e instanceof SessionFailedError ? e.session : ((await kube.getSession(refOf(appliedRoot)).catch(() => undefined)) ?? appliedRoot);
      const problems = await inspector.diagnose(await current(rootNow).catch(() => applied)).catch(() => [] as Problem[]);
      printProblems(env, 'what is wrong:', problems);
      const hint = bestHint(problems);
      if (e instanceof SessionFailedError && hint) err = new RuntimeError(e.message, { hint, cause: e });
    }
    for (const { plan } of plans) await hooks.fire(plan.project, ['error:deploy'], { ERROR: (err as Error)?.message }).catch((h: unknown) => env.log.warn((h as Error).message));
    hooks.stopBackground();
    throw err;
  } finally {
    env.signal.removeEventListener('abort', onAbort);
  }
}
