import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ResourceInformer } from './informer.js';
import { InformerCache, MultiNamespaceInformer, coversNamespace, informerKeyString, type InformerKey } from './informer-cache.js';
import { FreshReader, compareResourceVersions } from './fresh-read.js';
import { FakeClock, flushAsync } from './clock.js';
import { FakeListWatch } from './testing.js';

const obj = (ns: string, name: string, rv = '1', uid = `uid-${name}`): KubernetesObject => ({ metadata: { name, namespace: ns, resourceVersion: rv, uid } });

/** A cache whose informers list from `server` (per namespace) and record what was created. */
function setup(namespaces?: string[]) {
  const clock = new FakeClock();
  const server: KubernetesObject[] = [obj('a', 'x'), obj('b', 'y'), obj('c', 'z')];
  const created: InformerKey[] = [];
  const lws = new Map<string, FakeListWatch<KubernetesObject>>();
  const cache = new InformerCache({
    namespaces,
    factory: (key, name) => {
      created.push(key);
      return new ResourceInformer<KubernetesObject>({
        name,
        clock,
        resyncPeriodMs: 0,
        factory: () => {
          const lw = new FakeListWatch<KubernetesObject>(() => server.filter((o) => !key.namespace || o.metadata?.namespace === key.namespace));
          lws.set(informerKeyString(key), lw);
          return lw;
        },
      });
    },
  });
  return { cache, created, lws, clock };
}

const gvr = { group: 'dsa.dev', version: 'v1alpha1', plural: 'devsessions' };

describe('InformerCache', () => {
  it('one informer per resource, namespace and selector, shared by everyone who asks', () => {
    const { cache, created } = setup();
    const a = cache.scoped(gvr, 'devsessions');
    const b = cache.scoped(gvr, 'devsessions');
    const c = cache.informer({ ...gvr });
    const d = cache.scoped({ ...gvr, labelSelector: '!dsa.dev/operator-scope' }, 'scoped');
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(d).not.toBe(a);
    expect(created).toHaveLength(2);
  });

  it('a namespace scope gives one informer per namespace behind one view', async () => {
    const { cache, created } = setup(['a', 'b']);
    const view = cache.scoped<KubernetesObject>(gvr, 'devsessions');
    expect(view).toBeInstanceOf(MultiNamespaceInformer);
    expect(created.map((k) => k.namespace)).toEqual(['a', 'b']);
    const seen: string[] = [];
    view.addHandler({ add: (o) => seen.push(`${o.metadata?.namespace}/${o.metadata?.name}`) });
    cache.start();
    expect(await view.waitForSync(1000)).toBe(true);
    expect(seen.sort()).toEqual(['a/x', 'b/y']);
    expect(view.get('b', 'y')?.metadata?.name).toBe('y');
    expect(view.get('c', 'z')).toBeUndefined();
    expect(view.list().map((o) => o.metadata?.name).sort()).toEqual(['x', 'y']);
    expect(view.list('a').map((o) => o.metadata?.name)).toEqual(['x']);
    expect(coversNamespace(view, 'a')).toBe(true);
    expect(coversNamespace(view, 'c')).toBe(false);
    expect(view.status()).toMatchObject({ synced: true, running: true });
    await cache.stop();
    expect(view.status().running).toBe(false);
  });

  it('an informer asked for after start is started at once', async () => {
    const { cache } = setup();
    cache.start();
    const late = cache.informer<KubernetesObject>({ group: '', version: 'v1', plural: 'pods', namespace: 'c' });
    expect(await late.waitForSync(1000)).toBe(true);
    expect(late.list().map((o) => o.metadata?.name)).toEqual(['z']);
    await cache.stop();
  });
});

describe('FreshReader', () => {
  it('compares resourceVersions as integers', () => {
    expect(compareResourceVersions('9', '10')).toBeLessThan(0);
    expect(compareResourceVersions('100', '99')).toBeGreaterThan(0);
    expect(compareResourceVersions('7', '7')).toBe(0);
    expect(compareResourceVersions('abc', '7')).toBeUndefined();
  });

  it('serves our own write until the cache shows it (or something newer), never an older cached copy', async () => {
    const clock = new FakeClock();
    let lw!: FakeListWatch<KubernetesObject>;
    const inf = new ResourceInformer<KubernetesObject>({ name: 't', clock, resyncPeriodMs: 0, factory: () => (lw = new FakeListWatch(() => [obj('ns', 's', '10')])) });
    const reader = new FreshReader(inf, { clock });
    inf.start();
    await inf.waitForSync();
    reader.recordWrite({ ...obj('ns', 's', '12'), status: { mine: true } } as KubernetesObject);
    expect((reader.get('ns', 's') as { status?: unknown }).status).toEqual({ mine: true });
    // An older event (someone else's write at 11) arrives first: ours is still newer.
    lw.emit('MODIFIED', obj('ns', 's', '11'));
    await flushAsync();
    expect(reader.get('ns', 's')?.metadata?.resourceVersion).toBe('12');
    // The watch delivers our write: the cache is current again and our copy is dropped.
    lw.emit('MODIFIED', obj('ns', 's', '12'));
    await flushAsync();
    expect(reader.pending()).toBe(0);
    expect(reader.get('ns', 's')?.metadata?.resourceVersion).toBe('12');
    // A delete ends any claim; a recreated object (new uid) is never confused with ours.
    reader.recordWrite(obj('ns', 's', '20'));
    lw.emit('DELETED', obj('ns', 's', '21'));
    await flushAsync();
    expect(reader.get('ns', 's')).toBeUndefined();
    lw.emit('ADDED', obj('ns', 's', '5', 'other-uid'));
    reader.recordWrite(obj('ns', 's', '30'));
    expect(reader.get('ns', 's')?.metadata?.uid).toBe('other-uid');
    await inf.stop();
  });
});
