// The operator as a real OS process for e2e suites: spawned from source with tsx, output captured to a file
// under test-e2e/.out/, ops endpoints (/readyz, /metrics) read over loopback, and a registry of every process
// started so afterAll can kill them all even when a test failed half-way (no orphans holding a Lease).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { REPO_ROOT } from './operator-install.js';

export const OUT_DIR = resolve(REPO_ROOT, 'test-e2e/.out');
const TSX = resolve(REPO_ROOT, 'node_modules/.bin/tsx');
const OPERATOR_MAIN = resolve(REPO_ROOT, 'operator/src/main.ts');

/** A TCP port nobody listens on right now (bind :0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when it exited. */
  at: number;
}

export interface SpawnOptions {
  /** Short name; the log file is `<dir>/<name>.log`. */
  name: string;
  args: readonly string[];
  /** Replaces the environment entirely when `replaceEnv` is true, else merged over process.env. */
  env?: Record<string, string | undefined>;
  replaceEnv?: boolean;
  /** Subfolder of test-e2e/.out (one per suite). */
  dir: string;
}

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  exitInfo: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;

  constructor(opts: SpawnOptions & { command: string }) {
    this.name = opts.name;
    const dir = resolve(OUT_DIR, opts.dir);
    mkdirSync(dir, { recursive: true });
    this.logFile = resolve(dir, `${opts.name}.log`);
    const fd = openSync(this.logFile, 'w');
    const env = opts.replaceEnv ? { ...opts.env } : { ...process.env, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    // detached: own process group. tsx runs the program in a CHILD node process; SIGKILL of tsx alone would
    // orphan that child (still holding the Lease, still reconciling), so hard kills go to the whole group.
    this.child = spawn(opts.command, opts.args, { cwd: REPO_ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    this.exited = new Promise((ok) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal, at: Date.now() };
        ok(this.exitInfo);
      });
      this.child.once('error', () => {
        this.exitInfo ??= { code: -1, signal: null, at: Date.now() };
        ok(this.exitInfo);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** SIGKILL the whole process group (tsx + the node child running main.ts). */
  killHard(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** SIGTERM to tsx only: it relays the signal to the child once (a group signal would deliver it twice). */
  terminate(): void {
    if (this.alive()) this.child.kill('SIGTERM');
  }

  /** Resolves with the exit info, or undefined after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<ExitInfo | undefined> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((ok) => (t = setTimeout(() => ok(undefined), timeoutMs)));
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  output(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  tail(lines = 40): string {
    return this.output().split('\n').slice(-lines - 1).join('\n');
  }
}

export interface OperatorProcessOptions {
  name: string;
  dir: string;
  /** Flags after `operator/src/main.ts`. */
  args: readonly string[];
  /** Ops server port (`--metrics-bind-address 127.0.0.1:<port>` is added when set). */
  port?: number;
  env?: Record<string, string | undefined>;
  replaceEnv?: boolean;
}

export class OperatorProcess extends ManagedProcess {
  readonly port: number | undefined;

  constructor(opts: OperatorProcessOptions) {
    const args = [OPERATOR_MAIN, ...opts.args, ...(opts.port ? ['--metrics-bind-address', `127.0.0.1:${opts.port}`] : [])];
    // POD_NAME prefixes the leader-election identity (`<POD_NAME>_<random>`), so a Lease holder maps to a process.
    super({ name: opts.name, dir: opts.dir, command: TSX, args, env: { POD_NAME: opts.name, ...opts.env }, replaceEnv: opts.replaceEnv });
    this.port = opts.port;
  }

  private async get(path: string): Promise<{ status: number; body: string } | undefined> {
    if (!this.port || !this.alive()) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(3000) });
      return { status: res.status, body: await res.text() };
    } catch {
      return undefined;
    }
  }

  /** /readyz as JSON (undefined while the server is not up). */
  async readyz(): Promise<{ status: number; ready: boolean; leader: boolean | undefined; leaderIdentity: string | undefined } | undefined> {
    const r = await this.get('/readyz');
    if (!r) return undefined;
    const j = JSON.parse(r.body) as { ready: boolean; details?: { leader?: boolean; leaderIdentity?: string } };
    return { status: r.status, ready: j.ready, leader: j.details?.leader, leaderIdentity: j.details?.leaderIdentity };
  }

  async metricsText(): Promise<string | undefined> {
    return (await this.get('/metrics'))?.body;
  }

  /** Value of an unlabelled gauge/counter, or of the sum over series matching `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const text = await this.metricsText();
    if (text === undefined) return undefined;
    let sum: number | undefined;
    for (const line of text.split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (!Object.entries(labels).every(([k, v]) => have[k] === v)) continue;
      sum = (sum ?? 0) + Number(m[4]);
    }
    return sum;
  }

  /** The `dsa_operator_leader` gauge (1 leading, 0 standby). */
  leaderGauge(): Promise<number | undefined> {
    return this.metric('dsa_operator_leader');
  }
}

/** Every process a suite started; `killAll()` in afterAll, `report()` prints tails when something failed. */
export class ProcessRegistry {
  readonly all: ManagedProcess[] = [];

  constructor() {
    // Last resort if afterAll never runs (jest killed on timeout, an exception in a hook): still no orphans.
    process.once('exit', () => {
      for (const p of this.all) if (p.alive()) p.killHard();
    });
  }

  track<P extends ManagedProcess>(p: P): P {
    this.all.push(p);
    return p;
  }

  /** SIGKILL every still-running process group and wait for the exits. */
  async killAll(): Promise<void> {
    for (const p of this.all) if (p.alive()) p.killHard();
    await Promise.all(this.all.map((p) => p.waitExit(10_000)));
  }

  /** Tail of the logs of processes started since `since` (default: all), for a failing test's output. */
  report(lines = 30, since = 0): string {
    return this.all
      .filter((p) => p.startedAt >= since)
      .map((p) => `── ${p.name} (pid ${p.pid}, ${p.exitInfo ? `exit ${p.exitInfo.code ?? p.exitInfo.signal}` : 'running'}) ${p.logFile}\n${p.tail(lines)}`)
      .join('\n');
  }
}
