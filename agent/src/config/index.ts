// Public API of the devspace.yaml loader (used by `dsa render`, `dsa validate`, `dsa up`).
export { loadProject, CONFIG_FILE } from './load.js';
export { revealSecretVars } from './reveal-secret-vars.js';
export { ConfigError, isConfigError, formatConfigError } from './errors.js';
export type { FileReader, FileKind, LoadOptions, Prompt, PromptOptions } from './types.js';
export { nodeFileReader, gitShortCommit } from './node-fs.js';
export { parsePortSpec } from './ports.js';
export { supportTableMarkdown, supportCounts } from './support-table.js';
export type { ProjectConfig, ConfigWarning } from '../../../api/src/model/project.js';
export { memFileReader } from './mem-fs.js';
