import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { Controller, type ReconcileContext } from './controller.js';
import { ResourceInformer } from './informer.js';
import { FakeClock, flushAsync } from './clock.js';
import { FakeListWatch, apiError } from './testing.js';
import { TerminalError } from './errors.js';
import { EventRecorder } from './events.js';
import { createMetrics } from '../server/metrics.js';
import type { Request } from './keys.js';

const owner = { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession' };
const ds = (name: string, rv = '1'): KubernetesObject => ({ ...owner, metadata: { name, namespace: 'ns', resourceVersion: rv, uid: `uid-${name}` } });
const pod = (name: string, ownerName: string, rv = '1'): V1ConfigMap => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, ownerReferences: [{ ...owner, name: ownerName, uid: 'u', controller: true }] },
});

function informer<T extends KubernetesObject>(name: string, clock: FakeClock, items: T[]) {
  const made: FakeListWatch<T>[] = [];
  const inf = new ResourceInformer<T>({
    name,
    clock,
    resyncPeriodMs: 0,
    factory: () => {
      const lw = new FakeListWatch<T>(() => items);
      made.push(lw);
      return lw;
    },
  });
  return { inf, lw: () => made.at(-1)! };
}

describe('Controller', () => {
  it('reconciles primary objects and maps owned children to their owner', async () => {
    const clock = new FakeClock();
    const primary = informer('devsessions', clock, [ds('s1'), ds('s2')]);
    const pods = informer('pods', clock, [] as V1ConfigMap[]);
    const seen: string[] = [];
    const c = new Controller({
      name: 'devsession',
      for: primary.inf,
      forType: owner,
      owns: [pods.inf],
      clock,
      reconciler: async (req: Request, ctx: ReconcileContext) => {
        seen.push(`${req.namespace}/${req.name}:${ctx.cached ? 'cached' : 'gone'}`);
      },
    });
    expect(c.informers()).toHaveLength(2);
    primary.inf.start();
    pods.inf.start();
    await primary.inf.waitForSync();
    c.start();
    await flushAsync();
    expect(seen.sort()).toEqual(['ns/s1:cached', 'ns/s2:cached']);
    pods.lw().emit('ADDED', pod('p1', 's2'));
    pods.lw().emit('ADDED', { metadata: { name: 'orphan', namespace: 'ns', resourceVersion: '1' } });
    await flushAsync();
    expect(seen.at(-1)).toBe('ns/s2:cached');
    expect(seen).toHaveLength(3);
    primary.lw().emit('DELETED', ds('s1', '2'));
    await flushAsync();
    expect(seen.at(-1)).toBe('ns/s1:gone');
    expect(await c.stop(1000)).toBe(true);
  });

  it('applies result semantics: requeueAfter, errors with backoff, terminal without retry, conflict immediately', async () => {
    const clock = new FakeClock();
    const primary = informer('devsessions', clock, [ds('s1')]);
    const metrics = createMetrics({ defaultMetrics: false });
    const sink: unknown[] = [];
    const events = new EventRecorder({ sink: { create: async (_ns, e) => sink.push(e) }, reportingInstance: 'test', clock });
    const script: Array<() => unknown> = [
      () => ({ requeueAfter: 10_000 }),
      () => {
        throw new Error('transient');
      },
      () => {
        throw apiError(409, 'Conflict');
      },
      () => {
        throw new TerminalError('InvalidSpec', 'spec.image is empty');
      },
    ];
    const calls: number[] = [];
    const c = new Controller({
      name: 'devsession',
      for: primary.inf,
      clock,
      metrics,
      events,
      backoff: { baseDelayMs: 100 },
      reconciler: {
        reconcile: async () => {
          calls.push(clock.now());
          const step = script.shift();
          return step ? (step() as { requeueAfter?: number }) : undefined;
        },
      },
    });
    primary.inf.start();
    await primary.inf.waitForSync();
    const t0 = clock.now();
    c.start();
    await flushAsync();
    expect(calls).toEqual([t0]); // → requeueAfter 10 s
    await clock.advance(10_000);
    expect(calls).toHaveLength(2); // → transient error: backoff 100 ms
    await clock.advance(99);
    expect(calls).toHaveLength(2);
    await clock.advance(1);
    expect(calls).toHaveLength(4); // → conflict: immediate requeue → terminal
    expect(calls[3]).toBe(calls[2]);
    await clock.advance(600_000);
    expect(calls).toHaveLength(4); // terminal: no retry
    expect(sink).toHaveLength(1);
    expect((sink[0] as { reason: string }).reason).toBe('InvalidSpec');
    const text = await metrics.registry.metrics();
    for (const r of ['requeue', 'error', 'conflict', 'terminal']) {
      expect(text).toContain(`dsa_operator_reconcile_total{controller="devsession",result="${r}"} 1`);
    }
    expect(text).toContain('dsa_operator_reconcile_errors_total{controller="devsession"} 2');
    expect(text).toContain('dsa_operator_workqueue_retries_total{controller="devsession"} 1');
    expect(text).toMatch(/dsa_operator_reconcile_duration_seconds_count\{controller="devsession"\} 4/);
    expect(text).toMatch(/dsa_operator_workqueue_adds_total\{controller="devsession"\} [1-9]/);
    expect(text).toContain('dsa_operator_workqueue_depth{controller="devsession"} 0');
    await c.stop(1000);
  });

  it('persistent conflicts fall back to backoff', async () => {
    const clock = new FakeClock();
    const primary = informer('devsessions', clock, [ds('s1')]);
    let calls = 0;
    const c = new Controller({
      name: 'x',
      for: primary.inf,
      clock,
      maxImmediateConflictRetries: 2,
      backoff: { baseDelayMs: 1000 },
      reconciler: async () => {
        calls++;
        throw apiError(409, 'Conflict');
      },
    });
    primary.inf.start();
    await primary.inf.waitForSync();
    c.start();
    await flushAsync();
    expect(calls).toBe(3);
    await clock.advance(1000);
    expect(calls).toBe(4);
    await c.stop(10);
  });

  it('does not reconcile one key concurrently, and coalesces events during a reconcile', async () => {
    const clock = new FakeClock();
    const primary = informer('devsessions', clock, [ds('s1')]);
    let running = 0;
    let peak = 0;
    let calls = 0;
    let release!: () => void;
    const c = new Controller({
      name: 'x',
      for: primary.inf,
      clock,
      workers: 4,
      reconciler: async () => {
        calls++;
        running++;
        peak = Math.max(peak, running);
        if (calls === 1) await new Promise<void>((r) => (release = r));
        running--;
      },
    });
    primary.inf.start();
    await primary.inf.waitForSync();
    c.start();
    await flushAsync();
    for (let i = 2; i < 10; i++) primary.lw().emit('MODIFIED', ds('s1', String(i)));
    await flushAsync();
    expect(calls).toBe(1);
    release();
    await flushAsync();
    expect(calls).toBe(2);
    expect(peak).toBe(1);
    await c.stop(10);
  });

  it('stop aborts the signal of reconciles that outlive the drain timeout', async () => {
    const clock = new FakeClock();
    const primary = informer('devsessions', clock, [ds('s1')]);
    let signal: AbortSignal | undefined;
    const c = new Controller({
      name: 'x',
      for: primary.inf,
      clock,
      reconciler: async (_req, ctx) => {
        signal = ctx.signal;
        await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));
      },
    });
    primary.inf.start();
    await primary.inf.waitForSync();
    c.start();
    await flushAsync();
    const stopping = c.stop(5000);
    await clock.advance(5000);
    expect(await stopping).toBe(false);
    expect(signal?.aborted).toBe(true);
  });

  it('requires forType for owns', () => {
    const clock = new FakeClock();
    const p = informer('a', clock, []);
    expect(() => new Controller({ name: 'x', for: p.inf, owns: [p.inf], reconciler: async () => undefined })).toThrow(/forType/);
  });
});
