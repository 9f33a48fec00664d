// The action layer: what each command does, as functions of (environment, collaborators, options),
// knowing nothing of commander or the CLI context (as helm keeps pkg/action apart from cmd/).
export type { ActionDeps, ClusterClients, ProjectRef } from './action-deps.js';
export { defaultClusterClients } from './cluster-clients.js';
export { enterContainer, logTargets, pickTarget, printLogs, type ContainerChoice, type EnterOptions, type LogsOptions } from './containers.js';
export { deployProject, localContexts, referenceExistingBuilds, type DeployOptions, type DeployResult } from './deploy.js';
export { runDevLoop, type DevLoopOptions } from './dev.js';
export { downProject, type DownOptions, type DownResult } from './down.js';
export { formatWarning, loadAndRender, type LoadedProject, type LoadOptions } from './load-project.js';
export { projectSessions, type ProjectSessions } from './project-sessions.js';
export { renderObjects } from './render.js';
export { validateProject, type ValidateCounts, type ValidateOutcome, type ValidateReport } from './validate.js';
