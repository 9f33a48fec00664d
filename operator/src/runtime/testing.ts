// Test doubles shared by runtime tests and available to controller tests: a scriptable fake of client-node's
// ListWatch and an in-memory Lease store with apiserver-like optimistic concurrency.
import type { KubernetesObject, V1Lease } from '@kubernetes/client-node';
import type { ListWatchLike } from './informer.js';
import type { LeaseClient } from './leader-election.js';
import { objectKey } from './keys.js';

type Cb = (arg?: any) => void;

/** An ApiException-shaped error (what client-node throws) for fakes. */
export function apiError(code: number, reason?: string, message = reason ?? `HTTP ${code}`): Error & { code: number; body: unknown } {
  return Object.assign(new Error(`HTTP-Code: ${code}\nMessage: ${message}`), { code, body: { kind: 'Status', code, reason, message } });
}

/**
 * Fake ListWatch. `start()` "lists" `items` (emitting add/update like the real cache) unless `failNextStart` is set,
 * in which case it fires `error` instead. Tests then drive watch events with emit()/fail().
 */
export class FakeListWatch<T extends KubernetesObject> implements ListWatchLike<T> {
  private readonly cbs: Record<string, Cb[]> = { add: [], update: [], delete: [], error: [], connect: [] };
  private readonly objects = new Map<string, T>();
  started = false;
  stopped = false;

  constructor(
    private readonly items: () => T[],
    private readonly failStart?: () => unknown,
  ) {}

  on(verb: string, cb: Cb): void {
    if (verb === 'change') {
      ['add', 'update', 'delete'].forEach((v) => this.cbs[v]!.push(cb));
      return;
    }
    this.cbs[verb]!.push(cb);
  }

  off(verb: string, cb: Cb): void {
    this.cbs[verb] = this.cbs[verb]!.filter((c) => c !== cb);
  }

  async start(): Promise<void> {
    this.started = true;
    await Promise.resolve();
    const err = this.failStart?.();
    if (err) {
      this.fire('error', err);
      return;
    }
    this.fire('connect');
    for (const o of this.items()) this.upsert(o);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): ReadonlyArray<T> {
    return [...this.objects.values()];
  }

  /** Simulate a watch event. */
  emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    if (type === 'DELETED') {
      if (this.objects.delete(objectKey(obj))) this.fire('delete', obj);
    } else this.upsert(obj);
  }

  /** Simulate the watch dying with an error (what 1.4's ListWatch reports, then stays stopped). */
  fail(err: unknown = new Error('watch failed')): void {
    this.fire('error', err);
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.objects.get(key);
    this.objects.set(key, obj);
    if (!old) this.fire('add', obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.fire('update', obj);
  }

  private fire(verb: string, arg?: unknown): void {
    for (const cb of [...this.cbs[verb]!]) cb(arg);
  }
}

/** In-memory Lease store: resourceVersion increments on every write; stale replace → 409; create of existing → 409. */
export class FakeLeaseStore {
  private leases = new Map<string, V1Lease>();
  private rv = 0;
  writes = 0;
  conflicts = 0;

  client(opts: { down?: () => boolean } = {}): LeaseClient {
    const check = () => {
      if (opts.down?.()) throw apiError(503, 'ServiceUnavailable', 'apiserver unreachable');
    };
    return {
      get: async (ns, name) => {
        await Promise.resolve();
        check();
        const l = this.leases.get(`${ns}/${name}`);
        return l ? structuredClone(l) : undefined;
      },
      create: async (ns, lease) => {
        await Promise.resolve();
        check();
        const key = `${ns}/${lease.metadata!.name}`;
        if (this.leases.has(key)) throw apiError(409, 'AlreadyExists', `leases "${lease.metadata!.name}" already exists`);
        return this.store(key, lease);
      },
      replace: async (ns, name, lease) => {
        await Promise.resolve();
        check();
        const key = `${ns}/${name}`;
        const cur = this.leases.get(key);
        if (!cur) throw apiError(404, 'NotFound');
        if (lease.metadata?.resourceVersion !== cur.metadata?.resourceVersion) {
          this.conflicts++;
          throw apiError(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again');
        }
        return this.store(key, lease);
      },
    };
  }

  peek(ns: string, name: string): V1Lease | undefined {
    return this.leases.get(`${ns}/${name}`);
  }

  private store(key: string, lease: V1Lease): V1Lease {
    this.writes++;
    // Round-trip through JSON like the apiserver: V1MicroTime becomes its wire string.
    const stored = JSON.parse(JSON.stringify(lease)) as V1Lease;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.rv) };
    this.leases.set(key, stored);
    return structuredClone(stored);
  }
}
