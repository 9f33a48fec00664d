import type { Option } from 'commander';
import type { CommandContext } from './context.js';

/** A command's behaviour: returns an exit code (void = 0) or throws a typed error. */
export type CommandRun<O = Record<string, unknown>> = (ctx: CommandContext, args: string[], opts: O) => Promise<number | void>;

/** Everything main.ts needs to register one command with commander. One file per command. */
export interface CommandSpec<O = Record<string, unknown>> {
  name: string;
  aliases?: string[];
  /** One line for the command list. */
  summary: string;
  /** Shown in `dsa <cmd> --help` above the examples. */
  description?: string;
  /** `[cmd...]`-style argument declarations: [syntax, description]. */
  arguments?: Array<[string, string]>;
  options?: Option[];
  /** Lead the help text: [command line, what it does]. */
  examples: Array<[string, string]>;
  run: CommandRun<O>;
}

export function defineCommand<O>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

/**
 * A command as the program registers it up front: enough for `dsa --help`, for commander to dispatch
 * and for completion, while the command's module (and everything it imports) loads only when that
 * command runs. `summary`/`aliases` repeat the spec's; a unit test keeps them equal.
 */
export interface CommandEntry {
  name: string;
  aliases?: readonly string[];
  summary: string;
  load(): Promise<CommandSpec<any>>;
}
