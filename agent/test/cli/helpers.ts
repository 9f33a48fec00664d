// Runs the real CLI (`node agent/bin/dsa.js …`) the way users do, with a hermetic environment.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultServices } from '../../src/project/project-services.js';
import { run } from '../../src/main.js';
import { StringWriter } from '../../src/output/writer.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DSA_BIN = join(REPO_ROOT, 'agent/bin/dsa.js');
export const EXAMPLES_DIR = join(REPO_ROOT, 'examples');
// DevSpace's examples, vendored (agent/test/fixtures/devspace-examples/README.md); DSA_DEVSPACE_EXAMPLES overrides.
export const SHARED_EXAMPLES_DIR = process.env.DSA_DEVSPACE_EXAMPLES ?? fileURLToPath(new URL('../fixtures/devspace-examples', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Added to the hermetic base environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** A HOME with no ~/.kube/config, shared by all runs of a test file. */
const emptyHome = mkdtempSync(join(tmpdir(), 'dsa-cli-home-'));

/**
 * The base environment: no kubeconfig, no colour forcing, no registry settings leaking in from the
 * developer's shell or the e2e cluster's env.sh.
 */
export function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'SystemRoot', 'TMPDIR', 'TEMP', 'TMP', 'LANG'];
  const env: Record<string, string> = { HOME: emptyHome, USER: 'tester' };
  for (const k of keep) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

export function runDsa(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = baseEnv();
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [DSA_BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dsa ${args.join(' ')} timed out after ${opts.timeoutMs ?? 30000} ms\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Map with at most `limit` in flight: each CLI run is a tsx start-up (~0.5–1 s of CPU), the machine has 2 cores. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// eslint-disable-next-line no-control-regex
export const ANSI = /\u001b\[[0-9;]*m/;

/** Describe a run for assertion messages. */
export function show(args: string[], r: RunResult): string {
  return `dsa ${args.join(' ')} → exit ${r.code}\n--- stdout ---\n${r.stdout.slice(0, 2000)}\n--- stderr ---\n${r.stderr.slice(0, 2000)}`;
}

/**
 * The same CLI in this process, with the real loader/renderer: for large batches of configs where
 * a process per config would dominate the suite's run time. Spawned runs cover the binary itself.
 */
export async function runInProcess(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const stdout = new StringWriter();
  const stderr = new StringWriter();
  const code = await run(args, {
    stdout,
    stderr,
    env: { ...baseEnv(), ...opts.env },
    cwd: opts.cwd ?? REPO_ROOT,
    homeDir: emptyHome,
    isTTY: { stdin: false, stdout: false, stderr: false },
    signal: new AbortController().signal,
    services: defaultServices,
    owner: () => ({ user: 'tester', host: 'test-host' }),
  });
  return { code, signal: null, stdout: stdout.toString(), stderr: stderr.toString() };
}
