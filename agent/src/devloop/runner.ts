// Runs the dev loop's services (service.ts): creates them, starts each once the services it waits for
// are ready, feeds them every new version of the DevSession (session-feed.ts), and stops them in
// reverse definition order when the user presses Ctrl-C, a service calls exit()/fail(), or the
// session is deleted.
import type { DevSession } from '@dsa/api';
import { withSignal, type AgentEnv } from '../env.js';
import { refOf } from '../session/apply.js';
import type { SessionKube } from '../session/kube.js';
import type { AgentStatusPart, DevClients, DevService, DevServiceContext, DevServiceDefinition } from './service.js';
import { followSession, type FollowOptions } from './session-feed.js';

/** How long the runner waits for one service's stop(). */
export const STOP_TIMEOUT_MS = 5000;

/**
 * Who waits for whom: name → the names it waits for (its `after`, plus every definition naming it in
 * `before`), limited to the given definitions. Throws on a duplicate name or a cycle. Pure.
 */
export function waitGraph(defs: ReadonlyArray<Pick<DevServiceDefinition, 'name' | 'after' | 'before'>>): Map<string, string[]> {
  const names = new Set<string>();
  for (const d of defs) {
    if (names.has(d.name)) throw new Error(`two dev services are named ${d.name}`);
    names.add(d.name);
  }
  const graph = new Map<string, Set<string>>(defs.map((d) => [d.name, new Set((d.after ?? []).filter((n) => names.has(n) && n !== d.name))]));
  for (const d of defs) for (const later of d.before ?? []) if (names.has(later) && later !== d.name) graph.get(later)!.add(d.name);
  // Depth-first search for a cycle; the message names it.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') throw new Error(`dev services wait for each other: ${[...path.slice(path.indexOf(n)), n].join(' → ')}`);
    state.set(n, 'visiting');
    for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
    state.set(n, 'done');
  };
  for (const d of defs) visit(d.name, []);
  return new Map([...graph].map(([k, v]) => [k, [...v]]));
}

/** The services' status parts, in definition order, with change notification (the heartbeat writes them). */
class StatusBoard {
  private readonly parts = new Map<string, AgentStatusPart>();
  private readonly listeners = new Set<() => void>();
  constructor(private readonly order: readonly string[]) {}
  set(name: string, part: AgentStatusPart | undefined): void {
    if (part === undefined) this.parts.delete(name);
    else this.parts.set(name, part);
    for (const l of [...this.listeners]) l();
  }
  current(): AgentStatusPart[] {
    return this.order.flatMap((n) => (this.parts.has(n) ? [this.parts.get(n)!] : []));
  }
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface RunDevServicesOptions {
  /** `signal`: Ctrl-C. */
  env: AgentEnv;
  kube: SessionKube;
  clients: DevClients;
  /** The root session as it is now (Ready). */
  initial: DevSession;
  projectDir: string;
  /** Tuning of the session feed (tests). */
  follow?: Pick<FollowOptions, 'pollMs' | 'watchTimeoutSeconds' | 'retryBaseMs' | 'retryMaxMs' | 'minWatchMs' | 'sleep' | 'now'>;
  /** Once every service has started (or could not): the names of those running. */
  onStarted?(running: readonly string[]): void;
  stopTimeoutMs?: number;
}

interface Entry {
  def: DevServiceDefinition;
  svc: DevService;
  /** start() was called: stop() will be. */
  started: boolean;
  /** start() resolved: update() may be called. */
  running: boolean;
  /** Settles when start() settles (resolves also when the service never started). */
  startP: Promise<void>;
  /** Resolves when the services waiting for this one may start. */
  readyP: Promise<void>;
}

/** Not an error: the loop stopped before the service's turn came. */
const NOT_STARTED = Symbol('not started');

const messageOf = (e: unknown) => (e as Error)?.message ?? String(e);

async function bounded(p: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not stop within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run the services until the loop ends. Resolves with the exit code a service asked for (undefined:
 * none, e.g. Ctrl-C or the session was deleted); rejects with what a service failed with.
 */
export async function runDevServices(defs: readonly DevServiceDefinition[], opts: RunDevServicesOptions): Promise<number | undefined> {
  const graph = waitGraph(defs);
  const ref = refOf(opts.initial);
  const stop = new AbortController();
  const onParentAbort = () => stop.abort();
  opts.env.signal.addEventListener('abort', onParentAbort, { once: true });
  if (opts.env.signal.aborted) stop.abort();
  const stopped = new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
  let outcome: { code?: number | undefined } | { error: unknown } | undefined;
  const end = (o: { code?: number | undefined } | { error: unknown }) => {
    outcome ??= o;
    stop.abort();
  };
  const env = withSignal(opts.env, stop.signal);
  const board = new StatusBoard(defs.map((d) => d.name));
  let session = opts.initial;

  const entries: Entry[] = [];
  try {
    for (const def of defs) {
      const ctx: DevServiceContext = {
        env,
        ref,
        kube: opts.kube,
        clients: opts.clients,
        projectDir: opts.projectDir,
        session: () => session,
        setStatus: (part) => board.set(def.name, part),
        statusParts: board,
        exit: (code) => end({ code }),
        fail: (error) => end({ error }),
      };
      const svc = def.create(ctx, session);
      if (svc) entries.push({ def, svc, started: false, running: false, startP: Promise.resolve(), readyP: Promise.resolve() });
    }
  } catch (e) {
    opts.env.signal.removeEventListener('abort', onParentAbort);
    throw e;
  }

  // Deferred first: a service may wait for one defined after it.
  const ready = new Map<string, { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void }>();
  for (const e of entries) {
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => undefined); // observed below; never an unhandled rejection
    ready.set(e.def.name, { promise, resolve, reject });
    e.readyP = promise;
  }
  for (const e of entries) {
    const waits = (graph.get(e.def.name) ?? []).flatMap((n) => (ready.has(n) ? [ready.get(n)!.promise] : []));
    const own = ready.get(e.def.name)!;
    e.startP = (async () => {
      await Promise.race([Promise.all(waits), stopped]);
      if (stop.signal.aborted) throw NOT_STARTED;
      e.started = true;
      await e.svc.start(session);
      e.running = true;
    })();
    e.startP
      .then(() => (e.svc.ready ? e.svc.ready() : undefined))
      .then(own.resolve, (err: unknown) => {
        own.reject(err);
        if (err !== NOT_STARTED) end({ error: err });
      });
  }
  void Promise.allSettled(entries.map((e) => e.startP)).then(() => {
    if (!stop.signal.aborted) opts.onStarted?.(entries.filter((e) => e.running).map((e) => e.def.name));
  });

  // ── session changes → update(), serially, the latest version only ──
  let pending: DevSession | undefined;
  let pumpRunning = false;
  let pumped: Promise<void> = Promise.resolve();
  const pump = async () => {
    try {
      while (pending && !stop.signal.aborted) {
        const s = pending;
        pending = undefined;
        for (const e of entries) {
          if (!e.running || !e.svc.update || stop.signal.aborted) continue;
          try {
            await e.svc.update(s);
          } catch (err) {
            env.log.warn(`${e.def.name}: ${messageOf(err)}`);
          }
        }
      }
    } finally {
      pumpRunning = false;
    }
  };
  const following = followSession(opts.kube, ref, {
    ...opts.follow,
    signal: stop.signal,
    initial: opts.initial,
    log: env.log,
    onSession: (s) => {
      const before = JSON.stringify(session.status?.pods ?? []);
      session = s;
      if (JSON.stringify(s.status?.pods ?? []) !== before) for (const p of s.status?.pods ?? []) env.log.info(`dev pod ${p.devPod}: ${p.pod}`);
      pending = s;
      if (!pumpRunning) {
        pumpRunning = true;
        pumped = pump();
      }
    },
    onGone: () => {
      env.log.warn(`DevSession ${ref.name} was deleted; stopping`);
      end({});
    },
  });

  await stopped;
  for (const e of [...entries].reverse()) {
    if (!e.started) continue;
    await bounded(e.svc.stop(), opts.stopTimeoutMs ?? STOP_TIMEOUT_MS, e.def.name).catch((err: unknown) => env.log.debug(`stopping ${e.def.name}: ${messageOf(err)}`));
  }
  await following;
  await pumped;
  opts.env.signal.removeEventListener('abort', onParentAbort);
  if (outcome && 'error' in outcome) throw outcome.error;
  return outcome?.code;
}
