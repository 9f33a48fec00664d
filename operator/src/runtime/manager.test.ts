import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { Manager } from './manager.js';
import { Controller } from './controller.js';
import { ResourceInformer } from './informer.js';
import { FakeClock, flushAsync } from './clock.js';
import { FakeListWatch, FakeLeaseStore } from './testing.js';
import { createMetrics } from '../server/metrics.js';

const obj = (name: string): KubernetesObject => ({ metadata: { name, namespace: 'ns', resourceVersion: '1' } });

function build(clock: FakeClock, store: FakeLeaseStore | undefined, identity: string, opts: { failList?: boolean } = {}) {
  const reconciled: string[] = [];
  const inf = new ResourceInformer<KubernetesObject>({
    name: 'things',
    clock,
    resyncPeriodMs: 0,
    factory: () => new FakeListWatch(() => [obj('a')], () => (opts.failList ? new Error('no list') : undefined)),
  });
  const controller = new Controller({ name: 'things', for: inf, clock, reconciler: async (req) => void reconciled.push(req.name) });
  const mgr = new Manager({
    clock,
    http: false,
    metrics: createMetrics({ defaultMetrics: false }),
    leaderElection: store ? { namespace: 'ns', name: 'lease', identity, client: store.client() } : false,
    syncTimeoutMs: 10_000,
  });
  mgr.add(controller);
  return { mgr, controller, reconciled };
}

describe('Manager', () => {
  it('without leader election: syncs, starts controllers, is ready; stop resolves exit code 0', async () => {
    const clock = new FakeClock();
    const { mgr, reconciled } = build(clock, undefined, 'x');
    expect(mgr.readiness().ready).toBe(false);
    const exit = mgr.start();
    await flushAsync();
    expect(reconciled).toEqual(['a']);
    expect(mgr.readiness()).toMatchObject({ ready: true, reasons: [] });
    await mgr.stop();
    expect(await exit).toEqual({ reason: 'stopped', exitCode: 0 });
  });

  it('only the leader runs controllers; graceful stop hands over to the standby', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const a = build(clock, store, 'a');
    const b = build(clock, store, 'b');
    const exitA = a.mgr.start();
    await clock.advance(0);
    const exitB = b.mgr.start();
    await clock.advanceBy(4000, 500);
    expect(a.mgr.isLeader()).toBe(true);
    expect(b.mgr.isLeader()).toBe(false);
    expect(a.reconciled).toEqual(['a']);
    expect(b.reconciled).toEqual([]);
    expect(b.mgr.readiness().ready).toBe(true); // standby is ready by default
    expect(await a.mgr.metrics.registry.getSingleMetricAsString('dsa_operator_leader')).toContain('dsa_operator_leader 1');

    const stopA = a.mgr.stop('signal', { signal: 'SIGTERM' });
    await clock.advance(0);
    expect(await stopA).toMatchObject({ reason: 'signal', exitCode: 0, signal: 'SIGTERM' });
    expect(await exitA).toMatchObject({ reason: 'signal' });
    expect(store.peek('ns', 'lease')?.spec?.holderIdentity).toBe('');
    await clock.advanceBy(3000, 250);
    expect(b.mgr.isLeader()).toBe(true);
    expect(b.reconciled).toEqual(['a']);
    void b.mgr.stop();
    await clock.advance(0);
    await exitB;
  });

  it('losing leadership stops everything and exits non-zero', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const a = build(clock, store, 'a');
    const exit = a.mgr.start();
    await clock.advance(0);
    expect(a.mgr.isLeader()).toBe(true);
    const c = store.client();
    const cur = (await c.get('ns', 'lease'))!;
    await c.replace('ns', 'lease', { ...cur, spec: { ...cur.spec, holderIdentity: 'usurper' } });
    await clock.advanceBy(3000, 500);
    expect(await exit).toEqual({ reason: 'leadership-lost', exitCode: 1 });
  });

  it('gives up with sync-timeout when informers never sync, and reports why in readiness', async () => {
    const clock = new FakeClock();
    const { mgr } = build(clock, undefined, 'x', { failList: true });
    const exit = mgr.start();
    await clock.advance(1);
    expect(mgr.readiness().reasons).toContain('informer things not synced');
    await clock.advanceBy(10_000, 1000);
    expect(await exit).toEqual({ reason: 'sync-timeout', exitCode: 1 });
  });

  it('handleSignals wires SIGTERM to a graceful stop', async () => {
    const clock = new FakeClock();
    const { mgr } = build(clock, undefined, 'x');
    const handlers = new Map<string, (s: NodeJS.Signals) => void>();
    const fakeProc = {
      once: (ev: string, fn: (s: NodeJS.Signals) => void) => void handlers.set(ev, fn),
      off: (ev: string) => void handlers.delete(ev),
    } as unknown as Pick<NodeJS.Process, 'once' | 'off'>;
    const remove = mgr.handleSignals(fakeProc);
    const exit = mgr.start();
    await flushAsync();
    handlers.get('SIGTERM')!('SIGTERM');
    expect(await exit).toEqual({ reason: 'signal', exitCode: 0, signal: 'SIGTERM' });
    remove();
    expect(handlers.size).toBe(0);
  });
});
