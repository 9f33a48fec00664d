// A resilient shared informer on top of client-node 1.4's makeInformer (ListWatch).
//
// Why a wrapper (see docs/adr/0002):
//  - ListWatch in 1.4.0 fires `error` and then stays stopped on any non-410 error; we restart it with capped
//    exponential backoff (the official example uses a fixed 5 s timer; a fixed fast restart caused reconnect
//    storms in the past, #1933).
//  - A watch can hang silently in 1.4.0 (its 30 s timeout is overwritten, #2127/#2432), so we relist
//    periodically and re-deliver every object as a resync event, which controllers turn into reconciles.
//  - Restarting a ListWatch in place is racy: aborting its request calls its done-handler later, which aborts
//    whatever request is current by then and fires `error`. So every (re)start uses a *fresh* ListWatch
//    ("generation") and callbacks from older generations are ignored. Our own cache survives generations, and
//    after each new list we diff it so deletions that happened while disconnected are still delivered.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject, KubernetesListObject } from '@kubernetes/client-node';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { objectKey, keyOf } from './keys.js';
import { silentLogger, type Logger } from '../log.js';

/** What makeInformer returns; tests provide fakes of this shape. */
export type ListWatchLike<T extends KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;
export type ListWatchFactory<T extends KubernetesObject> = () => ListWatchLike<T>;
export type ListFn<T extends KubernetesObject> = () => Promise<KubernetesListObject<T>>;

export interface InformerEventHandler<T extends KubernetesObject> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
  /** Periodic relist: called for every cached object (controllers re-enqueue it). */
  resync?(obj: T): void;
}

export interface RestartBackoff {
  /** First restart delay after an error (default 1 s). */
  baseDelayMs?: number;
  /** Cap (default 60 s). */
  maxDelayMs?: number;
  /** A generation that lived this long counts as healthy and resets the backoff (default 30 s). */
  stableAfterMs?: number;
}

export interface InformerOptions<T extends KubernetesObject> {
  /** Short name for logs/metrics, e.g. "devsessions" or "pods". */
  name: string;
  /** Creates a fresh ListWatch (one per generation). */
  factory: ListWatchFactory<T>;
  /** Full relist + resync period; 0 disables. Default 5 minutes. */
  resyncPeriodMs?: number;
  restartBackoff?: RestartBackoff;
  clock?: Clock;
  logger?: Logger;
}

export interface GroupVersionResource {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  /** Omit to watch all namespaces (or a cluster-scoped resource). */
  namespace?: string;
}

/** REST path of a collection, as makeInformer/Watch expects it. */
export function resourcePath(gvr: GroupVersionResource): string {
  const base = gvr.group ? `/apis/${gvr.group}/${gvr.version}` : `/api/${gvr.version}`;
  const ns = gvr.namespace ? `/namespaces/${encodeURIComponent(gvr.namespace)}` : '';
  return `${base}${ns}/${gvr.plural}`;
}

/**
 * A list function for any resource. Non-core groups (apps, batch, CRDs) go through CustomObjectsApi, which is a
 * plain GET on /apis/{group}/{version}/[namespaces/{ns}/]{plural} and so works for built-in groups too. The core
 * group has no such generic call, so the common core kinds are dispatched to CoreV1Api.
 */
export function listerFor<T extends KubernetesObject>(
  kc: k8s.KubeConfig,
  gvr: GroupVersionResource,
  labelSelector?: string,
): ListFn<T> {
  if (gvr.group) {
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const { group, version, plural, namespace } = gvr;
    return namespace
      ? () => api.listNamespacedCustomObject({ group, version, plural, namespace, labelSelector })
      : () => api.listClusterCustomObject({ group, version, plural, labelSelector });
  }
  if (gvr.version !== 'v1') throw new Error(`listerFor: unsupported core version ${gvr.version}`);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ns = gvr.namespace;
  const pick = <R>(namespaced: (p: { namespace: string; labelSelector?: string }) => Promise<R>, all: (p: { labelSelector?: string }) => Promise<R>) =>
    (ns ? () => namespaced({ namespace: ns, labelSelector }) : () => all({ labelSelector })) as unknown as ListFn<T>;
  switch (gvr.plural) {
    case 'pods':
      return pick((p) => core.listNamespacedPod(p), (p) => core.listPodForAllNamespaces(p));
    case 'services':
      return pick((p) => core.listNamespacedService(p), (p) => core.listServiceForAllNamespaces(p));
    case 'configmaps':
      return pick((p) => core.listNamespacedConfigMap(p), (p) => core.listConfigMapForAllNamespaces(p));
    case 'secrets':
      return pick((p) => core.listNamespacedSecret(p), (p) => core.listSecretForAllNamespaces(p));
    case 'serviceaccounts':
      return pick((p) => core.listNamespacedServiceAccount(p), (p) => core.listServiceAccountForAllNamespaces(p));
    case 'persistentvolumeclaims':
      return pick((p) => core.listNamespacedPersistentVolumeClaim(p), (p) => core.listPersistentVolumeClaimForAllNamespaces(p));
    case 'namespaces':
      return (() => core.listNamespace({ labelSelector })) as unknown as ListFn<T>;
    default:
      throw new Error(`listerFor: core resource ${gvr.plural} not supported; pass a list function`);
  }
}

/** What controllers and reconcilers need from an informer: events, cache reads, lifecycle. */
export interface SharedInformer<T extends KubernetesObject> {
  readonly name: string;
  addHandler(handler: InformerEventHandler<T>): () => void;
  start(): void;
  stop(): Promise<void>;
  hasSynced(): boolean;
  waitForSync(timeoutMs?: number): Promise<boolean>;
  list(namespace?: string): T[];
  get(namespace: string, name: string): T | undefined;
  keys(): string[];
  status(): InformerStatus;
  onRestart: ((restarts: number) => void) | undefined;
}

export interface InformerStatus {
  synced: boolean;
  running: boolean;
  restarts: number;
  failures: number;
  lastSyncAt?: number;
}

/**
 * Shared informer with restart, periodic relist and a cache that survives restarts.
 * Cache lookups take (namespace, name) — note client-node's own ObjectCache.get is (name, namespace).
 */
export class ResourceInformer<T extends KubernetesObject> implements SharedInformer<T> {
  readonly name: string;
  private readonly factory: ListWatchFactory<T>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly resyncPeriodMs: number;
  private readonly backoff: Required<RestartBackoff>;

  private readonly cache = new Map<string, T>();
  private readonly handlers = new Set<InformerEventHandler<T>>();
  private current: ListWatchLike<T> | undefined;
  private generation = 0;
  private generationStartedAt = 0;
  private failures = 0;
  private restartTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private running = false;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private restarts = 0;
  private lastSyncAt: number | undefined;
  /** Called with the total restart count after each error-triggered restart is scheduled (metrics hook). */
  onRestart: ((restarts: number) => void) | undefined;

  constructor(opts: InformerOptions<T>) {
    this.name = opts.name;
    this.factory = opts.factory;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ informer: opts.name });
    this.resyncPeriodMs = opts.resyncPeriodMs ?? 5 * 60_000;
    this.backoff = {
      baseDelayMs: opts.restartBackoff?.baseDelayMs ?? 1000,
      maxDelayMs: opts.restartBackoff?.maxDelayMs ?? 60_000,
      stableAfterMs: opts.restartBackoff?.stableAfterMs ?? 30_000,
    };
  }

  /** Informer over a REST path with a list function (core, apps, CRs); uses k8s.makeInformer. */
  static forPath<T extends KubernetesObject>(
    kc: k8s.KubeConfig,
    source: { path: string; list: ListFn<T>; labelSelector?: string },
    opts: Omit<InformerOptions<T>, 'factory'>,
  ): ResourceInformer<T> {
    return new ResourceInformer<T>({
      ...opts,
      factory: () => k8s.makeInformer<T>(kc, source.path, source.list, source.labelSelector),
    });
  }

  /** Informer for a group/version/resource, building path and list function. */
  static forResource<T extends KubernetesObject>(
    kc: k8s.KubeConfig,
    gvr: GroupVersionResource & { labelSelector?: string },
    opts: Omit<InformerOptions<T>, 'factory' | 'name'> & { name?: string },
  ): ResourceInformer<T> {
    return ResourceInformer.forPath<T>(
      kc,
      { path: resourcePath(gvr), list: listerFor<T>(kc, gvr, gvr.labelSelector), labelSelector: gvr.labelSelector },
      { ...opts, name: opts.name ?? gvr.plural },
    );
  }

  /** Register handlers; returns an unsubscribe function. Register before start() to see the initial adds. */
  addHandler(handler: InformerEventHandler<T>): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Start listing/watching. Returns immediately; use waitForSync()/hasSynced(). Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleResync();
    void this.startGeneration('start');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.generation++; // invalidate callbacks of the current ListWatch
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    this.restartTimer = this.resyncTimer = undefined;
    const lw = this.current;
    this.current = undefined;
    await lw?.stop().catch(() => undefined);
  }

  /** True once the first full list has been loaded (stays true across restarts: the cache is still served). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true when synced, false on timeout (or if stopped meanwhile and timeout passes). */
  waitForSync(timeoutMs?: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      let handle: TimerHandle | undefined;
      const done = () => {
        if (handle !== undefined) this.clock.clearTimeout(handle);
        resolve(true);
      };
      this.syncWaiters.push(done);
      if (timeoutMs !== undefined) {
        handle = this.clock.setTimeout(() => {
          this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata?.namespace ?? '') === namespace);
  }

  get(namespace: string, name: string): T | undefined {
    return this.cache.get(keyOf({ namespace, name }));
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  /** Diagnostics for /readyz and logs. */
  status(): InformerStatus {
    return { synced: this.synced, running: this.running, restarts: this.restarts, failures: this.failures, lastSyncAt: this.lastSyncAt };
  }

  /** Force a fresh list + watch now, then deliver a resync for every object. Used by the resync timer. */
  async relist(): Promise<boolean> {
    if (!this.running) return false;
    const ok = await this.startGeneration('resync');
    if (ok) this.emitResync();
    return ok;
  }

  private scheduleResync(): void {
    if (!this.running || this.resyncPeriodMs <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resyncTimer = undefined;
      void this.relist().finally(() => this.scheduleResync());
    }, this.resyncPeriodMs);
  }

  /** Replace the current ListWatch with a fresh one. Resolves true when the new one listed and is watching. */
  private async startGeneration(why: string): Promise<boolean> {
    if (!this.running) return false;
    if (this.restartTimer !== undefined) {
      this.clock.clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    const gen = ++this.generation;
    const previous = this.current;
    this.current = undefined;
    await previous?.stop().catch(() => undefined);
    if (gen !== this.generation) return false;

    let lw: ListWatchLike<T>;
    try {
      lw = this.factory();
    } catch (e) {
      this.onError(gen, e);
      return false;
    }
    this.current = lw;
    this.generationStartedAt = this.clock.now();
    let errored = false;
    const live = () => gen === this.generation;
    lw.on(k8s.ADD, (obj) => live() && this.upsert(obj));
    lw.on(k8s.UPDATE, (obj) => live() && this.upsert(obj));
    lw.on(k8s.DELETE, (obj) => live() && this.remove(obj));
    lw.on(k8s.ERROR, (err) => {
      if (!live()) return;
      errored = true;
      this.onError(gen, err);
    });
    lw.on(k8s.CONNECT, () => live() && this.log.debug({ generation: gen }, 'watch connected'));
    this.log.debug({ generation: gen, why }, 'starting list+watch');
    try {
      await lw.start();
    } catch (e) {
      if (live()) {
        errored = true;
        this.onError(gen, e);
      }
    }
    if (!live() || errored) return false;
    this.pruneMissing(lw);
    this.lastSyncAt = this.clock.now();
    if (!this.synced) {
      this.synced = true;
      this.log.info({ objects: this.cache.size }, 'informer synced');
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      waiters.forEach((w) => w());
    }
    return true;
  }

  private onError(gen: number, err: unknown): void {
    if (!this.running || gen !== this.generation || this.restartTimer !== undefined) return;
    // A generation that stayed up for a while was healthy: start the backoff over.
    if (this.clock.now() - this.generationStartedAt >= this.backoff.stableAfterMs) this.failures = 0;
    const delay = Math.min(this.backoff.baseDelayMs * 2 ** Math.min(this.failures, 30), this.backoff.maxDelayMs);
    this.failures++;
    this.restarts++;
    this.log.warn({ err, delayMs: delay, failures: this.failures }, 'informer list/watch failed; restarting');
    try {
      this.onRestart?.(this.restarts);
    } catch {
      // metrics hooks must not break the informer
    }
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      void this.startGeneration('restart');
    }, delay);
  }

  /** Objects we still cache but the fresh list does not have were deleted while we were not watching. */
  private pruneMissing(lw: ListWatchLike<T>): void {
    const present = new Set(lw.list().map((o) => objectKey(o)));
    for (const [key, obj] of [...this.cache]) {
      if (!present.has(key)) {
        this.cache.delete(key);
        this.emit((h) => h.delete?.(obj));
      }
    }
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.cache.get(key);
    this.cache.set(key, obj);
    if (!old) this.emit((h) => h.add?.(obj));
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion || !obj.metadata?.resourceVersion) {
      this.emit((h) => h.update?.(obj, old));
    }
  }

  private remove(obj: T): void {
    const key = objectKey(obj);
    // The watch's DELETED object is the final state (with deletionTimestamp), better than our cached copy.
    if (!this.cache.delete(key)) return;
    this.emit((h) => h.delete?.(obj));
  }

  private emitResync(): void {
    for (const obj of this.cache.values()) this.emit((h) => h.resync?.(obj));
  }

  private emit(call: (h: InformerEventHandler<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (e) {
        // A buggy handler must not break the informer (or other handlers).
        this.log.error({ err: e }, 'informer event handler threw');
      }
    }
  }
}
