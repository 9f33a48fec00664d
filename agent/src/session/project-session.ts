// The live DevSessions of the project in ./devspace.yaml, for the commands that act on what `dsa up`
// created (enter, logs, down): render offline to learn the names, then read them from the cluster.
import { existsSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DevSession } from '@dsa/api';
import type { CommandContext } from '../cli/context.js';
import { configPath, displayPath, loadAndRender } from '../cli/project.js';
import { refOf } from './apply.js';
import { createSessionKube, toClusterError, type SessionKube, type SessionRef } from './kube.js';

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
export async function projectSessions(ctx: CommandContext, opts: { optionalConfig: boolean }): Promise<ProjectSessions> {
  if (opts.optionalConfig && !existsSync(configPath(ctx))) {
    const kc = await ctx.kube.kubeConfig();
    ctx.log.debug(`no ${displayPath(ctx, configPath(ctx))}: using namespace ${ctx.kube.target().namespace}`);
    return { kc, kube: await createSessionKube(kc), namespace: ctx.kube.target().namespace, refs: [], root: undefined };
  }
  const { project, target, rendered, warnings } = await loadAndRender(ctx, { checkFiles: false });
  for (const w of warnings) ctx.log.debug(`config: ${w.path ?? ''} ${w.message}`);
  const kc = await ctx.kube.kubeConfig({ namespace: project.namespace, kubeContext: project.kubeContext });
  const kube = await createSessionKube(kc);
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
