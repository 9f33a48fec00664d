import { describe, expect, it, jest } from '@jest/globals';
import { LeaderElector, type StoppedReason } from './leader-election.js';
import { FakeClock } from './clock.js';
import { FakeLeaseStore } from './testing.js';

// Fake-clock driven, so fast; the generous timeout only guards against a starved CI machine.
jest.setTimeout(20_000);

const NS = 'dsa-system';
// Deterministic jitter (a fixed LCG sequence per candidate) so every run exercises the same interleaving.
function seeded(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}
const NAME = 'dsa-operator';

function candidate(store: FakeLeaseStore, clock: FakeClock, identity: string, down?: () => boolean) {
  const log: string[] = [];
  let stopped: StoppedReason | undefined;
  const el = new LeaderElector({
    namespace: NS,
    name: NAME,
    identity,
    client: store.client({ down }),
    clock,
    random: seeded(identity.charCodeAt(0)),
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: (r) => {
      stopped = r;
      log.push(`stopped:${r}`);
    },
  });
  const done = el.run();
  return { el, log, done, stopped: () => stopped };
}

describe('LeaderElector', () => {
  it('two candidates: exactly one leads; the lease records holder, times and duration', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, 'a');
    const b = candidate(store, clock, 'b');
    await clock.advanceBy(20_000, 500);
    expect([a.el.isLeader(), b.el.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.el.isLeader() ? a : b;
    const lease = store.peek(NS, NAME)!;
    expect(lease.spec?.holderIdentity).toBe(leader.el.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(15);
    // V1MicroTime wire format: microsecond precision.
    expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    expect(a.el.leader()).toBe(leader.el.identity);
    expect(b.el.leader()).toBe(leader.el.identity);
    await a.el.stop();
    await b.el.stop();
  });

  it('renews every retryPeriod while leading', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    expect(a.el.isLeader()).toBe(true);
    const acquire = store.peek(NS, NAME)!.spec!.acquireTime;
    const writes = store.writes;
    await clock.advanceBy(10_000, 500);
    expect(store.writes - writes).toBe(5);
    expect(store.peek(NS, NAME)!.spec!.acquireTime).toEqual(acquire);
    expect(store.peek(NS, NAME)!.spec!.leaseTransitions).toBe(0);
    await a.el.stop();
  });

  it('leader stops renewing → it gives up after renewDeadline, the other takes over after leaseDuration', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    let aDown = false;
    const a = candidate(store, clock, 'a', () => aDown);
    await clock.advance(0);
    expect(a.el.isLeader()).toBe(true);
    const b = candidate(store, clock, 'b');
    await clock.advanceBy(5000, 500);
    expect(b.el.isLeader()).toBe(false);

    aDown = true; // a is partitioned from the apiserver
    const t0 = clock.now();
    await clock.advanceBy(11_000, 250);
    expect(a.el.isLeader()).toBe(false);
    expect(a.stopped()).toBe('lost');
    await a.done;
    expect(b.el.isLeader()).toBe(false); // lease not expired yet from b's point of view
    let tookOver = 0;
    while (!b.el.isLeader() && clock.now() - t0 < 40_000) await clock.advance(250);
    tookOver = clock.now() - t0;
    // b last saw a renewal at most one retry period before t0; expiry is 15 s after that, plus one retry period.
    expect(tookOver).toBeGreaterThanOrEqual(15_000 - 2_000);
    expect(tookOver).toBeLessThanOrEqual(15_000 + 2_500);
    expect(store.peek(NS, NAME)!.spec!.holderIdentity).toBe('b');
    expect(store.peek(NS, NAME)!.spec!.leaseTransitions).toBe(1);
    await b.el.stop();
  });

  it('graceful stop releases the lease so a standby takes over within a retry period', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    const b = candidate(store, clock, 'b');
    await clock.advanceBy(4000, 500);
    const stopping = a.el.stop();
    await clock.advance(0);
    await stopping;
    expect(a.stopped()).toBe('released');
    expect(store.peek(NS, NAME)!.spec!.holderIdentity).toBe('');
    await clock.advanceBy(2500, 250);
    expect(b.el.isLeader()).toBe(true);
    await b.el.stop();
  });

  it('a leader that sees another holder (lost race on renew) stops leading immediately', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const a = candidate(store, clock, 'a');
    await clock.advance(0);
    // Someone force-writes the lease to another holder (e.g. an admin or a split-brain candidate).
    const intruder = store.client();
    const cur = (await intruder.get(NS, NAME))!;
    await intruder.replace(NS, NAME, { ...cur, spec: { ...cur.spec, holderIdentity: 'x' } });
    await clock.advanceBy(2500, 500);
    expect(a.el.isLeader()).toBe(false);
    expect(a.stopped()).toBe('lost');
  });

  it('conflicting acquisitions: concurrent candidates with stale resourceVersions get 409 and do not lead', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    // Lease exists, expired, held by a dead replica.
    await store.client().create(NS, { metadata: { name: NAME, namespace: NS }, spec: { holderIdentity: 'dead', leaseDurationSeconds: 1 } });
    const cands = ['a', 'b', 'c', 'd'].map((id) => candidate(store, clock, id));
    await clock.advanceBy(30_000, 250);
    expect(cands.filter((c) => c.el.isLeader())).toHaveLength(1);
    await Promise.all(cands.map((c) => c.el.stop()));
  });

  it('a released lease raced by several candidates at once: one wins, the rest get 409', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    await store.client().create(NS, { metadata: { name: NAME, namespace: NS }, spec: { holderIdentity: '', leaseDurationSeconds: 1 } });
    const cands = ['a', 'b', 'c'].map((id) => candidate(store, clock, id));
    await clock.advance(0);
    expect(store.conflicts).toBe(2);
    expect(cands.filter((c) => c.el.isLeader())).toHaveLength(1);
    await clock.advanceBy(20_000, 500);
    expect(cands.filter((c) => c.el.isLeader())).toHaveLength(1);
    await Promise.all(cands.map((c) => c.el.stop()));
  });

  it('rejects inconsistent timings', () => {
    const store = new FakeLeaseStore();
    expect(
      () => new LeaderElector({ namespace: NS, name: NAME, client: store.client(), leaseDurationMs: 5000, renewDeadlineMs: 6000, retryPeriodMs: 1000 }),
    ).toThrow(/leaseDuration > renewDeadline > retryPeriod/);
  });
});
