import { Command, Help } from 'commander';
import type { CommandSpec } from './command.js';
import { COMMANDS } from './commands/index.js';
import { createContext, type CommandContext, type ContextIO } from './context.js';
import { addGlobalOptions, toGlobalOptions } from './global-options.js';
import { commandDescription, EXIT_CODES_HELP, rootDescription } from './help.js';

export interface ProgramState {
  /** Set once a command's action started (the error handler prefixes errors with its name). */
  ctx?: CommandContext;
  exitCode?: number;
}

/**
 * The commander tree. exitOverride turns every commander exit (help, version, usage errors) into a
 * thrown CommanderError that main.ts maps to an exit code; commander never calls process.exit.
 */
export function buildProgram(io: ContextIO, state: ProgramState, version: string, commands = COMMANDS): Command {
  const program = new Command('dsa');
  // Set before adding subcommands: commander copies these settings into each one.
  program
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .configureHelp({
      showGlobalOptions: true,
      sortSubcommands: false,
      // Commander wraps command descriptions; ours hold aligned example blocks, which must stay as written.
      boxWrap(this: Help, str: string, width: number): string {
        return this.preformatted(str) ? str : Help.prototype.boxWrap.call(this, str, width);
      },
    })
    .addHelpText('afterAll', EXIT_CODES_HELP);

  program.description(rootDescription()).version(version, '--version', 'print the version').usage('[global options] <command> [options]');
  addGlobalOptions(program);

  for (const spec of commands) program.addCommand(toCommander(spec, io, state, program));
  return program;
}

function toCommander(spec: CommandSpec<any>, io: ContextIO, state: ProgramState, parent: Command): Command {
  const cmd = new Command(spec.name);
  cmd.copyInheritedSettings(parent);
  cmd.description(commandDescription(spec)).summary(spec.summary);
  for (const alias of spec.aliases ?? []) cmd.alias(alias);
  for (const [syntax, description] of spec.arguments ?? []) cmd.argument(syntax, description);
  for (const option of spec.options ?? []) cmd.addOption(option);
  cmd.action(async (...actionArgs: unknown[]) => {
    const command = actionArgs[actionArgs.length - 1] as Command;
    const opts = command.opts();
    // Positional arguments come first; variadic ones arrive as one array.
    const args = actionArgs.slice(0, -2).flatMap((a) => (Array.isArray(a) ? (a as string[]) : a === undefined ? [] : [String(a)]));
    const ctx = createContext(spec.name, toGlobalOptions(command.optsWithGlobals()), io);
    state.ctx = ctx;
    const code = await spec.run(ctx, args, opts);
    state.exitCode = typeof code === 'number' ? code : 0;
  });
  return cmd;
}
