import type { CommandSpec } from '../command.js';
import { analyzeCommand } from './analyze.js';
import { deployCommand } from './deploy.js';
import { downCommand } from './down.js';
import { enterCommand } from './enter.js';
import { logsCommand } from './logs.js';
import { renderCommand } from './render.js';
import { upCommand } from './up.js';
import { validateCommand } from './validate.js';

/** In help order: the dev loop first, then offline tools. */
export const COMMANDS: ReadonlyArray<CommandSpec<any>> = [
  upCommand,
  deployCommand,
  enterCommand,
  logsCommand,
  analyzeCommand,
  downCommand,
  renderCommand,
  validateCommand,
];
