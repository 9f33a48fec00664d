// Entry point: parses argv, runs one command, and maps whatever it throws to an exit code and ONE
// line on stderr. This is the only place that decides exit codes (and runMain the only place that
// touches process exit state); commands throw typed errors from errors.ts.
import { homedir, hostname, userInfo } from 'node:os';
import { CommanderError } from 'commander';
import { agentVersion } from './cli/build-info.js';
import { buildProgram, COMPLETE_COMMAND, prepareHelp, type ProgramState } from './cli/program.js';
import type { ContextIO } from './cli/context.js';
import { DsaError, ExitCode, isConfigError } from './errors.js';
import { makeColors } from './output/color.js';

export { agentVersion };

/** os.userInfo() throws in containers whose uid has no passwd entry. */
export function currentOwner(env: Readonly<Record<string, string | undefined>>): { user: string; host: string } {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = env.USER ?? env.USERNAME;
  }
  return { user: user || 'unknown', host: hostname() || 'unknown' };
}

function oneLine(text: string): string {
  return text.split(/\r?\n/)[0] ?? '';
}

/**
 * Map an error to an exit code, printing one line (plus a stack for internal errors with -v or
 * DSA_DEBUG=1). Commander has already printed its own usage messages.
 */
export function handleError(err: unknown, io: Pick<ContextIO, 'stderr' | 'env' | 'isTTY'>, argv: readonly string[], state: ProgramState): number {
  const verbose = state.ctx?.log.verbose ?? (argv.includes('-v') || argv.includes('--verbose') || io.env.DSA_DEBUG === '1');
  const color = state.ctx?.color ?? makeColors({ flag: !argv.includes('--no-color'), env: io.env, isTTY: io.isTTY.stderr });
  const prefix = state.ctx ? `dsa ${state.ctx.command}:` : 'dsa:';
  if (err instanceof CommanderError) {
    // help/version exit 0; every other commander exit is a usage problem.
    return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  if (isConfigError(err)) {
    io.stderr.write(`${oneLine(err.toString())}\n`);
    return err.exitCode;
  }
  if (err instanceof DsaError) {
    const hint = err.hint ? ` (${err.hint})` : '';
    io.stderr.write(`${color.red(prefix)} ${oneLine(err.message)}${hint}\n`);
    if (verbose && err.cause instanceof Error && err.cause.stack) io.stderr.write(`${err.cause.stack}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr.write(`${color.red('dsa:')} internal error: ${oneLine(message)}\n`);
  if (verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else io.stderr.write('(run with -v or DSA_DEBUG=1 for details)\n');
  return ExitCode.Runtime;
}

/** Run the CLI once. Never throws; never exits the process. */
export async function run(argv: readonly string[], io: ContextIO): Promise<number> {
  const state: ProgramState = {};
  try {
    // Shell completion passes the user's half-typed words through; commander must not parse them.
    if (argv[0] === COMPLETE_COMMAND) return await (await import('./cli/complete.js')).runComplete(argv.slice(1), io, agentVersion());
    const program = buildProgram(io, state, agentVersion());
    await prepareHelp(program, argv);
    await program.parseAsync([...argv], { from: 'user' });
    if (io.signal.aborted) return ExitCode.Interrupted;
    return state.exitCode ?? ExitCode.Ok;
  } catch (err) {
    // An interrupted command may fail in arbitrary ways while unwinding; Ctrl-C is what the user saw.
    if (io.signal.aborted) return ExitCode.Interrupted;
    return handleError(err, io, argv, state);
  }
}

/** The process wiring used by bin/dsa.js. */
export async function runMain(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const abort = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts += 1;
    if (interrupts === 1) {
      abort.abort();
      // Commands that honour ctx.signal finish quickly; anything else gets a moment, then we leave.
      setTimeout(() => process.exit(ExitCode.Interrupted), 3000).unref();
    } else {
      process.exit(ExitCode.Interrupted);
    }
  });
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`dsa: internal error: ${oneLine(reason instanceof Error ? reason.message : String(reason))}\n`);
    process.exit(ExitCode.Runtime);
  });
  // `dsa render | head`: the reader went away; that is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.Ok);
      throw err;
    });
  }
  const env = process.env;
  const code = await run(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    cwd: process.cwd(),
    homeDir: homedir(),
    isTTY: { stdin: !!process.stdin.isTTY, stdout: !!process.stdout.isTTY, stderr: !!process.stderr.isTTY },
    signal: abort.signal,
    // The loader, renderer and schema validators load with the first command that needs them.
    services: async () => (await import('./project/project-services.js')).defaultServices(),
    owner: () => currentOwner(env),
  });
  process.exitCode = code;
}
