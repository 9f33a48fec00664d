// Reads from the informer cache that never go back in time after our own writes.
//
// The cache lags: after we patch an object's status (or its finalizers) the watch event arrives some
// milliseconds later, and a reconcile in between would read the object as it was before our write — compare
// the status it is about to write with a stale one (an extra write), or prune against an old inventory. The
// write's response is the object exactly as stored, so we keep it and serve whichever of (cache, our last
// write) is newer, by resourceVersion. Once the cache has caught up, our copy is dropped.
//
// Why compare resourceVersions: they are etcd revisions, and the apiserver orders them (KEP-5504 makes
// "comparable resource versions" an API guarantee). If one ever does not parse as an integer we fall back to
// equality: our copy is served until the cache shows exactly our write, or for at most `maxAgeMs`.
import type { KubernetesObject } from '@kubernetes/client-node';
import { realClock, type Clock } from './clock.js';
import { keyOf } from './keys.js';
import type { SharedInformer } from './informer.js';

/** a vs b: negative, 0, positive; undefined when either is not a decimal integer. */
export function compareResourceVersions(a: string | undefined, b: string | undefined): number | undefined {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class FreshReader<T extends KubernetesObject> {
  private readonly written = new Map<string, { obj: T; at: number }>();
  private readonly clock: Clock;
  private readonly maxAgeMs: number;

  constructor(
    private readonly informer: SharedInformer<T>,
    opts: { clock?: Clock; maxAgeMs?: number } = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.maxAgeMs = opts.maxAgeMs ?? 30_000;
    // A deletion ends any claim of ours; an update equal to our write means the cache caught up.
    informer.addHandler({
      delete: (o) => this.written.delete(keyOf({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' })),
      update: (o) => this.settle(o),
      add: (o) => this.settle(o),
    });
  }

  get(namespace: string, name: string): T | undefined {
    const key = keyOf({ namespace, name });
    const cached = this.informer.get(namespace, name);
    const mine = this.written.get(key);
    if (!mine) return cached;
    if (!cached || cached.metadata?.uid !== mine.obj.metadata?.uid) {
      this.written.delete(key);
      return cached;
    }
    const cmp = compareResourceVersions(mine.obj.metadata?.resourceVersion, cached.metadata?.resourceVersion);
    const ours = cmp === undefined ? mine.obj.metadata?.resourceVersion !== cached.metadata?.resourceVersion && this.clock.now() - mine.at < this.maxAgeMs : cmp > 0;
    if (ours) return mine.obj;
    this.written.delete(key);
    return cached;
  }

  /** The object as a write of ours returned it (ignored when it carries no resourceVersion). */
  recordWrite(obj: T | undefined): void {
    if (!obj?.metadata?.name || !obj.metadata.resourceVersion) return;
    this.written.set(keyOf({ namespace: obj.metadata.namespace ?? '', name: obj.metadata.name }), { obj, at: this.clock.now() });
  }

  /** Objects we wrote that the cache has not shown yet (diagnostics, tests). */
  pending(): number {
    return this.written.size;
  }

  private settle(o: T): void {
    const key = keyOf({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });
    const mine = this.written.get(key);
    if (!mine) return;
    const cmp = compareResourceVersions(mine.obj.metadata?.resourceVersion, o.metadata?.resourceVersion);
    if (cmp === undefined ? mine.obj.metadata?.resourceVersion === o.metadata?.resourceVersion : cmp <= 0) this.written.delete(key);
  }
}
