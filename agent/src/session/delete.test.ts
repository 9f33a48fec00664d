import { describe, expect, it } from '@jest/globals';
import { ClusterError } from '../errors.js';
import { deleteSessions, describeInventory } from './delete.js';
import { FakeKube, fakeTime, session } from './fake-kube.test-util.js';

const inventory = [
  { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'dev', name: 'api', deployment: 'api' },
  { apiVersion: 'v1', kind: 'Service', namespace: 'dev', name: 'api', deployment: 'api' },
];

describe('describeInventory', () => {
  it('names the objects, eliding after max', () => {
    expect(describeInventory(inventory)).toBe('Deployment api, Service api');
    expect(describeInventory(inventory, 1)).toBe('Deployment api and 1 more');
  });
});

describe('deleteSessions', () => {
  it('deletes in the given order, waits until each is gone and reports its inventory', async () => {
    const kube = new FakeKube();
    for (const name of ['root', 'dep']) kube.sessions.set(`dev/${name}`, { ...session(name), status: { phase: 'Ready', inventory } });
    // The fake operator: a deleted session shows Deleting once, then is gone.
    const seen = new Map<string, number>();
    kube.onGetSession = (ref, s) => {
      if (!s?.metadata.deletionTimestamp) return s;
      const n = (seen.get(ref.name) ?? 0) + 1;
      seen.set(ref.name, n);
      return n < 2 ? { ...s, status: { ...s.status, phase: 'Deleting' } } : undefined;
    };
    const t = fakeTime();
    const removed = await deleteSessions(kube, [{ namespace: 'dev', name: 'root' }, { namespace: 'dev', name: 'dep' }], { timeoutMs: 60_000, signal: new AbortController().signal, log: () => undefined, ...t });
    expect(kube.calls).toEqual(['delete dev/root', 'delete dev/dep']);
    expect(removed.map((r) => [r.ref.name, r.inventory.length, r.kept])).toEqual([
      ['root', 2, false],
      ['dep', 2, false],
    ]);
  });

  it('--keep-deployments sets spec.keepDeployments before deleting', async () => {
    const kube = new FakeKube();
    kube.sessions.set('dev/root', session('root'));
    kube.onGetSession = (_ref, s) => (s?.metadata.deletionTimestamp ? undefined : s);
    const t = fakeTime();
    const removed = await deleteSessions(kube, [{ namespace: 'dev', name: 'root' }], { keepDeployments: true, timeoutMs: 60_000, signal: new AbortController().signal, log: () => undefined, ...t });
    expect(kube.calls).toEqual(['keep dev/root true', 'delete dev/root']);
    expect(removed[0]?.kept).toBe(true);
  });

  it('skips sessions that do not exist', async () => {
    const kube = new FakeKube();
    const lines: string[] = [];
    const removed = await deleteSessions(kube, [{ namespace: 'dev', name: 'gone' }], { timeoutMs: 1, signal: new AbortController().signal, log: (l) => lines.push(l) });
    expect(removed).toEqual([]);
    expect(lines).toEqual(['DevSession dev/gone does not exist']);
  });

  it('says there is no operator when nothing ever marks the session Deleting', async () => {
    const kube = new FakeKube();
    kube.sessions.set('dev/root', session('root'));
    const t = fakeTime();
    const err = await deleteSessions(kube, [{ namespace: 'dev', name: 'root' }], { timeoutMs: 300_000, signal: new AbortController().signal, log: () => undefined, ...t }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as Error).message).toMatch(/^no dsa operator is reconciling DevSessions in this cluster/);
  });
});
