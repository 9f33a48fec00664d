// Running CLI tools (kubectl, helm, build scripts) from tests: output captured, failures carry stderr.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  /** Resolve with a non-zero code instead of throwing. */
  allowFailure?: boolean;
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          stderr += `\n[killed after ${opts.timeoutMs} ms]`;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      const res = { code: code ?? -1, stdout, stderr };
      if (res.code !== 0 && !opts.allowFailure) {
        reject(new Error(`${cmd} ${args.join(' ')} exited ${res.code}\n${stderr.trim() || stdout.trim()}`));
      } else resolve(res);
    });
    // A child that exits without reading stdin makes the write fail with EPIPE; its exit code tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** The kubectl to use: $KUBECTL, else the harness's own ($DSA_KUBE_BIN/kubectl), else `kubectl` on PATH. */
export function kubectlPath(env: Record<string, string | undefined> = process.env): string {
  if (env.KUBECTL) return env.KUBECTL;
  const harness = env.DSA_KUBE_BIN ? join(env.DSA_KUBE_BIN, 'kubectl') : undefined;
  return harness && existsSync(harness) ? harness : 'kubectl';
}

/** kubectl against $KUBECONFIG. */
export function kubectl(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(kubectlPath(), args, opts);
}
