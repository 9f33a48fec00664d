// The small environment that actions/, session/ and devloop/ run in, instead of the CLI's
// CommandContext: whoever drives them (the CLI, a test, an IDE plugin) provides these few things and
// passes the real collaborators (kube clients, project services) explicitly next to it.
import type { Logger } from './output/logger.js';
import type { Writer } from './output/writer.js';

export interface TTYs {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

export interface AgentEnv {
  /** Progress, warnings and debug lines (stderr). */
  readonly log: Logger;
  /** Aborted when the user interrupts (or the owner of this environment stops the work). */
  readonly signal: AbortSignal;
  /** Data: the result of the work. */
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly isTTY: TTYs;
  /** Clock (tests); default `new Date()`. */
  readonly now?: () => Date;
}

export const nowOf = (env: Pick<AgentEnv, 'now'>): Date => env.now?.() ?? new Date();

/** The same environment with another abort signal (a child scope that stops earlier than its parent). */
export function withSignal(env: AgentEnv, signal: AbortSignal): AgentEnv {
  return { ...env, signal };
}
