// The operator's shared cache (controller-runtime's cache.Cache): ONE informer per (resource, namespace,
// label selector), whoever asks for it. Both controllers ask for ImageBuilds, pods, DevSessions through it,
// so each is listed and watched once per namespace scope, and reconcilers read what the controllers watch.
//
// Scope: with no namespaces an informer watches all namespaces; with a list, one informer per namespace
// (what namespaced RBAC allows) behind one MultiNamespaceInformer view, so a controller has one queue
// whatever the scope.
//
// Informers can also be asked for after start (e.g. the pods of a namespace only once a session there has dev
// pods): they are started at once, and the caller waits for their sync.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { InformerEventHandler, InformerStatus, SharedInformer } from './informer.js';
import { silentLogger, type Logger } from '../log.js';

export interface InformerKey {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  /** undefined = all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  labelSelector?: string;
}

export type InformerFactory = (key: InformerKey, name: string) => SharedInformer<any>;

export function informerKeyString(k: InformerKey): string {
  return [k.group, k.version, k.plural, k.namespace ?? '*', k.labelSelector ?? ''].join('|');
}

/** Several informers (one per namespace) seen as one; keys never collide because they carry the namespace. */
export class MultiNamespaceInformer<T extends KubernetesObject> implements SharedInformer<T> {
  onRestart: ((restarts: number) => void) | undefined;

  constructor(
    readonly name: string,
    private readonly parts: ReadonlyMap<string, SharedInformer<T>>,
  ) {
    for (const p of parts.values()) {
      const prev = p.onRestart;
      p.onRestart = () => {
        prev?.(p.status().restarts);
        this.onRestart?.(this.status().restarts);
      };
    }
  }

  addHandler(handler: InformerEventHandler<T>): () => void {
    const offs = [...this.parts.values()].map((p) => p.addHandler(handler));
    return () => offs.forEach((off) => off());
  }

  start(): void {
    for (const p of this.parts.values()) p.start();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.parts.values()].map((p) => p.stop()));
  }

  hasSynced(): boolean {
    return [...this.parts.values()].every((p) => p.hasSynced());
  }

  async waitForSync(timeoutMs?: number): Promise<boolean> {
    const all = await Promise.all([...this.parts.values()].map((p) => p.waitForSync(timeoutMs)));
    return all.every(Boolean);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.parts.get(namespace)?.list(namespace) ?? [];
    return [...this.parts.values()].flatMap((p) => p.list());
  }

  get(namespace: string, name: string): T | undefined {
    return this.parts.get(namespace)?.get(namespace, name);
  }

  keys(): string[] {
    return [...this.parts.values()].flatMap((p) => p.keys());
  }

  /** Whether `namespace` is watched at all (reads outside the scope must go to the API). */
  covers(namespace: string): boolean {
    return this.parts.has(namespace);
  }

  status(): InformerStatus {
    const st = [...this.parts.values()].map((p) => p.status());
    const lastSyncs = st.map((s) => s.lastSyncAt).filter((x): x is number => x !== undefined);
    return {
      synced: st.every((s) => s.synced),
      running: st.every((s) => s.running),
      restarts: st.reduce((n, s) => n + s.restarts, 0),
      failures: st.reduce((n, s) => n + s.failures, 0),
      ...(lastSyncs.length === st.length && lastSyncs.length ? { lastSyncAt: Math.min(...lastSyncs) } : {}),
    };
  }
}

/** Does `informer` hold objects of `namespace`? (An all-namespaces informer holds every namespace.) */
export function coversNamespace(informer: SharedInformer<any>, namespace: string): boolean {
  return informer instanceof MultiNamespaceInformer ? informer.covers(namespace) : true;
}

export interface InformerCacheOptions {
  factory: InformerFactory;
  /** Namespaces in scope; empty/undefined = all. */
  namespaces?: readonly string[];
  logger?: Logger;
}

export class InformerCache {
  private readonly factory: InformerFactory;
  private readonly namespaces: readonly string[];
  private readonly log: Logger;
  private readonly byKey = new Map<string, SharedInformer<any>>();
  private readonly views = new Map<string, SharedInformer<any>>();
  private started = false;

  constructor(opts: InformerCacheOptions) {
    this.factory = opts.factory;
    this.namespaces = [...new Set(opts.namespaces ?? [])];
    this.log = (opts.logger ?? silentLogger()).child({ component: 'cache' });
  }

  /** The scope this cache was built for (empty = all namespaces). */
  scope(): readonly string[] {
    return this.namespaces;
  }

  /** The one informer for exactly `key` (created on first use; started at once if the cache runs). */
  informer<T extends KubernetesObject>(key: InformerKey, name?: string): SharedInformer<T> {
    const k = informerKeyString(key);
    let inf = this.byKey.get(k);
    if (!inf) {
      const label = name ?? `${key.plural}${key.namespace ? `@${key.namespace}` : ''}${key.labelSelector ? `[${key.labelSelector}]` : ''}`;
      inf = this.factory(key, label);
      this.byKey.set(k, inf);
      this.log.debug({ informer: label }, 'informer created');
      if (this.started) inf.start();
    }
    return inf as SharedInformer<T>;
  }

  /**
   * The informer(s) for a resource across the cache's namespace scope: one all-namespaces informer, or one
   * per namespace behind a single view. The same view object for the same arguments.
   */
  scoped<T extends KubernetesObject>(gvr: Omit<InformerKey, 'namespace'>, name: string): SharedInformer<T> {
    const k = informerKeyString({ ...gvr, namespace: '<scope>' });
    let view = this.views.get(k);
    if (!view) {
      if (this.namespaces.length === 0) view = this.informer<T>(gvr, name);
      else {
        const parts = new Map<string, SharedInformer<T>>();
        for (const ns of this.namespaces) parts.set(ns, this.informer<T>({ ...gvr, namespace: ns }, `${name}@${ns}`));
        view = new MultiNamespaceInformer<T>(name, parts);
      }
      this.views.set(k, view);
    }
    return view as SharedInformer<T>;
  }

  /** Every informer created so far (the Manager syncs them before controllers start). */
  informers(): SharedInformer<any>[] {
    return [...this.byKey.values()];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const inf of this.byKey.values()) inf.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.byKey.values()].map((i) => i.stop()));
  }
}
