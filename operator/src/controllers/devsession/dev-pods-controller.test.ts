// The dev-pods controller: status.pods from pod informers (fake ListWatch, real ResourceInformer), written
// with its own field manager only when the answer changes.
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { DevPodStatus, DevSession } from '@dsa/api';
import { FakeClock, ResourceInformer, flushAsync } from '../../runtime/index.js';
import { FakeListWatch } from '../../runtime/testing.js';
import { DevPodsReconciler, OnDemandPodLister, desiredDevPods, devPodsChanged, samePods, type DevPodsWriter } from './dev-pods-controller.js';

const pod = (name: string, ns: string, phase: string, created: string, image = 'reg/api:v1', labels: Record<string, string> = {}): V1Pod => ({
  metadata: { name, namespace: ns, creationTimestamp: new Date(created), resourceVersion: '1', labels },
  spec: { containers: [{ name: 'side', image: 'busybox' }, { name: 'main', image }] },
  status: { phase, conditions: [{ type: 'Ready', status: 'True' }] },
});

function session(dev: DevSession['spec']['dev'], status?: DevSession['status']): DevSession {
  return { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 's', namespace: 'dev', uid: 'u' }, spec: { project: 's', images: [{ name: 'api', image: 'reg/api', skip: true, tags: ['v1'] }], dev }, status };
}

function setup(s: DevSession, pods: Record<string, V1Pod[]>) {
  const clock = new FakeClock();
  const lws = new Map<string, FakeListWatch<V1Pod>>();
  const informers = new Map<string, ResourceInformer<V1Pod>>();
  const informerFor = (ns: string) => {
    let inf = informers.get(ns);
    if (!inf) {
      inf = new ResourceInformer<V1Pod>({ name: `pods@${ns}`, clock, resyncPeriodMs: 0, factory: () => {
        const lw = new FakeListWatch<V1Pod>(() => pods[ns] ?? []);
        lws.set(ns, lw);
        return lw;
      } });
      informers.set(ns, inf);
    }
    return inf;
  };
  const lister = new OnDemandPodLister(informerFor, 1000);
  const events: string[] = [];
  lister.onPod = (p) => events.push(p.metadata?.name ?? '');
  const writes: Array<DevPodStatus[] | undefined> = [];
  let current = s;
  const writer: DevPodsWriter = {
    applyPods: async (_s, p) => {
      writes.push(p);
      current = { ...current, status: { ...(current.status ?? {}), pods: p } };
      return current;
    },
  };
  const r = new DevPodsReconciler({ reads: { session: () => current, sessionWritten: () => undefined }, pods: lister, writer });
  return { r, writes, events, lws, informers, run: () => r.reconcile({ namespace: 'dev', name: 's' }) };
}

describe('dev-pods controller', () => {
  it('points at the running, ready, newest pod of each dev pod; writes only changes', async () => {
    const h = setup(session({ pods: [{ name: 'api', selector: { imageName: 'api' } }] }), { dev: [pod('old', 'dev', 'Running', '2025-01-01'), pod('new', 'dev', 'Running', '2025-01-02'), pod('pending', 'dev', 'Pending', '2025-01-03')] });
    await h.run();
    expect(h.writes).toEqual([[{ devPod: 'api', pod: 'new', container: 'main', namespace: 'dev' }]]);
    await h.run();
    expect(h.writes).toHaveLength(1);
    // The pod goes away (watch event): the list changes, so one more write.
    h.lws.get('dev')!.emit('DELETED', pod('new', 'dev', 'Running', '2025-01-02'));
    await flushAsync();
    expect(h.events).toContain('new');
    await h.run();
    expect(h.writes.at(-1)).toEqual([{ devPod: 'api', pod: 'old', container: 'main', namespace: 'dev' }]);
  });

  it('starts pod informers only for namespaces dev pods look in; no dev pods, no informer, no write', async () => {
    const h = setup(session({ pods: [{ name: 'db', selector: { namespace: 'data', labelSelector: { app: 'db' } } }] }), { data: [pod('db-0', 'data', 'Running', '2025-01-01', 'postgres', { app: 'db' })] });
    await h.run();
    expect([...h.informers.keys()]).toEqual(['data']);
    expect(h.writes).toEqual([[{ devPod: 'db', pod: 'db-0', container: 'side', namespace: 'data' }]]);
    const none = setup(session(undefined), {});
    await none.run();
    expect(none.informers.size).toBe(0);
    expect(none.writes).toEqual([]);
  });

  it('pure helpers', () => {
    expect(samePods(undefined, [])).toBe(true);
    expect(samePods([{ devPod: 'a', pod: 'p' }], [{ devPod: 'a', pod: 'q' }])).toBe(false);
    expect(desiredDevPods(session({ pods: [{ name: 'api', selector: { imageName: 'api' } }] }), () => [])).toEqual([]);
    const a = session({ pods: [{ name: 'api', selector: { imageName: 'api' } }] }) as unknown as KubernetesObject;
    const b = session({ pods: [{ name: 'api', selector: { imageName: 'api', containerName: 'main' } }] }) as unknown as KubernetesObject;
    expect(devPodsChanged(a, a)).toBe(false);
    expect(devPodsChanged(b, a)).toBe(true);
    expect(devPodsChanged(a)).toBe(true);
  });
});
