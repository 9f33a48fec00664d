// @dsa/operator: what other workspaces (benchmarks, e2e suites) may import to run the operator in-process.
// The process entry point is main.ts; importing this module never starts anything.
export { buildOperator, loadKubeConfig, registerControllers, VERSION, type Operator, type WiringDeps } from './main.js';
export {
  ConfigError,
  DEFAULT_HELPER_IMAGE,
  DEFAULT_KANIKO_IMAGE,
  FLAGS,
  loadConfig,
  usage,
  type BindAddress,
  type LoadConfigInput,
  type OperatorConfig,
} from './config.js';
export { createLogger, type Logger } from './log.js';
export { createImageBuildController, type ImageBuildControllerOptions } from './controllers/imagebuild/controller.js';
export { createDevSessionController, type DevSessionControllerOptions } from './controllers/devsession/controller.js';
