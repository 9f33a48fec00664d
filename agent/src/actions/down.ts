// `dsa down` / `purge`: delete the project's DevSession (and, on request, its dependencies' sessions),
// waiting until the operator has removed what each deployed. The purge hooks run around it, as
// DevSpace's purge runs them around its deletions: before:purge and before:purge:<deployment> (in
// reverse order) before, after:purge:<deployment> and after:purge once the operator is done.
import type { DevSession, ProjectConfig } from '@dsa/api';
import type { AgentEnv } from '../env.js';
import { eventsForSingle } from '../hooks/events.js';
import { HookRunner } from '../hooks/runner.js';
import { planSessions } from '../render/render-project.js';
import { refOf } from '../session/apply.js';
import { deleteSessions, type Removed } from '../session/delete.js';
import type { ActionDeps, ProjectRef } from './action-deps.js';
import { formatWarning, loadAndRender } from './load-project.js';

export interface DownOptions {
  project: ProjectRef;
  /** Delete the sessions but leave what they deployed running. */
  keepDeployments?: boolean;
  /** Also delete the dependencies' sessions (after the root, which uses them). */
  dependencies?: boolean;
  timeoutMs: number;
}

export interface DownResult {
  /** What existed and was deleted, root first. */
  removed: Removed[];
  /** Dependency sessions left in place (no --dependencies). */
  keptDependencies: number;
}

export async function downProject(env: AgentEnv, deps: ActionDeps, opts: DownOptions): Promise<DownResult> {
  // No file checks: the project's files may be gone by now; git dependencies come from the cache.
  const { project, target, rendered, warnings } = await loadAndRender(env, deps, { project: opts.project, checkFiles: false });
  for (const w of warnings) env.log.debug(`config: ${formatWarning(w)}`);
  const kc = await deps.kube.kubeConfig({ namespace: project.namespace, kubeContext: project.kubeContext });
  const kube = await deps.cluster.sessionKube(kc);
  // Root first (it uses the others), then the dependencies in reverse render order.
  const refs = (rendered.sessions as unknown as DevSession[]).map(refOf).reverse();
  const chosen = opts.dependencies ? refs : refs.slice(0, 1);
  const projects = new Map(planSessions(project, target.namespace).sessions.map((p) => [p.name, p.project]));
  const purged = chosen.map((r) => projects.get(r.name)).filter((p): p is ProjectConfig => p !== undefined);
  const hooks = new HookRunner({
    env,
    processEnv: opts.project.processEnv,
    namespace: target.namespace,
    ...(target.contextName ? { kubeContext: target.contextName } : {}),
    cluster: async () => ({ listPods: (ns, sel) => kube.listPods(ns, sel), exec: () => deps.cluster.devClients(kc).exec() }),
  });
  const perDeployment = async (p: ProjectConfig, base: string) => {
    if (opts.keepDeployments) return;
    for (const d of [...p.deployments].reverse()) await hooks.fire(p, eventsForSingle(base, d.name), { DEPLOY_NAME: d.name });
  };
  try {
    for (const p of purged) {
      await hooks.fire(p, ['before:purge']);
      await perDeployment(p, 'before:purge');
    }
    const removed = await deleteSessions(kube, chosen, {
      keepDeployments: opts.keepDeployments,
      timeoutMs: opts.timeoutMs,
      signal: env.signal,
      log: (l) => env.log.info(l),
    });
    for (const p of purged) {
      await perDeployment(p, 'after:purge');
      await hooks.fire(p, ['after:purge']);
    }
    return { removed, keptDependencies: refs.length - chosen.length };
  } catch (e) {
    if (!env.signal.aborted) for (const p of purged) await hooks.fire(p, ['error:purge'], { ERROR: (e as Error)?.message }).catch((h: unknown) => env.log.warn((h as Error).message));
    throw e;
  } finally {
    hooks.stopBackground();
  }
}
