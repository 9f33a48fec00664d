// The live DevSessions of the project, for the actions that act on what `dsa up` created (enter,
// logs, down): render offline to learn the names, then read them from the cluster.
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DevSession } from '@dsa/api';
import type { AgentEnv } from '../env.js';
import { refOf } from '../session/apply.js';
import { toClusterError, type SessionKube, type SessionRef } from '../session/kube.js';
import type { ActionDeps, ProjectRef } from './action-deps.js';
import { loadAndRender } from './load-project.js';

export interface ProjectSessions {
  kc: KubeConfig;
  kube: SessionKube;
  /** Namespace of the root session (or the target namespace when there is no config). */
  namespace: string;
  /** Rendered refs, dependencies first, root last; empty without a config. */
  refs: SessionRef[];
  /** The root session as stored, when it exists. */
  root: DevSession | undefined;
}

/**
 * Load the project (no file checks: the files may be gone by now) and read its root session. With
 * `optionalConfig`, a missing devspace.yaml is fine: the namespace comes from -n/the context.
 */
export async function projectSessions(env: AgentEnv, deps: ActionDeps, opts: { project: ProjectRef; optionalConfig: boolean }): Promise<ProjectSessions> {
  if (opts.optionalConfig && !existsSync(opts.project.configPath)) {
    const kc = await deps.kube.kubeConfig();
    const namespace = deps.kube.target().namespace;
    env.log.debug(`no ${opts.project.configPath}: using namespace ${namespace}`);
    return { kc, kube: await deps.cluster.sessionKube(kc), namespace, refs: [], root: undefined };
  }
  const { project, target, rendered, warnings } = await loadAndRender(env, deps, { project: opts.project, checkFiles: false });
  for (const w of warnings) env.log.debug(`config: ${w.path ?? ''} ${w.message}`);
  const kc = await deps.kube.kubeConfig({ namespace: project.namespace, kubeContext: project.kubeContext });
  const kube = await deps.cluster.sessionKube(kc);
  const refs = (rendered.sessions as unknown as DevSession[]).map(refOf);
  const rootRef = refs[refs.length - 1];
  let root: DevSession | undefined;
  if (rootRef) {
    try {
      root = await kube.getSession(rootRef);
    } catch (e) {
      throw toClusterError(e, `reading DevSession ${rootRef.namespace}/${rootRef.name}`);
    }
  }
  return { kc, kube, namespace: rootRef?.namespace ?? target.namespace, refs, root };
}
