// Local builds (`docker`, `custom`), run by `dsa deploy` / `dsa up` before the DevSessions are applied.
import type { DevSession, ProjectConfig } from '@dsa/api';
import type { AgentEnv } from '../env.js';
import { planLocalBuilds, runLocalBuilds, withLocalBuilds, defaultLocalBuildDeps, type LocalBuildDeps, type LocalBuildOptions } from './local-builds.js';

export { planLocalBuilds, runLocalBuilds, withLocalBuilds, type LocalBuildDeps, type LocalBuildOptions, type LocalBuildJob, type LocalBuildResult } from './local-builds.js';
export { LocalBuildError } from './errors.js';

/** Build the project's locally built images and return the sessions with them marked as built. */
export async function buildLocalImages(env: AgentEnv, project: ProjectConfig, namespace: string, sessions: DevSession[], opts: LocalBuildOptions, deps: LocalBuildDeps = defaultLocalBuildDeps): Promise<DevSession[]> {
  const jobs = planLocalBuilds(project, namespace, sessions);
  if (jobs.length === 0) return sessions;
  const results = await runLocalBuilds(env, jobs, opts, deps);
  return withLocalBuilds(sessions, results);
}
