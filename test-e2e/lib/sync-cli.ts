// `dsa up` as a user runs it, for the sync suites that test what only the CLI shows: a child process
// whose stdout/stderr lines are kept with their arrival time, waited on by pattern, and stopped by
// signal. Plus the in-process operator (both controllers, the sidecar image) for one scoped namespace.
import { spawn, type ChildProcess } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { buildOperator, createLogger, loadConfig } from '@dsa/operator';
import { kubectl } from './exec.js';
import { REPO_ROOT } from './operator-install.js';
import { scopeArgs } from './scope.js';
import { waitFor } from './wait.js';
import path from 'node:path';

export const DSA_BIN = path.join(REPO_ROOT, 'agent/bin/dsa.js');

export interface Line {
  stream: 'out' | 'err';
  text: string;
  at: number;
}

export class DsaProcess {
  readonly child: ChildProcess;
  readonly lines: Line[] = [];
  readonly exited: Promise<number | null>;
  private partial = { out: '', err: '' };

  constructor(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }) {
    this.child = spawn(process.execPath, [DSA_BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (stream: 'out' | 'err') => (d: Buffer) => {
      const text = this.partial[stream] + d.toString();
      const parts = text.split('\n');
      this.partial[stream] = parts.pop()!;
      const at = Date.now();
      for (const p of parts) {
        this.lines.push({ stream, text: p, at });
        if (process.env.DSA_E2E_CLI_ECHO) process.stderr.write(`[dsa ${stream}] ${p}\n`);
      }
    };
    this.child.stdout!.on('data', take('out'));
    this.child.stderr!.on('data', take('err'));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  get stderr(): string {
    return this.lines.filter((l) => l.stream === 'err').map((l) => l.text).join('\n');
  }

  get stdout(): string {
    return this.lines.filter((l) => l.stream === 'out').map((l) => l.text).join('\n');
  }

  /** The first line (from index `from`) matching `re`; fails early when the process exits. */
  async waitLine(what: string, re: RegExp, opts: { stream?: 'out' | 'err'; from?: number; timeoutMs?: number } = {}): Promise<Line> {
    let exited: number | null | undefined;
    void this.exited.then((c) => (exited = c));
    try {
      return await waitFor(
        what,
        () => {
          const l = this.lines.slice(opts.from ?? 0).find((x) => (!opts.stream || x.stream === opts.stream) && re.test(x.text));
          if (l) return l;
          if (exited !== undefined) throw new Error(`dsa exited (${exited})`);
          return undefined;
        },
        { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 50 },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- dsa stderr (last 40 lines) ---\n${this.stderr.split('\n').slice(-40).join('\n')}\n--- stdout (last 10) ---\n${this.stdout.split('\n').slice(-10).join('\n')}`);
    }
  }

  /** Lines so far (an index to wait from). */
  get mark(): number {
    return this.lines.length;
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** The operator (both controllers, dev sidecar image) in this process for `namespace` only. Returns its stop function. */
export function startSyncOperator(kc: k8s.KubeConfig, namespace: string, images: { kanikoImage: string; testImage: string; sidecarImage: string }): () => Promise<void> {
  const cfg = loadConfig({
    argv: [
      '--leader-elect=false',
      '--metrics-bind-address=0',
      `--watch-namespace=${namespace}`,
      ...scopeArgs(),
      `--kaniko-image=${images.kanikoImage}`,
      `--helper-image=${images.testImage}`,
      `--sidecar-image=${images.sidecarImage}`,
    ],
    env: {},
  });
  const { manager } = buildOperator(cfg, { kc, log: createLogger({ level: 'warn' }), env: { POD_NAME: `e2e-sync-${namespace}` } });
  const exited = manager.start();
  return async () => {
    await manager.stop();
    await exited;
  };
}

/**
 * The SYNC column of `kubectl get devsessions` for one session, cut out of the default table by the
 * header's positions (the printer column, as people see it; its values contain spaces).
 */
export async function syncColumn(namespace: string, name: string): Promise<string> {
  const r = await kubectl(['get', 'devsessions', '-n', namespace, name]);
  const [header, row] = r.stdout.split('\n');
  const start = header?.indexOf('SYNC') ?? -1;
  const end = header?.indexOf('AGE', start) ?? -1;
  if (!header || !row || start < 0 || end < 0) throw new Error(`unexpected kubectl get devsessions output:\n${r.stdout}`);
  return row.slice(start, end).trim();
}
