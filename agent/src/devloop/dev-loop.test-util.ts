// Shared pieces of the dev-loop and action unit tests (not a test file itself).
import type { AgentEnv } from '../env.js';
import type { Logger } from '../output/logger.js';
import { StringWriter } from '../output/writer.js';
import type { DevClients } from './service.js';

export interface TestEnv extends AgentEnv {
  lines: string[];
  out: StringWriter;
  abort(): void;
}

/** An AgentEnv whose log lines are kept as `info: …`, `warn: …`, `debug: …`, `error: …`. */
export function testEnv(over: Partial<AgentEnv> = {}): TestEnv {
  const lines: string[] = [];
  const log: Logger = {
    verbose: true,
    debug: (m) => lines.push(`debug: ${m}`),
    info: (m) => lines.push(`info: ${m}`),
    warn: (m) => lines.push(`warn: ${m}`),
    error: (m) => lines.push(`error: ${m}`),
  };
  const ac = new AbortController();
  const out = new StringWriter();
  return { log, signal: ac.signal, stdout: out, stderr: new StringWriter(), isTTY: { stdin: false, stdout: false, stderr: false }, lines, out, abort: () => ac.abort(), ...over };
}

/** Clients that fail loudly when a test did not expect them to be used. */
export function unusedClients(over: Partial<DevClients> = {}): DevClients {
  const no = (what: string) => () => Promise.reject(new Error(`unexpected ${what} client`));
  return {
    kubeConfig: {} as DevClients['kubeConfig'],
    exec: no('exec'),
    log: no('log'),
    portForward: no('port-forward'),
    terminal: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    ...over,
  };
}

export const tick = () => new Promise<void>((r) => setImmediate(r));

export async function until(what: string, cond: () => boolean, rounds = 2000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A promise with its resolve/reject. */
export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
