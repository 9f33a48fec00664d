// DevSession reconciler IN-PROCESS against a real kube-apiserver (control-plane tier: etcd + apiserver +
// controller-manager + scheduler, no kubelet: no pod ever runs, so rollouts never complete and readiness
// comes from objects that are ready on apply — ConfigMaps, Services).
// Env: eval "$(test-e2e/cluster/ensure.sh controlplane)". Everything lives in one throwaway namespace.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { DEVSESSION, GROUP, IMAGEBUILD, VERSION, type DevSession, type DevSessionSpec, type ImageBuild } from '@dsa/api';
import { EventRecorder, eventSinkFromApi, isNotFound } from '../../../operator/src/runtime/index.js';
import { ClientNodeDevSessionKube } from '../../../operator/src/controllers/devsession/kube.js';
import { sessionCondition as cond, startDevSessionHarness, type DevSessionHarness } from '../../lib/devsession-harness.js';
import { grantExtra, waitFor, sleep } from '../../lib/index.js';

jest.setTimeout(120_000);

let h: DevSessionHarness;
/** apply() calls per object name: proves a rejected manifest is not retried in a loop. */
const applyCalls = new Map<string, number>();

beforeAll(async () => {
  h = await startDevSessionHarness('dsa-ds', async (kc, namespace) => {
    // The tag-replacement test deploys a DaemonSet, which the ready-made tenant Role leaves out.
    await grantExtra(kc, namespace, [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] }]);
    const real = new ClientNodeDevSessionKube(kc);
    // Objects are applied as the session's ServiceAccount (kube.as), ImageBuilds as the operator: count both.
    const counting = <K extends { apply: ClientNodeDevSessionKube['apply'] }>(inner: K): K =>
      Object.assign(Object.create(inner) as K, {
        apply: <T extends k8s.KubernetesObject>(o: T) => {
          const n = o.metadata?.name ?? '';
          applyCalls.set(n, (applyCalls.get(n) ?? 0) + 1);
          return inner.apply(o);
        },
      });
    const kube = Object.assign(counting(real), { as: (user: string) => counting(real.as(user)) });
    const events = new EventRecorder({ sink: eventSinkFromApi(kc.makeApiClient(k8s.EventsV1Api)), reportingInstance: 'e2e' });
    return { kube, events, workers: 2 };
  });
});

afterAll(async () => {
  await h?.close();
});

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────────

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {k: v}\n`;
const svc = (name: string, port = 80) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {ports: [{port: ${port}}], selector: {app: ${name}}}\n`;

async function createSession(name: string, spec: Partial<DevSessionSpec>): Promise<void> {
  await h.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: DEVSESSION.plural,
    namespace: h.ns.name,
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: DEVSESSION.kind, metadata: { name }, spec: { project: name, ...spec } },
  });
}

async function patchSpec(name: string, spec: Partial<DevSessionSpec>): Promise<void> {
  await h.custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: h.ns.name, name, body: { spec } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** Wait until the session's Ready/Stalled condition is True for its current generation. */
function waitCondition(name: string, type: 'Ready' | 'Stalled', timeoutMs = 30_000): Promise<DevSession> {
  return waitFor(`${name} ${type}=True`, async () => {
    const s = await h.getSession(name);
    const c = cond(s, type);
    return c?.status === 'True' && c.observedGeneration === s?.metadata.generation ? s : undefined;
  }, { timeoutMs, intervalMs: 200 });
}

async function exists(apiVersion: string, kind: string, name: string): Promise<k8s.KubernetesObject | undefined> {
  try {
    return await h.objects.read({ apiVersion, kind, metadata: { name, namespace: h.ns.name } });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

// ── tests ───────────────────────────────────────────────────────────────────────────────────────────

describe('DevSession reconciler against a real apiserver', () => {
  it('adds the finalizer, applies labelled objects, reports Ready with observedGeneration, and prunes on spec change', async () => {
    await createSession('basic', { owner: { user: 'alice', host: 'laptop' }, deployments: [{ name: 'cfg', kubectl: { manifests: [cm('basic-a') + '---\n' + cm('basic-b'), svc('basic-svc')] } }] });
    const s1 = await waitCondition('basic', 'Ready');
    expect(s1.metadata.finalizers).toContain('dsa.dev/cleanup');
    expect(s1.status).toMatchObject({ phase: 'Ready', observedGeneration: 1, owner: 'alice@laptop', deploymentsReady: '1/1', imagesBuilt: '0/0' });
    expect(s1.status?.inventory?.map((e) => e.name).sort()).toEqual(['basic-a', 'basic-b', 'basic-svc']);
    expect(cond(s1, 'Reconciling')).toMatchObject({ status: 'False', observedGeneration: 1 });
    expect(cond(s1, 'Stalled')).toMatchObject({ status: 'False', observedGeneration: 1 });
    const a = await exists('v1', 'ConfigMap', 'basic-a');
    expect(a?.metadata?.labels).toMatchObject({ 'dsa.dev/session': 'basic', 'dsa.dev/deployment': 'cfg', 'app.kubernetes.io/managed-by': 'dsa' });
    expect(a?.metadata?.managedFields?.some((m) => m.manager === 'dsa-operator' && m.operation === 'Apply')).toBe(true);

    // Spec change: basic-b and the Service disappear from the manifests → pruned; conditions follow generation 2.
    await patchSpec('basic', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('basic-a')] } }] });
    const s2 = await waitFor('generation 2 Ready', async () => {
      const s = await h.getSession('basic');
      const r = cond(s, 'Ready');
      return s?.metadata.generation === 2 && r?.status === 'True' && r.observedGeneration === 2 ? s : undefined;
    });
    expect(s2.status?.observedGeneration).toBe(2);
    expect(s2.status?.inventory?.map((e) => e.name)).toEqual(['basic-a']);
    await waitFor('basic-b and basic-svc pruned', async () => !(await exists('v1', 'ConfigMap', 'basic-b')) && !(await exists('v1', 'Service', 'basic-svc')));
    expect(await exists('v1', 'ConfigMap', 'basic-a')).toBeDefined();
  });

  it('a session waits for its dependency to be Ready; the dependency is applied first', async () => {
    await createSession('dep-b', { dependencies: [{ name: 'dep-a' }], deployments: [{ name: 'b', kubectl: { manifests: [cm('dep-b-cfg')] } }] });
    const waiting = await waitFor('dep-b waiting', async () => {
      const s = await h.getSession('dep-b');
      return cond(s, 'Reconciling')?.reason === 'WaitingForDependencies' ? s : undefined;
    });
    expect(waiting.status).toMatchObject({ phase: 'Pending', dependencies: [{ name: 'dep-a', ready: false, message: 'not found' }] });
    expect(cond(waiting, 'Ready')?.status).toBe('False');
    expect(await exists('v1', 'ConfigMap', 'dep-b-cfg')).toBeUndefined();

    await createSession('dep-a', { deployments: [{ name: 'a', kubectl: { manifests: [cm('dep-a-cfg'), svc('dep-a-svc')] } }] });
    const b = await waitCondition('dep-b', 'Ready');
    expect(b.status?.dependencies).toEqual([{ name: 'dep-a', ready: true, message: 'ready' }]);
    const aObj = await exists('v1', 'ConfigMap', 'dep-a-cfg');
    const bObj = await exists('v1', 'ConfigMap', 'dep-b-cfg');
    // resourceVersions are etcd revisions: a smaller one was written first.
    expect(Number(aObj!.metadata!.resourceVersion)).toBeLessThan(Number(bObj!.metadata!.resourceVersion));
  });

  it('a dependency cycle stalls with DependencyCycle naming the cycle', async () => {
    await createSession('cyc-a', { dependencies: [{ name: 'cyc-b' }], deployments: [{ name: 'x', kubectl: { manifests: [cm('cyc-a-cfg')] } }] });
    await createSession('cyc-b', { dependencies: [{ name: 'cyc-a' }] });
    const s = await waitCondition('cyc-a', 'Stalled');
    expect(cond(s, 'Stalled')).toMatchObject({ reason: 'DependencyCycle', message: 'dependency cycle: cyc-a -> cyc-b -> cyc-a' });
    expect(s.status?.phase).toBe('Failed');
    expect(await exists('v1', 'ConfigMap', 'cyc-a-cfg')).toBeUndefined();
  });

  it('replaces untagged built images in every workload kind (pre-satisfied ImageBuild)', async () => {
    const repo = 'registry.example:5000/team/api';
    const digest = 'sha256:' + 'c'.repeat(64);
    const podSpec = `containers: [{name: main, image: ${repo}}, {name: pinned, image: '${repo}:keep'}]\n      initContainers: [{name: init, image: ${repo}}]\n      restartPolicy: Never`;
    const tpl = (labels: string) => `selector: {matchLabels: {${labels}}}\n  template:\n    metadata: {labels: {${labels}}}\n    spec:\n      ${podSpec.replace('restartPolicy: Never', 'restartPolicy: Always')}`;
    const manifests = [
      `apiVersion: v1\nkind: Pod\nmetadata: {name: tr-pod}\nspec:\n  ${podSpec.replace(/\n {6}/g, '\n  ')}\n`,
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tr-deploy}\nspec:\n  ${tpl('app: tr-deploy')}\n`,
      `apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: tr-sts}\nspec:\n  serviceName: tr-sts\n  ${tpl('app: tr-sts')}\n`,
      `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: tr-ds}\nspec:\n  ${tpl('app: tr-ds')}\n`,
      `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: tr-rs}\nspec:\n  ${tpl('app: tr-rs')}\n`,
      `apiVersion: batch/v1\nkind: Job\nmetadata: {name: tr-job}\nspec:\n  template:\n    spec:\n      ${podSpec}\n`,
      `apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: tr-cron}\nspec:\n  schedule: '0 0 1 1 *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          ${podSpec.replace(/\n {6}/g, '\n          ')}\n`,
    ];
    await createSession('tags', { images: [{ name: 'api', image: repo, context: { upload: { digest } } }], deployments: [{ name: 'workloads', kubectl: { manifests } }] });
    // No ImageBuild controller runs here: play its part by reporting success on the child.
    const ib = await waitFor('ImageBuild tags-api', async () => {
      try {
        return (await h.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: h.ns.name, name: 'tags-api' })) as ImageBuild;
      } catch {
        return undefined;
      }
    });
    expect(ib.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DevSession', name: 'tags', controller: true });
    expect((await h.getSession('tags'))?.status?.phase).toBe('Building');
    const tag = ib.spec.tag!;
    expect(tag).toMatch(/^dsa-/);
    await h.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: h.ns.name, name: 'tags-api',
        body: { status: { observedGeneration: ib.metadata.generation, phase: 'Succeeded', tag, image: `${repo}:${tag}`, digest: 'sha256:' + 'd'.repeat(64) } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    // Rollouts never finish without a kubelet; wait until everything is applied.
    const s = await waitFor('all workloads applied', async () => {
      const x = await h.getSession('tags');
      return x?.status?.inventory?.length === manifests.length ? x : undefined;
    });
    expect(s.status).toMatchObject({ imagesBuilt: '1/1', images: [{ name: 'api', imageBuild: 'tags-api', phase: 'Succeeded', image: `${repo}:${tag}` }] });
    expect(s.status?.phase).toBe('Deploying');
    expect(cond(s, 'Reconciling')?.reason).toBe('RolloutInProgress');
    const podSpecOf: Record<string, (o: any) => any> = {
      Pod: (o) => o.spec,
      Deployment: (o) => o.spec.template.spec,
      StatefulSet: (o) => o.spec.template.spec,
      DaemonSet: (o) => o.spec.template.spec,
      ReplicaSet: (o) => o.spec.template.spec,
      Job: (o) => o.spec.template.spec,
      CronJob: (o) => o.spec.jobTemplate.spec.template.spec,
    };
    const names: Record<string, [string, string]> = {
      Pod: ['v1', 'tr-pod'], Deployment: ['apps/v1', 'tr-deploy'], StatefulSet: ['apps/v1', 'tr-sts'], DaemonSet: ['apps/v1', 'tr-ds'],
      ReplicaSet: ['apps/v1', 'tr-rs'], Job: ['batch/v1', 'tr-job'], CronJob: ['batch/v1', 'tr-cron'],
    };
    for (const [kind, [apiVersion, name]] of Object.entries(names)) {
      const live = await exists(apiVersion, kind, name);
      const spec = podSpecOf[kind]!(live);
      expect({ kind, images: spec.containers.map((c: any) => c.image), init: spec.initContainers.map((c: any) => c.image) }).toEqual({
        kind,
        images: [`${repo}:${tag}`, `${repo}:keep`],
        init: [`${repo}:${tag}`],
      });
    }
  });

  it('a manifest the apiserver rejects stalls with ManifestRejected, is not retried in a loop, and recovers on a spec change', async () => {
    await createSession('rejected', { deployments: [{ name: 'bad', kubectl: { manifests: [cm('rej-ok'), svc('rej-svc', 99999)] } }] });
    const s = await waitCondition('rejected', 'Stalled');
    expect(cond(s, 'Stalled')?.reason).toBe('ManifestRejected');
    expect(cond(s, 'Stalled')?.message).toMatch(/Service .*rej-svc rejected by the apiserver: .*99999/);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ManifestRejected' });
    expect(s.status?.phase).toBe('Failed');
    // Let the pass triggered by our own finalizer patch finish, then nothing may happen any more.
    await sleep(1_500);
    const calls = applyCalls.get('rej-svc') ?? 0;
    expect(calls).toBeLessThanOrEqual(2);
    const rv = (await h.getSession('rejected'))?.metadata.resourceVersion;
    await sleep(6_000);
    expect(applyCalls.get('rej-svc')).toBe(calls);
    expect((await h.getSession('rejected'))?.metadata.resourceVersion).toBe(rv);
    const warnings = await h.kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: h.ns.name, fieldSelector: 'regarding.name=rejected' });
    expect(warnings.items.filter((e) => e.type === 'Warning' && e.reason === 'ManifestRejected')).toHaveLength(1);

    await patchSpec('rejected', { deployments: [{ name: 'bad', kubectl: { manifests: [cm('rej-ok'), svc('rej-svc', 8080)] } }] });
    const fixed = await waitCondition('rejected', 'Ready');
    expect(cond(fixed, 'Stalled')).toMatchObject({ status: 'False', observedGeneration: 2 });
    expect(await exists('v1', 'Service', 'rej-svc')).toBeDefined();
  });

  it('deleting a session removes everything it applied; keepDeployments keeps it', async () => {
    await createSession('del', { deployments: [{ name: 'x', kubectl: { manifests: [cm('del-cfg'), svc('del-svc')] } }] });
    await createSession('keep', { keepDeployments: true, deployments: [{ name: 'x', kubectl: { manifests: [cm('keep-cfg')] } }] });
    await waitCondition('del', 'Ready');
    await waitCondition('keep', 'Ready');
    for (const name of ['del', 'keep']) await h.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: h.ns.name, name });
    await waitFor('sessions gone (finalizer removed)', async () => !(await h.getSession('del')) && !(await h.getSession('keep')));
    await waitFor('del objects deleted', async () => !(await exists('v1', 'ConfigMap', 'del-cfg')) && !(await exists('v1', 'Service', 'del-svc')));
    expect(await exists('v1', 'ConfigMap', 'keep-cfg')).toBeDefined();
  });
});
