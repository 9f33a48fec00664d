// Typed errors for the dsa CLI. Commands throw these; the single top-level handler in main.ts maps
// them to an exit code and prints one line (the changesets pattern), so no command ever calls
// process.exit or prints a stack trace.

/** Exit codes, documented in `dsa --help` and docs/cli.md. Scripts depend on them: never renumber. */
export const ExitCode = {
  Ok: 0,
  /** Runtime or cluster error. */
  Runtime: 1,
  /** Usage or validation error: the user's input (flags, devspace.yaml) is wrong. */
  Usage: 2,
  /**
   * `dsa analyze` found problems (the report is on stdout). Not an error of dsa: the command worked,
   * what it looked at is broken. Distinct from 1 so a script can tell "unhealthy" from "could not look".
   */
  ProblemsFound: 3,
  /** Interrupted by SIGINT (128 + 2, the shell convention). */
  Interrupted: 130,
} as const;

export abstract class DsaError extends Error {
  abstract readonly exitCode: number;
  /** Optional short advice appended to the one-line message ("…; try …"). */
  readonly hint: string | undefined;

  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** Bad flags or arguments. */
export class UsageError extends DsaError {
  readonly exitCode = ExitCode.Usage;
}

/** The project is well-formed YAML but what it describes is invalid (e.g. rendered objects fail the CRD schema). */
export class ValidationError extends DsaError {
  readonly exitCode = ExitCode.Usage;
}

/** No cluster configured, unreachable API server, RBAC denial, … */
export class ClusterError extends DsaError {
  readonly exitCode = ExitCode.Runtime;
}

/** Anything else that went wrong at run time and that the user can act on. */
export class RuntimeError extends DsaError {
  readonly exitCode = ExitCode.Runtime;
}

/** The user pressed Ctrl-C; work that honours the abort signal throws this. */
export class InterruptedError extends DsaError {
  readonly exitCode = ExitCode.Interrupted;
  constructor(message = 'interrupted') {
    super(message);
  }
}

/**
 * The config loader's error (agent/src/config/errors.ts) is recognised by shape rather than by
 * `instanceof`, so the CLI's error handler does not load the loader module just to classify an error
 * (and keeps working whichever copy of the class threw it).
 */
export interface ConfigErrorLike {
  name: 'ConfigError';
  exitCode: number;
  toString(): string;
}

export function isConfigError(err: unknown): err is ConfigErrorLike {
  return err instanceof Error && err.name === 'ConfigError' && typeof (err as { exitCode?: unknown }).exitCode === 'number';
}
