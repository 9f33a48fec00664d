// Running the external renderers (helm, kubectl kustomize) with a timeout and bounded output. Errors carry
// the tool's stderr, which is the message a person needs ("Error: chart "x" not found in repo …").
import { execFile } from 'node:child_process';
import { MAX_MANIFEST_BYTES } from './manifests.js';

export class ToolNotFoundError extends Error {
  override readonly name = 'ToolNotFoundError';
}

export class ToolFailedError extends Error {
  override readonly name = 'ToolFailedError';
  constructor(
    readonly tool: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`${tool} failed${exitCode !== null ? ` (exit ${exitCode})` : ''}: ${lastLines(stderr, 5) || 'no output'}`);
  }
}

const lastLines = (s: string, n: number) => s.trim().split('\n').slice(-n).join('\n');

export interface RunOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  signal?: AbortSignal;
  /** Max stdout bytes (rendered manifests); default MAX_MANIFEST_BYTES (32 MiB). */
  maxBuffer?: number;
}

export type CommandRunner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<string>;

export const runCommand: CommandRunner = (file, args, opts = {}) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      {
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: opts.maxBuffer ?? MAX_MANIFEST_BYTES,
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        signal: opts.signal,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { code?: unknown };
        if (e.code === 'ENOENT') return reject(new ToolNotFoundError(`${file} not found (set the path in the environment or install it)`));
        // The output is tenant-controlled (a chart, a kustomization): say it was too big, never what it was.
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(new ToolFailedError(file, `output larger than ${Math.round((opts.maxBuffer ?? MAX_MANIFEST_BYTES) / (1024 * 1024))} MiB`, null));
        reject(new ToolFailedError(file, stderr || e.message, typeof e.code === 'number' ? e.code : null));
      },
    );
  });
