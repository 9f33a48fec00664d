import type { Colors } from './color.js';
import type { Writer } from './writer.js';

/** Progress, warnings and debug lines. Always stderr: stdout is reserved for data. */
export interface Logger {
  readonly verbose: boolean;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(stderr: Writer, color: Colors, verbose: boolean): Logger {
  return {
    verbose,
    debug(message) {
      if (verbose) stderr.write(`${color.dim(`debug: ${message}`)}\n`);
    },
    info(message) {
      stderr.write(`${message}\n`);
    },
    warn(message) {
      stderr.write(`${color.yellow('warning:')} ${message}\n`);
    },
    error(message) {
      stderr.write(`${color.red('error:')} ${message}\n`);
    },
  };
}
