// Runs a custom build command (custom-command.ts assembles it) in the project folder, as DevSpace does:
// its output is streamed line by line, a non-zero exit fails the build with the last lines, and it is
// killed on Ctrl-C or when the build timeout passes. The command pushes the image itself.
import { spawn } from 'node:child_process';
import type { CustomInvocation } from './custom-command.js';
import { TailBuffer } from './docker-progress.js';
import { LocalBuildError } from './errors.js';

export interface RunCustomOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Each output line (stdout and stderr). */
  output(line: string): void;
  signal: AbortSignal;
  timeoutMs: number;
  /** For messages: `images.<name>`. */
  what: string;
}

/** `0.3s`, `42s`. */
const seconds = (ms: number) => `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)}s`;

/** Longest line kept whole; the rest of a longer line is cut (a build log is not a data channel). */
const MAX_LINE = 64 * 1024;

export function runCustomBuild(inv: CustomInvocation, opts: RunCustomOptions): Promise<void> {
  const tail = new TailBuffer(20);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const child = spawn(inv.file, inv.args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    // The whole process group: a script's children (docker build, …) go with it.
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const onAbort = () => {
      kill();
      finish(new LocalBuildError(`${opts.what}: custom build interrupted`));
    };
    const timer = setTimeout(() => {
      kill();
      finish(new LocalBuildError(`${opts.what}: custom build command did not finish within ${seconds(opts.timeoutMs)}`, tail.get()));
    }, opts.timeoutMs);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const lines = (stream: NodeJS.ReadableStream) => {
      let buf = '';
      stream.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          tail.push(line);
          opts.output(line);
        }
        if (buf.length > MAX_LINE) {
          tail.push(buf.slice(0, MAX_LINE));
          opts.output(`${buf.slice(0, MAX_LINE)}…`);
          buf = '';
        }
      });
      stream.on('end', () => {
        if (buf !== '') {
          tail.push(buf);
          opts.output(buf);
        }
      });
    };
    lines(child.stdout);
    lines(child.stderr);
    child.on('error', (e) => {
      const notFound = (e as NodeJS.ErrnoException).code === 'ENOENT';
      finish(new LocalBuildError(notFound ? `${opts.what}: custom build command ${inv.file} not found (in ${opts.cwd} or on PATH)` : `${opts.what}: cannot run ${inv.file}: ${e.message}`, [], { cause: e }));
    });
    child.on('close', (code, sig) => {
      if (code === 0) finish();
      else finish(new LocalBuildError(`${opts.what}: custom build command ${inv.shell ? '(shell script)' : inv.file} ${sig ? `was killed by ${sig}` : `exited with code ${code}`}`, tail.get()));
    });
  });
}
