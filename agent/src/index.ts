// Public surface of @dsa/agent for other workspaces: the CLI in-process (run), and the action layer
// with its environment and dev-loop service contract for callers that are not the CLI.
export { run, runMain, handleError } from './main.js';
export type { CommandContext, ContextIO } from './cli/context.js';
export type { GlobalOptions } from './cli/global-options.js';
export * from './actions/index.js';
export type { AgentEnv } from './env.js';
export type { AgentStatusPart, DevClients, DevService, DevServiceContext, DevServiceDefinition } from './devloop/service.js';
export type { KubeAccess } from './kube/access.js';
export type { ProjectServices } from './project/project-services.js';
export * from './errors.js';
