// Run a command in a container (`dsa enter`, the dev loop's terminal) and return ITS exit code.
// client-node's Exec resolves when the WebSocket opens; the outcome is the V1Status on the status
// channel, which arrives just before the server closes the socket. With a TTY the local terminal goes
// into raw mode (keys go to the remote shell, Ctrl-C included) and size changes are forwarded through
// client-node's TerminalSizeQueue (it reads rows/columns/'resize' from the stdout we pass).
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import { RuntimeError } from '../errors.js';
import type { PodTarget } from './pods.js';

/** The part of client-node's Exec we use; injectable for tests. */
export interface ExecLike {
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    stdout: NodeJS.WritableStream | null,
    stderr: NodeJS.WritableStream | null,
    stdin: NodeJS.ReadableStream | null,
    tty: boolean,
    statusCallback?: (status: V1Status) => void,
  ): Promise<{ on(event: 'close', l: () => void): unknown; close(): void }>;
}

export async function makeExec(kc: KubeConfig): Promise<ExecLike> {
  const { Exec } = await import('@kubernetes/client-node');
  return new Exec(kc) as unknown as ExecLike;
}

/** The process's terminal, injected so tests never touch process.stdin. */
export interface TerminalIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown; pause(): unknown; resume(): unknown };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * The process's own terminal. The one place the dev loop reaches for process.*: a terminal session
 * needs the real stdin (raw mode) and the real stdout (its size), which AgentEnv does not carry.
 */
export function processTerminal(): TerminalIO {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** Exit code from an exec V1Status: 0 on Success, the ExitCode cause on NonZeroExitCode, else undefined. Pure. */
export function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : Number.NaN;
  return Number.isFinite(code) ? code : undefined;
}

/** `cd <dir> && exec <cmd>` without a shell-quoting step: the directory and the command are argv. Pure. */
export function withWorkdir(command: readonly string[], workdir: string | undefined): string[] {
  if (!workdir) return [...command];
  return ['sh', '-c', 'cd "$0" && exec "$@"', workdir, ...command];
}

export interface ExecOptions {
  tty: boolean;
  /** Pass stdin through (always with tty). */
  stdin: boolean;
  signal?: AbortSignal;
}

/**
 * Run `command` in `target`; resolves with the remote exit code. Throws RuntimeError when the
 * command could not be started (no such executable, container gone) or the connection broke.
 */
export async function execInContainer(exec: ExecLike, target: PodTarget, command: readonly string[], io: TerminalIO, opts: ExecOptions): Promise<number> {
  let settle!: (s: V1Status) => void;
  const statusP = new Promise<V1Status>((resolve) => (settle = resolve));
  const raw = opts.tty && io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  if (raw) io.stdin.setRawMode!(true);
  const restore = () => {
    if (raw) io.stdin.setRawMode!(false);
    if (opts.stdin || opts.tty) io.stdin.pause();
  };
  let ws;
  try {
    ws = await exec.exec(target.namespace, target.pod, target.container, [...command], io.stdout, opts.tty ? null : io.stderr, opts.stdin || opts.tty ? io.stdin : null, opts.tty, (s) => settle(s));
  } catch (e) {
    restore();
    const msg = (e as { message?: string })?.message ?? String(e);
    throw new RuntimeError(`cannot exec into ${target.pod}/${target.container}: ${msg}`, { cause: e });
  }
  const closed = new Promise<'closed'>((resolve) => ws.on('close', () => resolve('closed')));
  const onAbort = () => ws.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const first = await Promise.race([statusP, closed]);
    // The status frame precedes the close; allow a beat for one that raced it.
    const status = first === 'closed' ? await Promise.race([statusP, new Promise<undefined>((r) => setTimeout(() => r(undefined), 200))]) : first;
    if (!status) {
      if (opts.signal?.aborted) return 130;
      throw new RuntimeError(`the connection to ${target.pod}/${target.container} closed before the command finished`);
    }
    const code = exitCodeOf(status);
    if (code === undefined) throw new RuntimeError(`${target.pod}/${target.container}: ${status.message ?? 'the command could not be run'}`);
    return code;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    restore();
    ws.close();
  }
}
