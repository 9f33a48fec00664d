// `dsa analyze`: what is wrong in the project's namespace, and what to do about it (DevSpace's
// analyze, plus dsa's own objects: the DevSession's and ImageBuilds' conditions, build logs).
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { analyzeNamespace, createAnalyzeKube, type AnalyzeKube, type AnalyzeReport } from '../analyze/index.js';
import type { AgentEnv } from '../env.js';
import { ClusterError, DsaError, InterruptedError, UsageError } from '../errors.js';
import { apiMessage, toClusterError } from '../session/kube.js';
import { abortableSleep } from '../session/uploads.js';
import { waitForSession } from '../session/wait.js';
import type { ActionDeps, ProjectRef } from './action-deps.js';
import { projectSessions } from './project-sessions.js';

/** The reads analyze (and the deploy's fail-fast) make; tests pass in-memory ones. */
export interface AnalyzeClients {
  analyzeKube(kc: KubeConfig): Promise<AnalyzeKube>;
}

export const defaultAnalyzeClients: AnalyzeClients = { analyzeKube: (kc) => createAnalyzeKube(kc) };

/** ActionDeps, optionally with other analyze clients than the real ones. */
export type AnalyzeDeps = ActionDeps & { readonly analyze?: AnalyzeClients };

export interface AnalyzeOptions {
  project: ProjectRef;
  /** First wait until the project's session is Ready (or failed) and no pod is starting, at most timeoutMs. */
  wait?: boolean;
  timeoutMs: number;
  /** Log lines per failing container (default 50, as DevSpace). */
  logLines?: number;
  pollMs?: number;
}

/** Pod states that are on their way somewhere (DevSpace's analyze waits these out). */
export function podSettling(pod: V1Pod, now: number): boolean {
  if (pod.metadata?.deletionTimestamp) return true;
  const st = pod.status ?? {};
  if (st.phase === 'Pending' && !st.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False')) {
    return (st.containerStatuses ?? []).every((c) => !c.state?.waiting || ['ContainerCreating', 'PodInitializing'].includes(c.state.waiting.reason ?? ''));
  }
  return (st.containerStatuses ?? []).some((c) => {
    const started = c.state?.running?.startedAt;
    return c.state?.waiting?.reason === 'ContainerCreating' || (started !== undefined && now - new Date(started as unknown as string).getTime() < 10_000);
  });
}

/** Any failure of a read as a one-line ClusterError (an apiserver message, a timeout), never a stack trace. */
export function readFailure(e: unknown, what: string): DsaError {
  const mapped = toClusterError(e, what);
  if (mapped instanceof DsaError) return mapped;
  return new ClusterError(`${what}: ${apiMessage(e)}`, { cause: e });
}

/** `ref`, or when no devspace.yaml can be found, the same without one: analyze needs only a namespace. */
function optionalConfig(ref: ProjectRef): ProjectRef {
  try {
    void ref.configPath;
    return ref;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return { configPath: '', profiles: ref.profiles, vars: ref.vars, processEnv: ref.processEnv, owner: ref.owner };
  }
}

export async function analyzeProject(env: AgentEnv, deps: AnalyzeDeps, opts: AnalyzeOptions): Promise<AnalyzeReport> {
  const ps = await projectSessions(env, deps, { project: optionalConfig(opts.project), optionalConfig: true });
  const kube = await (deps.analyze ?? defaultAnalyzeClients).analyzeKube(ps.kc);
  const now = () => env.now?.() ?? new Date();
  if (opts.wait) {
    const deadline = Date.now() + opts.timeoutMs;
    const root = ps.refs[ps.refs.length - 1];
    if (root && ps.root) {
      env.log.info(`waiting up to ${Math.round(opts.timeoutMs / 1000)}s for DevSession ${root.name} to settle…`);
      try {
        await waitForSession(ps.kube, root, { generation: ps.root.metadata.generation ?? 1, timeoutMs: opts.timeoutMs, signal: env.signal, onProgress: (l) => env.log.debug(l) });
      } catch (e) {
        if (e instanceof InterruptedError || env.signal.aborted) throw new InterruptedError();
        // Failed, timed out, no operator: all of that is what the report is for.
        env.log.debug(`wait: ${(e as Error).message}`);
      }
    }
    for (;;) {
      const pods = await kube.listPods(ps.namespace).catch((e: unknown) => Promise.reject(readFailure(e, `listing pods in ${ps.namespace}`)));
      if (!pods.some((p) => podSettling(p, now().getTime())) || Date.now() >= deadline) break;
      await abortableSleep(opts.pollMs ?? 2000, env.signal).catch(() => {
        throw new InterruptedError();
      });
    }
  }
  try {
    return await analyzeNamespace(kube, {
      namespace: ps.namespace,
      sessions: ps.refs.filter((r) => r.namespace === ps.namespace).map((r) => r.name),
      now,
      logs: { lines: opts.logLines ?? 50 },
    });
  } catch (e) {
    throw readFailure(e, `analyzing namespace ${ps.namespace}`);
  }
}
