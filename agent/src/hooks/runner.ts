// Runs a project's hooks for an event, as DevSpace's hook runner does (pkg/devspace/hook): locally in
// the project's folder (`sh -c` for a hook without args, else the command with its args, never through
// a shell), or with `container` in a running container of the cluster through exec. The environment is
// DevSpace's: the config's variables, DEVSPACE_HOOK_EVENT, DEVSPACE_HOOK_KUBE_CONTEXT/NAMESPACE and the
// event's extras (DEVSPACE_HOOK_IMAGE_CONFIG_NAME, DEVSPACE_HOOK_DEPLOY_NAME, DEVSPACE_HOOK_ERROR, …).
//
// A failing hook fails the command (DevSpace's ExecuteHooks), except a background one, which only
// warns. Hook output goes to stderr: stdout carries `-o json|yaml` data. Ctrl-C stops a running hook.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import type { ProjectConfig } from '@dsa/api';
import { hookSpecs, type HookContainer, type HookSpec } from '../config/hooks.js';
import type { ExecLike, TerminalIO } from '../devloop/exec.js';
import { execInContainer } from '../devloop/exec.js';
import { imageMatches, rankPods, repositoryOf } from '../devloop/pods.js';
import type { AgentEnv } from '../env.js';
import { InterruptedError, RuntimeError } from '../errors.js';
import { abortableSleep } from '../session/uploads.js';
import { hookEnv, hooksFor } from './events.js';

/** Where container hooks find their pods. */
export interface HookCluster {
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>;
  exec(): Promise<ExecLike>;
}

export interface HookRunnerOptions {
  env: AgentEnv;
  /** The environment local hooks inherit (the process environment). */
  processEnv: Readonly<Record<string, string | undefined>>;
  /** Kube context and namespace of the session (DEVSPACE_HOOK_KUBE_*, the default namespace of container hooks). */
  kubeContext?: string;
  namespace: string;
  /** Needed only by container hooks. */
  cluster?: () => Promise<HookCluster>;
  /** GOOS of this machine (default from process.platform). */
  goos?: string;
  /** Poll interval while a container hook waits for its pod (default 1 s). */
  pollMs?: number;
}

/** Go's GOOS for Node's platform: what DevSpace's `os:` field lists. */
export function goosOf(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'windows' : platform;
}

const OUTPUT_KEEP = 64 * 1024;
const ENV_NAME = /^[A-Za-z0-9_]+$/;

/** Hook name for logs: its name, else its command line (first line of a script). */
export function hookName(h: Pick<HookSpec, 'name' | 'command' | 'args'>): string {
  if (h.name) return h.name;
  const line = `${h.command} ${h.args.join(' ')}`.trim();
  const [first, ...more] = line.split('\n');
  return more.length ? `${first}...` : line;
}

/** The argv of a hook: `sh -c <command>` without args, else the command and its args. Pure. */
export function hookArgv(h: Pick<HookSpec, 'command' | 'args' | 'shell'>): string[] {
  return h.shell ? ['sh', '-c', h.command] : [h.command, ...h.args];
}

export class HookRunner {
  private readonly background = new Set<ChildProcess>();
  private readonly goos: string;

  constructor(private readonly o: HookRunnerOptions) {
    this.goos = o.goos ?? goosOf(process.platform);
    // Background hooks live as long as the work that started them (a redeploy of `dsa up` has its own signal).
    o.env.signal.addEventListener('abort', () => this.stopBackground(), { once: true });
  }

  /** Whether the project has a hook for any of `events` (cheap: no IO). */
  has(project: Pick<ProjectConfig, 'hooks'>, events: readonly string[]): boolean {
    const hooks = hookSpecs(project);
    return events.some((e) => hooksFor(hooks, e).length > 0);
  }

  /** Run `project`'s hooks for each event in turn. */
  async fire(project: Pick<ProjectConfig, 'hooks' | 'dir' | 'vars' | 'name' | 'images'>, events: readonly string[], extra: Record<string, unknown> = {}): Promise<void> {
    const hooks = hookSpecs(project);
    for (const event of events) {
      for (const h of hooksFor(hooks, event)) {
        if (h.os.length && !h.os.includes(this.goos)) continue;
        if (this.o.env.signal.aborted) throw new InterruptedError();
        const env = this.environment(project, event, extra);
        const name = hookName(h);
        if (h.background) {
          this.o.env.log.info(`hook '${name}' at ${event} (in the background)`);
          void this.run(project, h, env, event).catch((e: unknown) => this.o.env.log.warn(`background hook '${name}' at ${event}: ${(e as Error)?.message ?? String(e)}`));
          continue;
        }
        this.o.env.log.info(`hook '${name}' at ${event}`);
        await this.run(project, h, env, event);
      }
    }
  }

  /** Stop background hooks still running (the command is done). */
  stopBackground(): void {
    for (const c of this.background) killTree(c, 'SIGTERM');
    this.background.clear();
  }

  private environment(project: Pick<ProjectConfig, 'vars'>, event: string, extra: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.o.processEnv)) if (v !== undefined) out[k] = v;
    for (const [k, v] of Object.entries(project.vars)) if (ENV_NAME.test(k)) out[k] = v;
    if (this.o.kubeContext) out.DEVSPACE_HOOK_KUBE_CONTEXT = this.o.kubeContext;
    out.DEVSPACE_HOOK_KUBE_NAMESPACE = this.o.namespace;
    return { ...out, ...hookEnv(event, extra) };
  }

  private async run(project: Pick<ProjectConfig, 'dir' | 'images'>, h: HookSpec, env: Record<string, string>, event: string): Promise<void> {
    if (h.container) return this.runInContainer(project, h, h.container, event);
    return this.runLocal(project.dir, h, env, event);
  }

  private runLocal(cwd: string, h: HookSpec, env: Record<string, string>, event: string): Promise<void> {
    const [cmd, ...args] = hookArgv(h);
    const name = hookName(h);
    const signal = this.o.env.signal;
    return new Promise<void>((resolve, reject) => {
      // Its own process group, so Ctrl-C (or the end of the command, for a background hook) stops what it started too.
      const child = spawn(cmd!, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let kept = '';
      const out = (b: Buffer) => {
        if (h.silent) kept = (kept + b.toString()).slice(-OUTPUT_KEEP);
        else this.o.env.stderr.write(b.toString());
      };
      child.stdout!.on('data', out);
      child.stderr!.on('data', out);
      if (h.background) {
        this.background.add(child);
        child.unref();
      }
      const onAbort = () => killTree(child, 'SIGTERM');
      signal.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e) => {
        signal.removeEventListener('abort', onAbort);
        this.background.delete(child);
        reject(new RuntimeError(`hook '${name}' at ${event} could not start: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd}: command not found` : e.message}`));
      });
      child.on('close', (code, sig) => {
        signal.removeEventListener('abort', onAbort);
        this.background.delete(child);
        if (signal.aborted) return reject(new InterruptedError());
        if (code === 0) return resolve();
        if (h.silent && kept) this.o.env.stderr.write(kept.endsWith('\n') ? kept : `${kept}\n`);
        reject(new RuntimeError(`hook '${name}' at ${event} failed: ${sig ? `killed by ${sig}` : `exit code ${code}`}`));
      });
    });
  }

  private async runInContainer(project: Pick<ProjectConfig, 'images'>, h: HookSpec, c: HookContainer, event: string): Promise<void> {
    const name = hookName(h);
    if (!this.o.cluster) throw new RuntimeError(`hook '${name}' at ${event} runs in a container, which needs the cluster`);
    const cluster = await this.o.cluster();
    const target = await this.findContainer(cluster, project, c, `hook '${name}' at ${event}`);
    const marker = `/tmp/dsa-hooks/${createHash('sha256').update(JSON.stringify([h.command, h.args, h.shell])).digest('hex').slice(0, 16)}`;
    const exec = await cluster.exec();
    let kept = '';
    const io = this.execIO(h.silent ? (s) => (kept = (kept + s).slice(-OUTPUT_KEEP)) : (s) => this.o.env.stderr.write(s));
    const quiet = this.execIO(() => undefined);
    if (c.once && (await execInContainer(exec, target, ['test', '-e', marker], quiet, { tty: false, stdin: false, signal: this.o.env.signal })) === 0) {
      this.o.env.log.info(`hook '${name}' already ran in ${target.pod}/${target.container} (once)`);
      return;
    }
    this.o.env.log.info(`hook '${name}' in container ${target.namespace}/${target.pod}/${target.container}`);
    const code = await execInContainer(exec, target, hookArgv(h), io, { tty: false, stdin: false, signal: this.o.env.signal });
    if (this.o.env.signal.aborted) throw new InterruptedError();
    if (code !== 0) {
      if (h.silent && kept) this.o.env.stderr.write(kept.endsWith('\n') ? kept : `${kept}\n`);
      throw new RuntimeError(`hook '${name}' at ${event} failed in ${target.pod}/${target.container}: exit code ${code}`);
    }
    if (c.once) await execInContainer(exec, target, ['sh', '-c', 'mkdir -p "$(dirname "$0")" && touch "$0"', marker], quiet, { tty: false, stdin: false, signal: this.o.env.signal });
  }

  /** A running container matching the hook's selection, waiting for one up to its timeout (DevSpace: 150 s). */
  private async findContainer(cluster: HookCluster, project: Pick<ProjectConfig, 'images'>, c: HookContainer, what: string): Promise<{ namespace: string; pod: string; container: string }> {
    const namespace = c.namespace ?? this.o.namespace;
    const selector = c.labelSelector ? Object.entries(c.labelSelector).map(([k, v]) => `${k}=${v}`).join(',') : undefined;
    const imageRepo = c.imageName ? project.images.find((i) => i.name === c.imageName)?.image : undefined;
    const wantImage = c.imageSelector ?? imageRepo;
    const deadline = Date.now() + c.timeoutSeconds * 1000;
    for (;;) {
      const pods = rankPods((await cluster.listPods(namespace, selector)).filter((p) => !c.pod || p.metadata?.name === c.pod));
      for (const p of pods) {
        const containers = p.spec?.containers ?? [];
        const byImage = wantImage ? containers.find((x) => imageMatches(x.image ?? '', wantImage) || imageMatches(x.image ?? '', repositoryOf(wantImage))) : undefined;
        if (wantImage && !byImage) continue;
        const name = c.containerName ?? byImage?.name ?? containers[0]?.name;
        const ready = p.status?.containerStatuses?.find((s) => s.name === name)?.state?.running;
        if (name && ready) return { namespace, pod: p.metadata!.name!, container: name };
      }
      if (!c.wait || Date.now() >= deadline) {
        const sel = [c.pod && `pod ${c.pod}`, selector && `labels ${selector}`, wantImage && `image ${wantImage}`].filter(Boolean).join(', ') || 'any pod';
        throw new RuntimeError(`${what}: no running container in namespace ${namespace} matches ${sel}${c.wait ? ` after ${c.timeoutSeconds}s` : ''}`);
      }
      try {
        await abortableSleep(this.o.pollMs ?? 1000, this.o.env.signal);
      } catch {
        throw new InterruptedError();
      }
    }
  }

  private execIO(write: (s: string) => void): TerminalIO {
    const sink = () =>
      new Writable({
        write(chunk: Buffer, _enc, done) {
          write(chunk.toString());
          done();
        },
      });
    return { stdin: new PassThrough(), stdout: sink(), stderr: sink() };
  }
}

function killTree(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    child.kill(sig);
  }
}
