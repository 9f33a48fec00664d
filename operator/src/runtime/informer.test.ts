import { describe, expect, it } from '@jest/globals';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { ResourceInformer, resourcePath } from './informer.js';
import { FakeClock, flushAsync } from './clock.js';
import { FakeListWatch } from './testing.js';

const cm = (name: string, rv: string, ns = 'ns'): V1ConfigMap => ({ metadata: { name, namespace: ns, resourceVersion: rv } });

function setup(opts: { failStarts?: number; resyncPeriodMs?: number } = {}) {
  const clock = new FakeClock();
  let server: V1ConfigMap[] = [cm('a', '1'), cm('b', '1')];
  let failStarts = opts.failStarts ?? 0;
  const made: FakeListWatch<V1ConfigMap>[] = [];
  const inf = new ResourceInformer<V1ConfigMap>({
    name: 'configmaps',
    clock,
    resyncPeriodMs: opts.resyncPeriodMs ?? 0,
    restartBackoff: { baseDelayMs: 1000, maxDelayMs: 8000, stableAfterMs: 30_000 },
    factory: () => {
      const lw = new FakeListWatch<V1ConfigMap>(
        () => server,
        () => (failStarts-- > 0 ? new Error('list failed') : undefined),
      );
      made.push(lw);
      return lw;
    },
  });
  const events: string[] = [];
  inf.addHandler({
    add: (o) => events.push(`add ${o.metadata!.name}`),
    update: (o) => events.push(`update ${o.metadata!.name}`),
    delete: (o) => events.push(`delete ${o.metadata!.name}`),
    resync: (o) => events.push(`resync ${o.metadata!.name}`),
  });
  return { clock, inf, made, events, setServer: (s: V1ConfigMap[]) => (server = s) };
}

describe('ResourceInformer', () => {
  it('lists, syncs, and mirrors watch events into its cache', async () => {
    const { inf, made, events } = setup();
    inf.start();
    expect(await inf.waitForSync()).toBe(true);
    expect(inf.hasSynced()).toBe(true);
    expect(events).toEqual(['add a', 'add b']);
    made[0]!.emit('MODIFIED', cm('a', '2'));
    made[0]!.emit('MODIFIED', cm('a', '2')); // same RV: no event
    made[0]!.emit('DELETED', cm('b', '3'));
    made[0]!.emit('ADDED', cm('c', '4'));
    expect(events.slice(2)).toEqual(['update a', 'delete b', 'add c']);
    expect(inf.get('ns', 'a')?.metadata?.resourceVersion).toBe('2');
    expect(inf.list().map((o) => o.metadata!.name).sort()).toEqual(['a', 'c']);
    expect(inf.list('other')).toEqual([]);
    await inf.stop();
  });

  it('restarts after an error with capped exponential backoff, and prunes objects deleted meanwhile', async () => {
    const { clock, inf, made, events, setServer } = setup();
    inf.start();
    await inf.waitForSync();
    setServer([cm('a', '5')]); // b deleted and a changed while disconnected
    made[0]!.fail(new Error('connection reset'));
    await flushAsync();
    expect(made).toHaveLength(1);
    await clock.advance(1000);
    expect(made).toHaveLength(2);
    expect(made[0]!.stopped).toBe(true);
    expect(events).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(inf.status().restarts).toBe(1);

    // Quick successive failures back off: 2 s, 4 s, 8 s, 8 s (cap).
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = made.length;
      made.at(-1)!.fail();
      let waited = 0;
      while (made.length === before) {
        await clock.advance(500);
        waited += 500;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([2000, 4000, 8000, 8000]);
    await inf.stop();
  });

  it('resets backoff after a stable period', async () => {
    const { clock, inf, made } = setup();
    inf.start();
    await inf.waitForSync();
    made[0]!.fail();
    await clock.advance(1000);
    made[1]!.fail();
    await clock.advance(1999);
    expect(made).toHaveLength(2);
    await clock.advance(1);
    expect(made).toHaveLength(3);
    await clock.advance(60_000); // healthy for a while
    made[2]!.fail();
    await clock.advance(1000);
    expect(made).toHaveLength(4);
    await inf.stop();
  });

  it('keeps retrying the initial list until it succeeds', async () => {
    const { clock, inf } = setup({ failStarts: 2 });
    inf.start();
    await flushAsync();
    expect(inf.hasSynced()).toBe(false);
    const synced = inf.waitForSync();
    await clock.advance(1000 + 2000);
    expect(await synced).toBe(true);
  });

  it('ignores callbacks of a replaced ListWatch generation', async () => {
    const { clock, inf, made, events } = setup();
    inf.start();
    await inf.waitForSync();
    made[0]!.fail();
    await clock.advance(1000);
    made[0]!.emit('ADDED', cm('ghost', '9'));
    made[0]!.fail(new Error('late abort error'));
    await clock.advance(10_000);
    expect(events).not.toContain('add ghost');
    expect(made).toHaveLength(2);
    await inf.stop();
  });

  it('periodically relists with a fresh watch and delivers resync for every object', async () => {
    const { clock, inf, made, events } = setup({ resyncPeriodMs: 60_000 });
    inf.start();
    await inf.waitForSync();
    await clock.advance(60_000);
    expect(made).toHaveLength(2);
    expect(events.filter((e) => e.startsWith('resync')).sort()).toEqual(['resync a', 'resync b']);
    await clock.advance(60_000);
    expect(made).toHaveLength(3);
    await inf.stop();
    expect(clock.pending()).toBe(0);
  });

  it('waitForSync times out', async () => {
    const { clock, inf } = setup({ failStarts: 100 });
    inf.start();
    const p = inf.waitForSync(5000);
    await clock.advance(5000);
    expect(await p).toBe(false);
    await inf.stop();
  });

  it('builds REST paths for core and grouped resources', () => {
    expect(resourcePath({ group: '', version: 'v1', plural: 'pods', namespace: 'x' })).toBe('/api/v1/namespaces/x/pods');
    expect(resourcePath({ group: 'dsa.dev', version: 'v1alpha1', plural: 'devsessions' })).toBe('/apis/dsa.dev/v1alpha1/devsessions');
  });
});
