// `dsa render`: the objects a devspace.yaml stands for: the secret-variable Secrets, the sessions (dependencies
// first), then the ImageBuilds.
import type { AgentEnv } from '../env.js';
import type { KubeObject } from '../output/printer.js';
import type { ActionDeps } from './action-deps.js';
import { formatWarning, loadAndRender, type LoadOptions } from './load-project.js';

export async function renderObjects(env: AgentEnv, deps: ActionDeps, opts: LoadOptions): Promise<KubeObject[]> {
  const { rendered, warnings } = await loadAndRender(env, deps, opts);
  for (const w of warnings) env.log.warn(formatWarning(w));
  // The Secrets first: `dsa render | kubectl apply -f -` creates them before the sessions that read them.
  return [...rendered.secrets, ...rendered.sessions, ...rendered.imageBuilds];
}
