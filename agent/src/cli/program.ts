import { Command, Help, type Option } from 'commander';
import type { CommandEntry, CommandSpec } from './command.js';
import { COMMANDS } from './commands/index.js';
import type { CommandContext, ContextIO } from './context.js';
import { addGlobalOptions, toGlobalOptions } from './global-options.js';
import { commandDescription, EXIT_CODES_HELP, rootDescription } from './help.js';

export interface ProgramState {
  /** Set once a command's action started (the error handler prefixes errors with its name). */
  ctx?: CommandContext;
  exitCode?: number;
}

interface Registered {
  entry: CommandEntry;
  /** Set once the command's module is loaded and its options, arguments and action are attached. */
  spec?: CommandSpec<any>;
}

const registered = new WeakMap<Command, Registered>();

/** The hidden command the completion scripts call (cli/complete.ts); main.ts runs it before commander parses anything. */
export const COMPLETE_COMMAND = '__complete';

/**
 * The commander tree. exitOverride turns every commander exit (help, version, usage errors) into a
 * thrown CommanderError that main.ts maps to an exit code; commander never calls process.exit.
 *
 * Subcommands start as stubs (name, aliases, summary: all `dsa --help` shows). The one commander
 * dispatches to is completed from its module in the preSubcommand hook, before it parses its own
 * arguments, so a run loads one command's dependencies instead of every command's.
 */
export function buildProgram(io: ContextIO, state: ProgramState, version: string, commands: ReadonlyArray<CommandEntry> = COMMANDS): Command {
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

  for (const entry of commands) {
    const cmd = new Command(entry.name);
    cmd.copyInheritedSettings(program);
    cmd.summary(entry.summary);
    for (const alias of entry.aliases ?? []) cmd.alias(alias);
    registered.set(cmd, { entry });
    program.addCommand(cmd);
    cmd.action(async (...actionArgs: unknown[]) => {
      const spec = registered.get(cmd)?.spec;
      if (!spec) throw new Error(`command ${entry.name} ran before it was loaded`);
      const command = actionArgs[actionArgs.length - 1] as Command;
      const opts = command.opts();
      // Positional arguments come first; variadic ones arrive as one array.
      const args = actionArgs.slice(0, -2).flatMap((a) => (Array.isArray(a) ? (a as string[]) : a === undefined ? [] : [String(a)]));
      const { createContext } = await import('./context.js');
      const ctx = createContext(spec.name, toGlobalOptions(command.optsWithGlobals()), io);
      state.ctx = ctx;
      const code = await spec.run(ctx, args, opts);
      state.exitCode = typeof code === 'number' ? code : 0;
    });
  }
  program.hook('preSubcommand', async (_root, sub) => {
    await loadCommand(sub);
  });
  return program;
}

/** Complete a stub from its module (idempotent). Returns undefined for a command the program did not register. */
export async function loadCommand(cmd: Command): Promise<CommandSpec<any> | undefined> {
  const reg = registered.get(cmd);
  if (!reg) return undefined;
  if (reg.spec) return reg.spec;
  const spec = await reg.entry.load();
  cmd.description(commandDescription(spec)).summary(spec.summary);
  for (const [syntax, description] of spec.arguments ?? []) cmd.argument(syntax, description);
  for (const option of spec.options ?? []) cmd.addOption(option);
  reg.spec = spec;
  return spec;
}

/** The subcommand named `name` (or one of its aliases). */
export function findCommand(program: Command, name: string): Command | undefined {
  return program.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

/** Whether an option consumes the next word as its value (`--config x`, `-n x`). */
function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

/**
 * The operands of argv as the root command sees them: options of `command` (and their values) skipped,
 * everything after `--` kept. `dsa -n x help logs` → ['help', 'logs'].
 */
export function operands(command: Command, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      if (arg.includes('=')) continue;
      const option = command.options.find((o) => o.long === arg);
      if (option && takesValue(option)) i++;
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // `-n x`, but not `-nx` (value attached) nor `-v` (a flag).
      const option = command.options.find((o) => o.short === arg.slice(0, 2));
      if (option && takesValue(option) && arg.length === 2) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * `dsa help <command>` prints the subcommand's help without going through the preSubcommand hook, so
 * load that one command up front. Everything else is loaded by the hook.
 */
export async function prepareHelp(program: Command, argv: readonly string[]): Promise<void> {
  const [first, second] = operands(program, argv);
  if (first !== 'help' || second === undefined) return;
  const cmd = findCommand(program, second);
  if (cmd) await loadCommand(cmd);
}
