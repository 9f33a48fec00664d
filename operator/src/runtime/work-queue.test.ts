import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { WorkQueue, ExponentialBackoff } from './work-queue.js';
import { FakeClock, flushAsync } from './clock.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('dedupes a key added many times', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands out a key in flight; re-add while in flight requeues after done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a'); // dirty while processing
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((v) => (second = v));
    await flushAsync();
    expect(second).toBeUndefined();
    q.done('a');
    await flushAsync();
    expect(second).toBe('a');
  });

  it('done without a re-add does not requeue', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('addAfter fires after the delay and keeps the earliest deadline', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 1000);
    q.addAfter('a', 500);
    q.addAfter('a', 2000);
    expect(q.delayedCount()).toBe(1);
    await clock.advance(499);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await clock.advance(5000);
    expect(q.len()).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('rate-limited adds back off exponentially up to the cap and reset on forget', async () => {
    const clock = new FakeClock();
    const delays: number[] = [];
    const q = new WorkQueue({ clock, backoff: { baseDelayMs: 10, maxDelayMs: 100 }, hooks: { onRetry: (_k, d) => delays.push(d) } });
    for (let i = 0; i < 6; i++) {
      q.addRateLimited('a');
      await clock.advance(1000);
      expect(await q.get()).toBe('a');
      q.done('a');
    }
    expect(delays).toEqual([10, 20, 40, 80, 100, 100]);
    expect(q.numRequeues('a')).toBe(6);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    q.addRateLimited('a');
    expect(delays.at(-1)).toBe(10);
  });

  it('backoff never overflows', () => {
    const b = new ExponentialBackoff({ baseDelayMs: 5, maxDelayMs: 300_000 });
    let last = 0;
    for (let i = 0; i < 2000; i++) last = b.when('k');
    expect(last).toBe(300_000);
  });

  it('runWorkers bounds parallelism across keys', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    let running = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    const done = q.runWorkers(3, async () => {
      running++;
      peak = Math.max(peak, running);
      const d = deferred();
      gates.push(d.resolve);
      await d.promise;
      running--;
    });
    for (const k of ['a', 'b', 'c', 'd', 'e', 'f']) q.add(k);
    await flushAsync();
    expect(running).toBe(3);
    while (gates.length) {
      gates.shift()!();
      await flushAsync();
    }
    expect(peak).toBe(3);
    q.shutdown();
    await done;
    expect(running).toBe(0);
  });

  it('a throwing handler gets its key retried with backoff', async () => {
    const clock = new FakeClock();
    const errors: string[] = [];
    const q = new WorkQueue({ clock, backoff: { baseDelayMs: 100 }, hooks: { onHandlerError: (k) => errors.push(k) } });
    let calls = 0;
    const done = q.runWorkers(1, async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
    });
    q.add('a');
    await flushAsync();
    expect(calls).toBe(1);
    expect(errors).toEqual(['a']);
    await clock.advance(99);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    q.shutdown();
    await done;
  });

  it('shutdown stops handing out keys, drops delayed adds and ignores new adds', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('a');
    q.addAfter('b', 100);
    q.shutdown();
    expect(await q.get()).toBeUndefined();
    q.add('c');
    expect(q.len()).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it('shutdownWithDrain waits for in-flight work, or times out', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const gate = deferred();
    const done = q.runWorkers(2, () => gate.promise);
    q.add('a');
    await flushAsync();
    expect(q.inFlight()).toBe(1);
    const drained = q.shutdownWithDrain(1000);
    await clock.advance(500);
    gate.resolve();
    expect(await drained).toBe(true);
    await done;

    const q2 = new WorkQueue({ clock });
    const never = new Promise<void>(() => undefined);
    void q2.runWorkers(1, () => never);
    q2.add('x');
    await flushAsync();
    const drained2 = q2.shutdownWithDrain(1000);
    await clock.advance(1000);
    expect(await drained2).toBe(false);
  });

  it('reports depth through hooks', async () => {
    const depths: number[] = [];
    const q = new WorkQueue({ clock: new FakeClock(), hooks: { onDepth: (d) => depths.push(d) } });
    q.add('a');
    q.add('b');
    await q.get();
    expect(depths).toEqual([1, 2, 1]);
  });

  it('property: never two in flight for one key; every added key is processed after its last add', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (s, adds, workers) => {
          const q = new WorkQueue({ clock: new FakeClock() });
          const inflight = new Set<string>();
          let violation = '';
          let seq = 0;
          const lastAdd = new Map<string, number>();
          const lastStart = new Map<string, number>();
          const run = q.runWorkers(workers, async (k) => {
            if (inflight.has(k)) violation = `key ${k} handed out twice`;
            inflight.add(k);
            lastStart.set(k, ++seq);
            await s.schedule(Promise.resolve(), `work ${k}`);
            inflight.delete(k);
          });
          // Each add is its own scheduled task, so adds interleave with processing in every possible order.
          for (const k of adds) {
            void s.schedule(Promise.resolve(), `add ${k}`).then(() => {
              lastAdd.set(k, ++seq);
              q.add(k);
            });
          }
          for (let i = 0; i < 50 && (s.count() > 0 || q.len() > 0 || q.inFlight() > 0); i++) {
            await s.waitIdle();
            await flushAsync(2);
          }
          q.shutdown();
          await run;
          if (violation) throw new Error(violation);
          for (const [k, at] of lastAdd) {
            if ((lastStart.get(k) ?? 0) < at) throw new Error(`key ${k} added at ${at} but last started at ${lastStart.get(k)}`);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
