import { afterEach, describe, expect, it } from '@jest/globals';
import type { DevSession } from '@dsa/api';
import { WatchError } from '../kube/watch.js';
import { FakeKube, session } from '../session/fake-kube.test-util.js';
import { tick, until } from './dev-loop.test-util.js';
import { followSession, retryDelay, type FollowOptions } from './session-feed.js';

const ref = { namespace: 'dev', name: 'web' };
// A failed assertion must not leave a follow loop spinning (jest would never finish).
const running: AbortController[] = [];
afterEach(() => {
  for (const c of running.splice(0)) c.abort();
});

/** A followSession run on FakeKube with a clock that only moves when the code sleeps (or the test says). */
function follow(kube: FakeKube, over: Partial<FollowOptions> = {}) {
  const clock = { t: 0 };
  const seen: string[] = [];
  const debug: string[] = [];
  let gone = false;
  const stop = new AbortController();
  running.push(stop);
  const initial = kube.push(session('web'));
  const done = followSession(kube, ref, {
    signal: stop.signal,
    initial,
    onSession: (s) => seen.push(`${s.metadata.resourceVersion}:${s.status?.phase ?? '-'}`),
    onGone: () => (gone = true),
    log: { debug: (m) => debug.push(m) },
    sleep: async (ms) => {
      clock.t += ms;
      await tick();
    },
    now: () => clock.t,
    ...over,
  });
  return { clock, seen, debug, stop, done, initial, gone: () => gone };
}

const phase = (s: DevSession, p: 'Ready' | 'Deploying'): DevSession => ({ ...s, status: { ...s.status, phase: p } });

describe('retryDelay', () => {
  it('doubles from the base up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });
});

describe('followSession', () => {
  it('delivers each new version the watch sends once, starting at the initial resourceVersion', async () => {
    const kube = new FakeKube();
    const f = follow(kube);
    await until('the watch', () => kube.watchers.length === 1);
    expect(kube.watchFrom).toEqual([f.initial.metadata.resourceVersion]);
    const v2 = kube.push(phase(f.initial, 'Deploying'));
    kube.watchers[0]!.opts.onEvent('MODIFIED', structuredClone(v2)); // the same version twice
    kube.push(phase(f.initial, 'Ready'));
    expect(f.seen).toEqual(['102:Deploying', '103:Ready']);
    f.stop.abort();
    await f.done;
  });

  it('watches again from the last version when the server ends a watch', async () => {
    const kube = new FakeKube();
    const f = follow(kube);
    await until('the watch', () => kube.watchers.length === 1);
    kube.push(phase(f.initial, 'Deploying'));
    f.clock.t += 60_000; // the server's timeoutSeconds
    kube.endWatches();
    await until('the second watch', () => kube.watchers.length === 1 && kube.watchFrom.length === 2);
    expect(kube.watchFrom).toEqual(['101', '102']);
    expect(f.debug).toEqual([]);
    f.stop.abort();
    await f.done;
  });

  it('polls while the watch fails and tries it again with backoff', async () => {
    const kube = new FakeKube();
    const f = follow(kube, { pollMs: 2000, retryBaseMs: 1000, retryMaxMs: 30_000 });
    await until('the watch', () => kube.watchers.length === 1);
    kube.watchError = new WatchError('watch: socket hang up');
    kube.endWatches(new WatchError('watch: ECONNRESET'));
    // A change while the watch is down still arrives, through the poll.
    kube.push(phase(f.initial, 'Deploying'));
    await until('the poll to see the change', () => f.seen.length === 1);
    expect(f.seen).toEqual(['102:Deploying']);
    await until('three failed watches', () => kube.watchFrom.length >= 4);
    expect(f.debug.filter((d) => d.startsWith('the DevSession watch failed')).length).toBeGreaterThanOrEqual(3);
    // The watch works again: it resumes from the version the poll saw.
    kube.watchError = undefined;
    await until('a working watch', () => kube.watchers.length === 1);
    expect(kube.watchFrom.at(-1)).toBe('102');
    // The delays between tries grew: 1 s, 2 s, 4 s … (the clock only moved by sleeping).
    expect(f.clock.t).toBeGreaterThanOrEqual(1000 + 2000 + 4000);
    f.stop.abort();
    await f.done;
  });

  it('polls for good when the user may not watch (403)', async () => {
    const kube = new FakeKube();
    kube.watchError = new WatchError('watch refused: HTTP 403: forbidden', 403);
    const f = follow(kube, { pollMs: 2000 });
    await until('some polls', () => f.clock.t >= 20_000);
    expect(kube.watchFrom).toHaveLength(1);
    kube.push(phase(f.initial, 'Ready'));
    await until('the poll to see the change', () => f.seen.length === 1);
    expect(f.debug[0]).toMatch(/^cannot watch DevSession web .*; polling every 2000 ms$/);
    f.stop.abort();
    await f.done;
  });

  it('re-reads and watches from the fresh version when its version expired (410)', async () => {
    const kube = new FakeKube();
    const f = follow(kube);
    await until('the watch', () => kube.watchers.length === 1);
    kube.push(phase(f.initial, 'Ready'));
    kube.endWatches(new WatchError('watch error: too old resource version', 410));
    await until('the second watch', () => kube.watchFrom.length === 2 && kube.watchers.length === 1);
    expect(kube.watchFrom).toEqual(['101', '102']);
    expect(f.clock.t).toBe(0); // no backoff for an expired version
    f.stop.abort();
    await f.done;
  });

  it('ends with onGone when the watch reports the deletion, or a poll finds nothing', async () => {
    const kube = new FakeKube();
    const f = follow(kube);
    await until('the watch', () => kube.watchers.length === 1);
    kube.remove(ref);
    await f.done;
    expect(f.gone()).toBe(true);

    const k2 = new FakeKube();
    k2.watchError = new WatchError('watch: ECONNREFUSED');
    const g = follow(k2);
    k2.sessions.clear();
    await g.done;
    expect(g.gone()).toBe(true);
  });

  it('counts a watch the server ends at once as failed (no hot loop)', async () => {
    const kube = new FakeKube();
    const f = follow(kube, { minWatchMs: 1000, retryBaseMs: 1000 });
    for (let i = 0; i < 3; i++) {
      await until('a watch', () => kube.watchers.length === 1);
      kube.endWatches(); // at once: the clock did not move
    }
    await until('a watch', () => kube.watchers.length === 1);
    expect(f.clock.t).toBeGreaterThanOrEqual(1000 + 2000 + 4000);
    f.stop.abort();
    await f.done;
  });
});

describe('followSession bounds', () => {
  it('a GET that never answers is given up on, and Ctrl-C is not held up by one', async () => {
    const kube = new FakeKube();
    kube.watchError = new WatchError('watch: ECONNREFUSED');
    let gets = 0;
    kube.getSession = () => {
      gets++;
      return new Promise<undefined>(() => undefined); // the apiserver hangs
    };
    const initial = session('web');
    initial.metadata.resourceVersion = '1';
    const debug: string[] = [];
    const stop = new AbortController();
    running.push(stop);
    const done = followSession(kube, ref, { signal: stop.signal, initial, onSession: () => undefined, onGone: () => undefined, log: { debug: (m) => debug.push(m) }, getTimeoutMs: 20, pollMs: 10, retryBaseMs: 10 });
    await until('a GET given up on', () => debug.some((d) => d === 'reading DevSession web: no answer within 20 ms'), 100_000);
    expect(gets).toBeGreaterThanOrEqual(1);
    stop.abort();
    await done; // resolves although a GET is still pending
  });
});
