// A project loaded with `secretVars: 'placeholder'` carries `${dsa.secret.NAME}` where a password variable's
// value was. That is what goes into a DevSession; what the agent runs itself (hooks, docker and custom builds,
// local sync commands) needs the values back. Pure.
// Relative, like the rest of config/: the loader does not pull in @dsa/api's index (start time: bench-cli).
import type { ProjectConfig } from '../../../api/src/model/project.js';
import { mapSecretPlaceholders } from '../../../api/src/secret-vars.js';

/**
 * `project` with each project's own placeholders (the root's and every loaded dependency's, each with its own
 * values) replaced by their values. The same object when no project in the tree has secret variables.
 */
export function revealSecretVars(project: ProjectConfig): ProjectConfig {
  if (!hasSecretVars(project)) return project;
  const values = project.secretVars ?? {};
  const names = new Set(Object.keys(values));
  const { dependencies, ...own } = project;
  const revealed = names.size ? mapSecretPlaceholders(own, names, (n) => values[n]!) : own;
  return {
    ...revealed,
    // The map above must not see the dependencies: a dependency's placeholders are its own values.
    dependencies: dependencies.map((d) => (d.project ? { ...d, project: revealSecretVars(d.project) } : d)),
  } as ProjectConfig;
}

function hasSecretVars(p: ProjectConfig): boolean {
  return Object.keys(p.secretVars ?? {}).length > 0 || p.dependencies.some((d) => d.project !== undefined && hasSecretVars(d.project));
}
