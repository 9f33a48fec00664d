// Public surface of @dsa/agent for other workspaces (e2e tests drive the CLI in-process through run()).
export { run, runMain, handleError } from './main.js';
export type { CommandContext, ContextIO, KubeAccess } from './cli/context.js';
export type { GlobalOptions } from './cli/global-options.js';
export type { ProjectServices } from './cli/services.js';
export * from './errors.js';
export * from './kube/index.js';
