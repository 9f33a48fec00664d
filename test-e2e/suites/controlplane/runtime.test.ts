// Controller runtime against a REAL kube-apiserver (control-plane tier: etcd + apiserver + controller-manager,
// no kubelet). Env contract: KUBECONFIG from `eval "$(test-e2e/cluster/ensure.sh controlplane)"`.
// Everything lives in a throwaway namespace (and a throwaway CRD widgets.test.dsa.dev), removed in afterAll.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import {
  ResourceInformer,
  LeaderElector,
  leaseClientFromApi,
  Manager,
  Controller,
  EventRecorder,
  eventSinkFromApi,
  patchStatus,
  setCondition,
  ObjectApplier,
  ensureFinalizer,
  removeFinalizer,
  customObjectJsonPatcher,
  ConflictError,
  isNotFound,
  createMetrics,
  type ListWatchLike,
} from '../../../operator/src/runtime/index.js';
import { scopeLabels } from '../../lib/scope.js';

jest.setTimeout(90_000);

const NS = `dsa-rt-${randomBytes(3).toString('hex')}`;
const GROUP = 'test.dsa.dev';
const CRD_NAME = `widgets.${GROUP}`;

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;

async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  if (!process.env.KUBECONFIG) throw new Error('KUBECONFIG not set: run eval "$(test-e2e/cluster/ensure.sh controlplane)" first');
  kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  core = kc.makeApiClient(k8s.CoreV1Api);
  // The suites' scope label (test-e2e/lib/scope.ts): an installed operator keeps out of this namespace.
  await core.createNamespace({ body: { metadata: { name: NS, labels: scopeLabels() } } });
});

afterAll(async () => {
  await core?.deleteNamespace({ name: NS }).catch(() => undefined);
});

describe('informer against a real apiserver', () => {
  it('sees create, update and delete of a ConfigMap', async () => {
    const inf = ResourceInformer.forResource<k8s.V1ConfigMap>(kc, { group: '', version: 'v1', plural: 'configmaps', namespace: NS }, {});
    const events: string[] = [];
    inf.addHandler({
      add: (o) => o.metadata?.name === 'cm1' && events.push(`add:${o.data?.k}`),
      update: (o) => o.metadata?.name === 'cm1' && events.push(`update:${o.data?.k}`),
      delete: (o) => o.metadata?.name === 'cm1' && events.push('delete'),
    });
    inf.start();
    try {
      expect(await inf.waitForSync(20_000)).toBe(true);
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm1' }, data: { k: '1' } } });
      await waitFor('add', () => events.includes('add:1'));
      expect(inf.get(NS, 'cm1')?.data?.k).toBe('1');
      await core.patchNamespacedConfigMap(
        { namespace: NS, name: 'cm1', body: { data: { k: '2' } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await waitFor('update', () => events.includes('update:2'));
      await core.deleteNamespacedConfigMap({ namespace: NS, name: 'cm1' });
      await waitFor('delete', () => events.includes('delete'));
      expect(inf.get(NS, 'cm1')).toBeUndefined();
    } finally {
      await inf.stop();
    }
  });

  it('restarts after its watch is aborted and catches up on changes made meanwhile', async () => {
    const made: ListWatchLike<k8s.V1ConfigMap>[] = [];
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    const list = () => core.listNamespacedConfigMap({ namespace: NS });
    let failNextList = false;
    const inf = new ResourceInformer<k8s.V1ConfigMap>({
      name: 'configmaps-restart',
      restartBackoff: { baseDelayMs: 200, maxDelayMs: 1000 },
      factory: () => {
        const lw = k8s.makeInformer<k8s.V1ConfigMap>(kc, path, async () => {
          if (failNextList) {
            failNextList = false;
            throw new Error('injected list failure');
          }
          return list();
        });
        made.push(lw);
        return lw;
      },
    });
    const seen = new Set<string>();
    const deleted = new Set<string>();
    inf.addHandler({ add: (o) => seen.add(o.metadata!.name!), delete: (o) => deleted.add(o.metadata!.name!) });
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'before' } } });
    inf.start();
    try {
      await inf.waitForSync(20_000);
      await waitFor('initial', () => seen.has('before'));

      // Kill the watch connection the way a network failure would; also fail the first relist attempt.
      failNextList = true;
      const request = (made[0] as unknown as { request?: AbortController }).request;
      expect(request).toBeDefined();
      request!.abort();
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'during' } } });
      await core.deleteNamespacedConfigMap({ namespace: NS, name: 'before' });

      await waitFor('restart + catch-up', () => seen.has('during') && deleted.has('before'));
      expect(inf.status().restarts).toBeGreaterThanOrEqual(1);
      expect(made.length).toBeGreaterThanOrEqual(2);
      // And the new watch delivers live events.
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after' } } });
      await waitFor('live after restart', () => seen.has('after'));
    } finally {
      await inf.stop();
    }
  });
});

describe('leader election on a real Lease', () => {
  it('two managers: exactly one leads; graceful stop fails over fast; a crashed leader is replaced after the lease expires', async () => {
    const coord = kc.makeApiClient(k8s.CoordinationV1Api);
    const leaseName = 'runtime-e2e';
    const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

    const makeManager = (identity: string) => {
      const reconciled: string[] = [];
      const inf = ResourceInformer.forResource<k8s.V1ConfigMap>(kc, { group: '', version: 'v1', plural: 'configmaps', namespace: NS }, {});
      const controller = new Controller({ name: `cm-${identity}`, for: inf, reconciler: async (req) => void reconciled.push(req.name) });
      const mgr = new Manager({
        http: false,
        metrics: createMetrics({ defaultMetrics: false }),
        leaderElection: { namespace: NS, name: leaseName, identity, client: leaseClientFromApi(coord), ...timings },
        drainTimeoutMs: 2000,
      });
      mgr.add(controller);
      return { mgr, reconciled, exit: mgr.start() };
    };

    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'le-probe' } } });
    const a = makeManager('mgr-a');
    const b = makeManager('mgr-b');
    await waitFor('a leader', () => a.mgr.isLeader() || b.mgr.isLeader());
    await new Promise((r) => setTimeout(r, 1500)); // several renew cycles
    expect([a.mgr.isLeader(), b.mgr.isLeader()].filter(Boolean)).toHaveLength(1);
    const [leader, standby] = a.mgr.isLeader() ? [a, b] : [b, a];
    await waitFor('leader reconciles', () => leader.reconciled.includes('le-probe'));
    expect(standby.reconciled).toEqual([]);
    const lease = await coord.readNamespacedLease({ namespace: NS, name: leaseName });
    expect(lease.spec?.holderIdentity).toBe(leader === a ? 'mgr-a' : 'mgr-b');

    // Graceful stop releases the Lease: the standby takes over within ~ a retry period, not a lease duration.
    const t0 = Date.now();
    expect(await leader.mgr.stop('signal', { signal: 'SIGTERM' })).toMatchObject({ exitCode: 0 });
    await waitFor('standby takes over', () => standby.mgr.isLeader(), 5000);
    expect(Date.now() - t0).toBeLessThan(2500);
    await waitFor('new leader reconciles', () => standby.reconciled.includes('le-probe'));

    // A crashed leader (no release): a plain elector takes over only after the lease duration.
    const crashed = new LeaderElector({ namespace: NS, name: `${leaseName}-crash`, identity: 'crashy', client: leaseClientFromApi(coord), releaseOnStop: false, ...timings });
    void crashed.run();
    await waitFor('crashy leads', () => crashed.isLeader());
    await crashed.stop(); // stops renewing, keeps the Lease
    const t1 = Date.now();
    const next = new LeaderElector({ namespace: NS, name: `${leaseName}-crash`, identity: 'next', client: leaseClientFromApi(coord), ...timings });
    void next.run();
    await waitFor('next leads after expiry', () => next.isLeader(), 10_000);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(2500);
    await next.stop();
    await standby.mgr.stop();
  });
});

describe('status SSA, apply, finalizers and events on a throwaway CRD', () => {
  const ext = () => kc.makeApiClient(k8s.ApiextensionsV1Api);
  const custom = () => kc.makeApiClient(k8s.CustomObjectsApi);
  const ref = { group: GROUP, version: 'v1', kind: 'Widget', plural: 'widgets', namespace: NS, name: 'w1' };

  beforeAll(async () => {
    await ext()
      .createCustomResourceDefinition({
        body: {
          metadata: { name: CRD_NAME },
          spec: {
            group: GROUP,
            scope: 'Namespaced',
            names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
            versions: [
              {
                name: 'v1',
                served: true,
                storage: true,
                subresources: { status: {} },
                schema: {
                  openAPIV3Schema: {
                    type: 'object',
                    properties: {
                      spec: { type: 'object', properties: { size: { type: 'integer' } } },
                      status: {
                        type: 'object',
                        properties: {
                          observedGeneration: { type: 'integer', format: 'int64' },
                          conditions: {
                            type: 'array',
                            x_kubernetes_list_type: 'map',
                            x_kubernetes_list_map_keys: ['type'],
                            items: {
                              type: 'object',
                              required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
                              properties: {
                                type: { type: 'string' },
                                status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
                                observedGeneration: { type: 'integer', format: 'int64' },
                                lastTransitionTime: { type: 'string', format: 'date-time' },
                                reason: { type: 'string' },
                                message: { type: 'string' },
                              },
                            },
                          },
                        },
                      },
                    },
                  },
                },
              },
            ],
          },
        },
      })
      .catch((e) => {
        if ((e as { code?: number }).code !== 409) throw e;
      });
    await waitFor('CRD established', async () => {
      const crd = await ext().readCustomResourceDefinition({ name: CRD_NAME });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  });

  afterAll(async () => {
    await ext().deleteCustomResourceDefinition({ name: CRD_NAME }).catch(() => undefined);
  });

  it('applies a new CR kind via KubernetesObjectApi SSA (discovery after the CRD was installed)', async () => {
    const applier = ObjectApplier.fromKubeConfig(kc);
    // The CRD's discovery can lag its Established condition by a moment.
    const applied = await waitFor('apply', async () =>
      applier.apply({ apiVersion: `${GROUP}/v1`, kind: 'Widget', metadata: { name: 'w1', namespace: NS }, spec: { size: 1 } } as k8s.KubernetesObject).catch(() => undefined),
    );
    expect((applied as unknown as { spec: { size: number } }).spec.size).toBe(1);
    expect(applied.metadata?.managedFields?.some((f) => f.manager === 'dsa-operator' && f.operation === 'Apply')).toBe(true);
  });

  it('applies objects raw: CRD enums, x-kubernetes-* keys and unknown fields survive (client-node\'s typed serializer drops them)', async () => {
    const applier = ObjectApplier.fromKubeConfig(kc);
    const name = `gadgets${randomBytes(2).toString('hex')}.${GROUP}`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name },
      spec: {
        group: GROUP,
        names: { kind: 'Gadget', plural: name.split('.')[0], singular: 'gadget' },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    'x-kubernetes-validations': [{ rule: 'self.size <= 10', message: 'size at most 10' }],
                    properties: {
                      size: { type: 'integer' },
                      mode: { type: 'string', enum: ['fast', 'slow'] },
                      tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                    },
                  },
                },
              },
            },
          },
        ],
      },
    };
    try {
      await applier.apply(crd as unknown as k8s.KubernetesObject);
      const stored = await ext().readCustomResourceDefinition({ name });
      const spec = stored.spec.versions[0]?.schema?.openAPIV3Schema?.properties?.spec;
      expect(spec?.properties?.mode?._enum).toEqual(['fast', 'slow']);
      expect(spec?.x_kubernetes_validations?.[0]?.rule).toBe('self.size <= 10');
      expect(spec?.properties?.tags?.x_kubernetes_list_type).toBe('set');
    } finally {
      await ext().deleteCustomResourceDefinition({ name }).catch(() => undefined);
    }
  });

  it('writes status through /status with server-side apply', async () => {
    const cr = (await custom().getNamespacedCustomObject(ref)) as k8s.KubernetesObject;
    const conditions = setCondition([], { type: 'Ready', status: 'True', reason: 'Ready', message: 'all good' }, cr.metadata?.generation, Date.now());
    const out = (await patchStatus(custom(), ref, { observedGeneration: cr.metadata?.generation, conditions })) as {
      status: { conditions: Array<{ type: string; status: string }> };
      metadata: k8s.V1ObjectMeta;
    };
    expect(out.status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True' })]);
    expect(out.metadata.managedFields?.some((f) => f.manager === 'dsa-operator' && f.subresource === 'status' && f.operation === 'Apply')).toBe(true);
    // Re-applying a different condition set replaces what we own (SSA semantics: send the full status).
    const again = (await patchStatus(custom(), ref, {
      observedGeneration: cr.metadata?.generation,
      conditions: setCondition(conditions, { type: 'Stalled', status: 'False', reason: 'Fine' }, cr.metadata?.generation, Date.now()),
    })) as { status: { conditions: Array<{ type: string }> } };
    expect(again.status.conditions.map((c) => c.type).sort()).toEqual(['Ready', 'Stalled']);
  });

  it('adds and removes a finalizer with guarded JSON patches; a stale object yields ConflictError', async () => {
    const F = 'widgets.test.dsa.dev/finalizer';
    const patch = customObjectJsonPatcher(custom(), ref);
    const stale = (await custom().getNamespacedCustomObject(ref)) as k8s.KubernetesObject;
    expect(await ensureFinalizer(stale, F, patch)).toBe(true);
    // `stale` has no finalizers and an old resourceVersion: the test op must fail and map to ConflictError.
    await expect(ensureFinalizer(stale, 'other.dsa.dev/f', patch)).rejects.toBeInstanceOf(ConflictError);
    const fresh = (await custom().getNamespacedCustomObject(ref)) as k8s.KubernetesObject;
    expect(fresh.metadata?.finalizers).toEqual([F]);
    expect(await removeFinalizer(fresh, F, patch)).toBe(true);
    await expect(removeFinalizer(fresh, F, patch)).rejects.toBeInstanceOf(ConflictError);
    const after = (await custom().getNamespacedCustomObject(ref)) as k8s.KubernetesObject;
    expect(after.metadata?.finalizers ?? []).toEqual([]);
  });

  it('records events.k8s.io/v1 events regarding the object', async () => {
    const cr = (await custom().getNamespacedCustomObject(ref)) as k8s.KubernetesObject;
    const events = kc.makeApiClient(k8s.EventsV1Api);
    const rec = new EventRecorder({ sink: eventSinkFromApi(events), reportingInstance: 'runtime-e2e' });
    expect(await rec.recordOnce(cr, 'Ready', { type: 'Normal', reason: 'WidgetReady', action: 'Reconcile', note: 'widget is ready' })).toBe(true);
    expect(await rec.recordOnce(cr, 'Ready', { type: 'Normal', reason: 'WidgetReady', action: 'Reconcile', note: 'widget is ready' })).toBe(false);
    expect(await rec.event(cr, { type: 'Warning', reason: 'WidgetWobbly', action: 'Reconcile', note: 'x' })).toBe(true);
    const list = await events.listNamespacedEvent({ namespace: NS });
    const mine = list.items.filter((e) => e.regarding?.uid === cr.metadata?.uid);
    expect(mine.map((e) => e.reason).sort()).toEqual(['WidgetReady', 'WidgetWobbly']);
    expect(mine[0]).toMatchObject({ reportingController: 'dsa.dev/operator', reportingInstance: 'runtime-e2e' });
    // A failing write (e.g. namespace gone) resolves false instead of throwing.
    const bad = new EventRecorder({ sink: eventSinkFromApi(events), reportingInstance: 'x' });
    expect(await bad.event({ ...cr, metadata: { ...cr.metadata, namespace: 'no-such-ns-zz' } }, { type: 'Normal', reason: 'R', action: 'A', note: 'n' })).toBe(false);
  });

  it('maps a missing object to isNotFound', async () => {
    const e = await custom()
      .getNamespacedCustomObject({ ...ref, name: 'nope' })
      .then(() => undefined, (err: unknown) => err);
    expect(isNotFound(e)).toBe(true);
  });
});
