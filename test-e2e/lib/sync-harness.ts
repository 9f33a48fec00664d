// The sync suites' world: the DevSession controller IN-PROCESS (devsession-harness.ts) with the dev
// sidecar image, sessions whose workloads run images of the harness registry, and the agent's sync
// engine (SyncSession over the real pods/exec transport) driven directly, as `dsa up` drives it. Plus
// what a test needs to look at the container side: exec (client-node, no kubectl process per call), a
// tree listing with content hashes in one round trip, writes through stdin.
//
// Env contract: eval "$(make -s cluster-env)" (KUBECONFIG, DSA_SIDECAR_IMAGE, DSA_NODE_IMAGE, …).
import * as k8s from '@kubernetes/client-node';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { DEVSESSION, GROUP, VERSION, type DevSession, type DevSessionSpec, type DevPortMapping } from '@dsa/api';
import { SIDECAR_CONTAINER } from '@dsa/api/sync';
import { SyncSession, execTransport, type SyncEvent, type SyncPathConfig, type SyncSessionOptions, type TransportFactory } from '../../agent/src/sync/index.js';
import { sessionCondition, startDevSessionHarness, type DevSessionHarness } from './devsession-harness.js';
import { requireEnv } from './env.js';
import { kubectl, run } from './exec.js';
import { REPO_ROOT } from './operator-install.js';
import { waitFor } from './wait.js';

const DSA_BIN = path.join(REPO_ROOT, 'agent/bin/dsa.js');

export const syncEnv = () => requireEnv('sidecarImage', 'nodeImage', 'registry');

export interface ExecResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface PodRef {
  namespace: string;
  pod: string;
  uid: string;
  /** The app container's name. */
  container: string;
}

/** An image reference's repository, for spec.images entries (the registry is insecure, plain HTTP). */
export function imageRepo(ref: string): { repo: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return { repo: ref.slice(0, i), tag: ref.slice(i + 1) };
}

/**
 * spec.images entries that tell the operator our registry speaks plain HTTP, so it can read the
 * images' configs (working dir, entrypoint, user) for the sidecar transform. Never built.
 */
export function registryImages(refs: readonly string[]): NonNullable<DevSessionSpec['images']> {
  const repos = [...new Set(refs.map((r) => imageRepo(r).repo))];
  return repos.map((repo, i) => ({ name: `img${i}`, image: repo, skip: true, registry: { insecure: true } }));
}

export interface WorkloadOptions {
  name: string;
  image: string;
  /** The app container's command (default: the image's). */
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Record<string, string>;
  /** Extra fields of the app container. */
  container?: Record<string, unknown>;
}

/** A one-replica Deployment (Recreate: a replaced pod never overlaps the old one) as an inline manifest. */
export function deploymentManifest(o: WorkloadOptions): string {
  const container: Record<string, unknown> = {
    name: 'app',
    image: o.image,
    ...(o.command ? { command: o.command } : {}),
    ...(o.args ? { args: o.args } : {}),
    ...(o.workingDir ? { workingDir: o.workingDir } : {}),
    ...(o.env ? { env: Object.entries(o.env).map(([name, value]) => ({ name, value })) } : {}),
    ...o.container,
  };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app: o.name } },
      template: { metadata: { labels: { app: o.name } }, spec: { terminationGracePeriodSeconds: 1, enableServiceLinks: false, containers: [container] } },
    },
  });
}

/** An app that stays up doing nothing, with a shell around (node image). */
export const IDLE_COMMAND = ['node', '-e', 'setInterval(() => {}, 1 << 30); process.on("SIGTERM", () => process.exit(0))'];

export interface RunningSync {
  session: SyncSession;
  events: SyncEvent[];
  /** Date.now() of each event, same index. */
  times: number[];
  stateDir: string;
  /** Resolves with the first event matching `pred` from now on or already seen (index ≥ from). */
  waitEvent<T extends SyncEvent>(what: string, pred: (e: SyncEvent) => e is T, opts?: { from?: number; timeoutMs?: number }): Promise<T>;
  waitEvent(what: string, pred: (e: SyncEvent) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<SyncEvent>;
  stop(): Promise<void>;
}

export interface StartSyncOptions {
  session: string;
  devPod: string;
  /** SyncPath entries with localPath absolute; devPod and sync index are filled in. */
  paths: Array<Omit<SyncPathConfig, 'devPod' | 'sync'> & { sync?: number }>;
  reversePorts?: DevPortMapping[];
  /** Reuse a state folder (agent restarts); default a fresh one. */
  stateDir?: string;
  /** Wrap the transport (drop it, hold reconnects). */
  wrapConnect?: (inner: TransportFactory) => TransportFactory;
  extra?: Partial<SyncSessionOptions>;
}

/** `dsa render -o json` of a devspace.yaml (the real loader and renderer, as `dsa up` runs them): the DevSession. */
export async function renderConfig(configFile: string, vars: Record<string, string> = {}): Promise<DevSession> {
  const args = [DSA_BIN, 'render', '--config', configFile, '-o', 'json', '--no-color', ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}=${v}`])];
  const r = await run(process.execPath, args, { cwd: path.dirname(configFile), timeoutMs: 60_000, allowFailure: true });
  if (r.code !== 0) throw new Error(`dsa render ${configFile} exited ${r.code}: ${r.stderr.trim()}`);
  const list = JSON.parse(r.stdout) as { items: Array<{ kind: string } & DevSession> };
  const s = list.items.find((i) => i.kind === DEVSESSION.kind);
  if (!s) throw new Error(`dsa render ${configFile} printed no DevSession`);
  return s;
}

/** The sync paths of a dev pod of a rendered session, localPath made absolute against the project folder. */
export function specSyncPaths(spec: DevSessionSpec, devPod: string, projectDir: string): StartSyncOptions['paths'] {
  const pod = spec.dev?.pods?.find((p) => p.name === devPod);
  if (!pod) throw new Error(`the session has no dev pod ${devPod}`);
  return (pod.sync ?? []).map((s, i) => ({ ...s, localPath: path.resolve(projectDir, s.localPath), sync: i }));
}

export class SyncWorld {
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly kc: k8s.KubeConfig;
  readonly env = syncEnv();
  readonly work: string;
  private readonly exec: k8s.Exec;
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  private constructor(readonly h: DevSessionHarness) {
    this.kc = h.kc;
    this.core = h.kc.makeApiClient(k8s.CoreV1Api);
    this.apps = h.kc.makeApiClient(k8s.AppsV1Api);
    this.exec = new k8s.Exec(h.kc);
    this.work = mkdtempSync(path.join(tmpdir(), 'dsa-e2e-sync-'));
  }

  get namespace(): string {
    return this.h.ns.name;
  }

  /** The in-process controller with the sidecar image, in a fresh scoped namespace. */
  static async start(prefix: string): Promise<SyncWorld> {
    const env = syncEnv();
    // The namespace is a tenant namespace (createTestNamespace): the confined controller deploys as its
    // dsa-deployer, with the chart's ready-made tenant Role.
    const h = await startDevSessionHarness(prefix, () => ({ sidecarImage: env.sidecarImage, rolloutPollMs: 1_000, workers: 2 }));
    return new SyncWorld(h);
  }

  async close(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    await this.h.close();
    rmSync(this.work, { recursive: true, force: true });
  }

  /** A fresh folder under the suite's temp dir. */
  dir(name: string): string {
    const d = path.join(this.work, `${name}-${randomBytes(3).toString('hex')}`);
    return d;
  }

  private sessionPath(name?: string) {
    return { group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: this.namespace, ...(name ? { name } : {}) };
  }

  /** Create the session, or replace its spec. */
  async apply(name: string, spec: DevSessionSpec): Promise<void> {
    const existing = await this.h.getSession(name);
    if (!existing) {
      await this.h.custom.createNamespacedCustomObject({ ...this.sessionPath(), body: { apiVersion: `${GROUP}/${VERSION}`, kind: DEVSESSION.kind, metadata: { name }, spec } });
      return;
    }
    await this.h.custom.patchNamespacedCustomObject(
      { ...this.sessionPath(), name, body: [{ op: 'replace', path: '/spec', value: spec }] as unknown as object },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
  }

  /** `kubectl apply` of the session, as GitOps applies it (no agent, no CLI). */
  async kubectlApply(name: string, spec: DevSessionSpec): Promise<void> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: DEVSESSION.kind, metadata: { name, namespace: this.namespace }, spec };
    await kubectl(['apply', '--server-side', '--field-manager=e2e-gitops', '-f', '-'], { input: JSON.stringify(body), timeoutMs: 60_000 });
  }

  /** Wait until the session is Ready for its current generation; a Stalled condition fails at once. */
  async waitReady(name: string, timeoutMs = 180_000): Promise<DevSession> {
    return waitUnless(
      `session ${name} Ready`,
      async () => {
        const s = await this.h.getSession(name);
        const stalled = sessionCondition(s, 'Stalled');
        if (stalled?.status === 'True') throw new StalledError(`session ${name} stalled: ${stalled.message}`);
        await this.failOnPullErrors();
        const ready = sessionCondition(s, 'Ready');
        return ready?.status === 'True' && s?.status?.observedGeneration === s?.metadata.generation ? s : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    ).catch(async (e: Error) => {
      const s = await this.h.getSession(name).catch(() => undefined);
      throw new Error(`${e.message}\nstatus: ${JSON.stringify(s?.status?.conditions ?? s?.status ?? null).slice(0, 2000)}\n${await this.describePods(name)}`);
    });
  }

  /** An image that cannot be pulled will not become pullable by waiting: say so now, not after the timeout. */
  private async failOnPullErrors(): Promise<void> {
    const pods = await this.core.listNamespacedPod({ namespace: this.namespace });
    for (const p of pods.items) {
      for (const c of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
        const w = c.state?.waiting;
        if (w?.reason === 'ImagePullBackOff' || w?.reason === 'ErrImagePull' || w?.reason === 'InvalidImageName') {
          throw new StalledError(`pod ${p.metadata?.name} container ${c.name}: ${w.reason}: ${w.message ?? ''}`);
        }
      }
    }
  }

  /** Pods of a workload (label app=<name>) in one line each, for failure messages. */
  async describePods(app: string): Promise<string> {
    const pods = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `app=${app}` }).catch(() => ({ items: [] as k8s.V1Pod[] }));
    return pods.items
      .map((p) => {
        const st = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])].map((c) => `${c.name}:${c.ready ? 'ready' : JSON.stringify(c.state?.waiting ?? c.state?.terminated ?? c.state?.running ?? {})}`);
        return `pod ${p.metadata?.name} ${p.status?.phase} ${st.join(' ')}`;
      })
      .join('\n');
  }

  /** The running pod of workload `app` (all containers ready, not terminating); waits for it. */
  async runningPod(app: string, opts: { not?: string; timeoutMs?: number } = {}): Promise<PodRef> {
    return waitFor(
      `a running pod of ${app}${opts.not ? ` other than ${opts.not}` : ''}`,
      async () => {
        const pods = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `app=${app}` });
        const p = pods.items.find(
          (x) =>
            x.status?.phase === 'Running' &&
            !x.metadata?.deletionTimestamp &&
            x.metadata?.name !== opts.not &&
            (x.status?.containerStatuses ?? []).every((c) => c.ready || c.started) &&
            (x.status?.initContainerStatuses ?? []).every((c) => c.name !== SIDECAR_CONTAINER || c.started),
        );
        return p ? { namespace: this.namespace, pod: p.metadata!.name!, uid: p.metadata!.uid!, container: 'app' } : undefined;
      },
      { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 300 },
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await this.describePods(app)}`);
    });
  }

  async readPod(pod: string): Promise<k8s.V1Pod> {
    return this.core.readNamespacedPod({ namespace: this.namespace, name: pod });
  }

  /** Run a command in a container; stdin from `input` when given. Never throws for a non-zero exit. */
  async run(pod: string, container: string, command: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
    const out: Buffer[] = [];
    let err = '';
    const stdout = new Writable({ write: (c: Buffer, _e, cb) => (out.push(Buffer.from(c)), cb()) });
    const stderr = new Writable({ write: (c: Buffer, _e, cb) => ((err += c.toString()), cb()) });
    let status: k8s.V1Status | undefined;
    const stdin = opts.input !== undefined ? Readable.from([Buffer.from(opts.input)]) : null;
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`exec ${command.join(' ').slice(0, 100)} in ${pod}/${container}: no answer in ${opts.timeoutMs ?? 60_000} ms`)), opts.timeoutMs ?? 60_000);
      this.exec
        .exec(this.namespace, pod, container, command, stdout, stderr, stdin, false, (s) => {
          status = s;
        })
        .then((ws) => {
          ws.on('close', () => {
            clearTimeout(timer);
            // the status frame arrives right before the close; let it land
            setTimeout(resolve, 20);
          });
          ws.on('error', (e: Error) => {
            clearTimeout(timer);
            reject(e);
          });
        }, (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(JSON.stringify(e)));
        });
    });
    await done;
    let code = -1;
    if (status?.status === 'Success') code = 0;
    else {
      const c = status?.details?.causes?.find((x) => x.reason === 'ExitCode')?.message;
      if (c !== undefined) code = Number(c);
      else if (status) err += `\n[${status.message ?? status.reason}]`;
    }
    return { code, stdout: Buffer.concat(out), stderr: err };
  }

  /** Like run(), but a non-zero exit throws with stderr. */
  async sh(pod: string, container: string, script: string, input?: string | Buffer): Promise<string> {
    const r = await this.run(pod, container, ['sh', '-c', script], input !== undefined ? { input } : {});
    if (r.code !== 0) throw new Error(`sh -c ${JSON.stringify(script.slice(0, 200))} in ${pod}/${container} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout.toString();
  }

  /**
   * The tree under `root` in a container (needs node there: our node image, or the sidecar), one
   * exec: relative path → {t: f|d|l, s, m (mode bits), h (sha256 of small files, first 16 hex), l (link)}.
   */
  async tree(pod: string, container: string, root: string, opts: { hashMax?: number } = {}): Promise<Map<string, RemoteEntry>> {
    const script = `
const fs = require('fs'), path = require('path'), crypto = require('crypto');
const root = process.argv[1], hashMax = Number(process.argv[2]);
const out = [];
const walk = (rel) => {
  let names; try { names = fs.readdirSync(path.join(root, rel)); } catch { return; }
  for (const n of names.sort()) {
    const r = rel ? rel + '/' + n : n, abs = path.join(root, r);
    let st; try { st = fs.lstatSync(abs); } catch { continue; }
    const e = { p: r, s: st.size, m: st.mode & 0o7777 };
    if (st.isSymbolicLink()) { e.t = 'l'; e.l = fs.readlinkSync(abs); }
    else if (st.isDirectory()) { e.t = 'd'; }
    else if (st.isFile()) { e.t = 'f'; if (st.size <= hashMax) e.h = crypto.createHash('sha256').update(fs.readFileSync(abs)).digest('hex').slice(0, 16); }
    else e.t = '?';
    out.push(e);
    if (e.t === 'd') walk(r);
  }
};
walk('');
process.stdout.write(JSON.stringify(out));`;
    const r = await this.run(pod, container, ['node', '-e', script, root, String(opts.hashMax ?? 1 << 20)]);
    if (r.code !== 0) throw new Error(`listing ${root} in ${pod}/${container} failed (${r.code}): ${r.stderr.trim()}`);
    const list = JSON.parse(r.stdout.toString()) as RemoteEntry[];
    return new Map(list.map((e) => [e.p, e]));
  }

  /** Write files in a container (node there): path → content (utf8) ; null deletes (recursively). */
  async writeRemote(pod: string, container: string, root: string, files: Record<string, string | null>): Promise<void> {
    const script = `
const fs = require('fs'), path = require('path');
let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => {
  const { root, files } = JSON.parse(s);
  for (const [rel, c] of Object.entries(files)) {
    const abs = path.join(root, rel);
    if (c === null) { fs.rmSync(abs, { recursive: true, force: true }); continue; }
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, c);
  }
});`;
    const r = await this.run(pod, container, ['node', '-e', script], { input: JSON.stringify({ root, files }) });
    if (r.code !== 0) throw new Error(`writing in ${pod}/${container} failed (${r.code}): ${r.stderr.trim()}`);
  }

  /** The agent's sync engine for one dev pod of `session`, over pods/exec to the pod's current sidecar. */
  startSync(o: StartSyncOptions): RunningSync {
    const stateDir = o.stateDir ?? this.dir('state');
    const podOf = async () => (await this.runningPod(o.session, { timeoutMs: 60_000 })).pod;
    const inner: TransportFactory = async (signal) => {
      const pod = await podOf();
      return execTransport(this.kc, { namespace: this.namespace, pod })(signal);
    };
    const session = new SyncSession({
      connect: o.wrapConnect ? o.wrapConnect(inner) : inner,
      paths: o.paths.map((p, i) => ({ ...p, devPod: o.devPod, sync: p.sync ?? i })),
      ...(o.reversePorts ? { reversePorts: o.reversePorts } : {}),
      stateDir,
      sessionKey: `${this.namespace}.${o.session}`,
      software: 'dsa e2e',
      ...o.extra,
    });
    const events: SyncEvent[] = [];
    const times: number[] = [];
    session.on((e) => {
      events.push(e);
      times.push(Date.now());
      if (process.env.DSA_E2E_SYNC_EVENTS) process.stderr.write(`[sync ${o.session}] ${JSON.stringify(e).slice(0, 400)}\n`);
    });
    session.start();
    const stop = async () => {
      await session.stop();
    };
    this.cleanups.push(stop);
    const waitEvent = (what: string, pred: (e: SyncEvent) => boolean, opts: { from?: number; timeoutMs?: number } = {}) =>
      waitUnless(
        what,
        () => {
          const fatal = events.find((e) => e.type === 'error' && e.fatal);
          if (fatal) throw new StalledError(`sync failed: ${(fatal as { message: string }).message}`);
          return events.slice(opts.from ?? 0).find(pred);
        },
        { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 20 },
      ).catch((e: Error) => {
        throw new Error(`${e.message}\nlast events: ${events.slice(-8).map((x) => JSON.stringify(x).slice(0, 300)).join('\n')}`);
      });
    return { session, events, times, stateDir, waitEvent: waitEvent as RunningSync['waitEvent'], stop };
  }

  /** Register a cleanup step (run in reverse order by close()). */
  onClose(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }
}

export interface RemoteEntry {
  p: string;
  t: 'f' | 'd' | 'l' | '?';
  s: number;
  m: number;
  h?: string;
  l?: string;
}

/** Thrown inside a wait to end it at once: waiting cannot help. */
export class StalledError extends Error {
  override readonly name = 'StalledError';
}

/** waitFor() that ends at once on a StalledError instead of retrying until the timeout. */
function waitUnless<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, opts: { timeoutMs?: number; intervalMs?: number }): Promise<T> {
  let stalled: StalledError | undefined;
  const ctl = new AbortController();
  return waitFor(
    what,
    async () => {
      if (stalled) return true as unknown as T;
      try {
        return await fn();
      } catch (e) {
        if (e instanceof StalledError) {
          stalled = e;
          ctl.abort();
          return true as unknown as T;
        }
        throw e;
      }
    },
    opts,
  ).then((v) => {
    if (stalled) throw stalled;
    return v;
  });
}

/** Resolve once `pred` holds for the events seen so far (polling every 20 ms). */
export function eventually(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<true> {
  return waitFor(what, async () => ((await pred()) ? true : undefined), { timeoutMs, intervalMs: 50 });
}

/** A PassThrough-based transport wrapper that can drop the current connection and hold new ones. */
export class FlakyLink {
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private current: import('node:stream').Duplex | undefined;
  connects = 0;
  /** When the last connect attempt got through to the inner factory (ms since epoch). */
  lastThrough = 0;

  wrap(inner: TransportFactory): TransportFactory {
    return async (signal) => {
      this.connects++;
      if (this.held) {
        // Like an unreachable apiserver: the attempt fails after a while.
        await Promise.race([this.held, new Promise((r) => setTimeout(r, 200))]);
        if (this.isDown()) throw new Error('connection refused (link down)');
      }
      this.lastThrough = Date.now();
      const d = await inner(signal);
      this.current = d;
      return d;
    };
  }

  isDown(): boolean {
    return this.held !== undefined;
  }

  /** Cut the current connection and refuse new ones until up(). */
  down(): void {
    this.held = new Promise((r) => (this.release = r));
    this.current?.destroy(new Error('link down'));
  }

  up(): void {
    const r = this.release;
    this.held = undefined;
    this.release = undefined;
    r?.();
  }
}

export { PassThrough };

/** The same listing as SyncWorld.tree(), of a local folder. */
export function localTree(root: string, opts: { hashMax?: number } = {}): Map<string, RemoteEntry> {
  const hashMax = opts.hashMax ?? 1 << 20;
  const out = new Map<string, RemoteEntry>();
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(root, rel));
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const abs = path.join(root, r);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch {
        continue;
      }
      const e: RemoteEntry = { p: r, t: '?', s: st.size, m: st.mode & 0o7777 };
      if (st.isSymbolicLink()) {
        e.t = 'l';
        e.l = fs.readlinkSync(abs);
      } else if (st.isDirectory()) e.t = 'd';
      else if (st.isFile()) {
        e.t = 'f';
        if (st.size <= hashMax) e.h = createHash('sha256').update(fs.readFileSync(abs)).digest('hex').slice(0, 16);
      }
      out.set(r, e);
      if (e.t === 'd') walk(r);
    }
  };
  walk('');
  return out;
}

/** What two listings must agree on: type, content (files), permission bits, link target; directory sizes differ by filesystem. */
export function comparable(t: Map<string, RemoteEntry>, filter: (p: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [p, e] of t) {
    if (!filter(p)) continue;
    out[p] = e.t === 'f' ? `f ${(e.m & 0o777).toString(8)} ${e.s} ${e.h ?? ''}` : e.t === 'l' ? `l -> ${e.l}` : e.t === 'd' ? 'd' : '?';
  }
  return out;
}

/** Write a local file (parents created). */
export function put(root: string, rel: string, content: string | Buffer = rel, mode?: number): void {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  if (mode !== undefined) fs.chmodSync(abs, mode);
}

/** Inodes (decimal) watched by inotify in this process (/proc/self/fdinfo), to tell polling from watching. */
export function localInotifyInodes(): Set<number> {
  const out = new Set<number>();
  for (const fd of fs.readdirSync('/proc/self/fdinfo')) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) out.add(Number.parseInt(m[1]!, 16));
  }
  return out;
}

/** Node script: the inotify-watched inodes of every process in the container, and the inodes of argv paths. */
export const REMOTE_INOTIFY_SCRIPT = `const fs = require('fs');
const watched = new Set();
for (const pid of fs.readdirSync('/proc')) {
  if (!/^\\d+$/.test(pid)) continue;
  let fds = [];
  try { fds = fs.readdirSync('/proc/' + pid + '/fdinfo'); } catch { continue; }
  for (const fd of fds) {
    let t = '';
    try { t = fs.readFileSync('/proc/' + pid + '/fdinfo/' + fd, 'utf8'); } catch { continue; }
    for (const m of t.matchAll(/^inotify wd:\\S+ ino:([0-9a-f]+)/gm)) watched.add(parseInt(m[1], 16));
  }
}
const paths = {};
for (const p of process.argv.slice(1)) paths[p] = fs.statSync(p).ino;
process.stdout.write(JSON.stringify({ watched: [...watched], paths }));`;
