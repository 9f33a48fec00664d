// The attacker suite (issue 8, docs/security.md): a tenant who may only create DevSessions in namespace A —
// user `tenant-a` with a namespaced Role, acted as through impersonation (kubectl's --as) — tries each escalation
// the unconfined operator allowed, against the operator with its DEFAULT (confined) settings:
//
//   1. a privileged pod mounting the node's `/`, in kube-system          → refused, nothing in kube-system
//   2. objects in namespace B, and a cluster-scoped ClusterRoleBinding    → refused, nothing in B or the cluster
//   3. a build with namespace B's push secret                             → refused, no ImageBuild or pod in B
//   4. deleting B's Deployment through a forged status.inventory entry    → ignored with a Warning; it survives
//
// Each is refused with a clear reason in the session's status, listing proves nothing was created or deleted
// outside A, and a positive control shows the tenant's normal session still becomes Ready. The operator runs
// in-process (loadConfig defaults, as the other suites start it) and then once more from the chart, confined by
// default, with the chart's own tenant RBAC (tenantNamespaces).
//
// Env: eval "$(make -s cluster-env)" (full node: real pods, Pod Security admission, the local registry, helm).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { DEVSESSION, GROUP, IMAGEBUILD, LABELS, VERSION, type DevSession, type DevSessionSpec, type InventoryEntry } from '@dsa/api';
import { buildOperator, createLogger, loadConfig } from '@dsa/operator';
import { impersonatingKubeConfig } from '../../../operator/src/runtime/impersonation.js';
import type { Condition } from '../../../operator/src/runtime/conditions.js';
import {
  applyCrds,
  buildOperatorImage,
  cleanupAll,
  createTestNamespace,
  e2eOperatorArgs,
  helm,
  helmArgs,
  kubeFromEnv,
  operatorLogs,
  requireEnv,
  waitFor,
  DSA_RESOURCES,
  E2E_SCOPE,
  type TestNamespace,
} from '../../lib/index.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'helm');
const TENANT = 'tenant-a';

let admin: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let custom: k8s.CustomObjectsApi;
let rbac: k8s.RbacAuthorizationV1Api;
const namespaces: TestNamespace[] = [];

const sessionPath = (namespace: string) => ({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace });

/** Namespace A: the tenant's. Pod Security `baseline` enforced, as docs/security.md tells admins to. */
async function tenantNamespace(prefix: string, deployer: boolean): Promise<TestNamespace> {
  const ns = await createTestNamespace(admin, prefix, { 'pod-security.kubernetes.io/enforce': 'baseline' }, { deployer });
  namespaces.push(ns);
  // tenant-a: DevSessions (and their status, which users may write), nothing else.
  await rbac.createNamespacedRole({
    namespace: ns.name,
    body: {
      metadata: { name: 'devsession-author' },
      rules: [
        { apiGroups: [GROUP], resources: [DEVSESSION.plural], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        { apiGroups: [GROUP], resources: [`${DEVSESSION.plural}/status`], verbs: ['get', 'update', 'patch'] },
        { apiGroups: [GROUP], resources: [IMAGEBUILD.plural], verbs: ['get', 'list', 'watch'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns.name,
    body: { metadata: { name: 'devsession-author' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'devsession-author' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: TENANT }] },
  });
  return ns;
}

/** Namespace B: another team's, with a Deployment and a push Secret the tenant wants. */
async function victimNamespace(): Promise<TestNamespace> {
  const ns = await createTestNamespace(admin, 'e2e-victim', {}, { deployer: false });
  namespaces.push(ns);
  await apps.createNamespacedDeployment({
    namespace: ns.name,
    body: {
      metadata: { name: 'b-app', labels: { app: 'b-app' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'b-app' } },
        template: { metadata: { labels: { app: 'b-app' } }, spec: { containers: [{ name: 'main', image: env.testImage, command: ['sleep', '3600'] }] } },
      },
    },
  });
  const auth = Buffer.from('team-b:s3cret').toString('base64');
  await core.createNamespacedSecret({
    namespace: ns.name,
    body: { metadata: { name: 'b-push' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [env.registry]: { auth } } }) } },
  });
  return ns;
}

const cond = (s: DevSession | undefined, type: string) => (s?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

/** The tenant's own client: every call is `Impersonate-User: tenant-a`, authorized by their Role only. */
function tenantApi(): k8s.CustomObjectsApi {
  return impersonatingKubeConfig(admin, TENANT).makeApiClient(k8s.CustomObjectsApi);
}

async function createAsTenant(namespace: string, name: string, spec: Partial<DevSessionSpec>): Promise<void> {
  await tenantApi().createNamespacedCustomObject({
    ...sessionPath(namespace),
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: DEVSESSION.kind, metadata: { name }, spec: { project: name, ...spec } },
  });
}

async function getSession(namespace: string, name: string): Promise<DevSession | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({ ...sessionPath(namespace), name })) as DevSession;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

/** The session once `type` is True for its current generation. */
function waitCondition(namespace: string, name: string, type: 'Ready' | 'Stalled', timeoutMs = 180_000): Promise<DevSession> {
  return waitFor(`${name} ${type}`, async () => {
    const s = await getSession(namespace, name);
    const c = cond(s, type);
    return c?.status === 'True' && c.observedGeneration === s?.metadata.generation ? s : undefined;
  }, { timeoutMs, intervalMs: 500 });
}

const names = (items: Array<{ metadata?: { name?: string } }>) => items.map((i) => i.metadata?.name ?? '').sort();

const privilegedPod = (namespace: string | undefined) => `apiVersion: v1
kind: Pod
metadata:
  name: dsa-pwn
${namespace ? `  namespace: ${namespace}\n` : ''}spec:
  hostPID: true
  containers:
    - name: root
      image: ${env.testImage}
      command: [sleep, '3600']
      securityContext: {privileged: true}
      volumeMounts: [{name: host, mountPath: /host}]
  volumes:
    - name: host
      hostPath: {path: /}
`;

const plainDeployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: main, image: ${env.testImage}, command: [sleep, '3600']}]
`;

beforeAll(async () => {
  admin = kubeFromEnv();
  core = admin.makeApiClient(k8s.CoreV1Api);
  apps = admin.makeApiClient(k8s.AppsV1Api);
  custom = admin.makeApiClient(k8s.CustomObjectsApi);
  rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await applyCrds();
});

afterAll(async () => {
  await cleanupAll(namespaces.map((ns) => () => ns.cleanup({ stripFinalizers: DSA_RESOURCES })));
});

/**
 * The four attacks and the positive control, against whatever operator reconciles namespace `a`. `b` is the
 * victim namespace. `tag` keeps the names of two runs apart.
 */
function attackerScenarios(ctx: () => { a: string; b: string; tag: string; logs: () => Promise<string> }) {
  const withLogs = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- operator logs ---\n${await ctx().logs()}`);
    }
  };

  it('the tenant may create DevSessions in A, and nothing in B (the premise)', async () => {
    const { a, b, tag } = ctx();
    await expect(tenantApi().listNamespacedCustomObject(sessionPath(b))).rejects.toMatchObject({ code: 403 });
    await expect(createAsTenant(b, `nope-${tag}`, {})).rejects.toMatchObject({ code: 403 });
    const tenantCore = impersonatingKubeConfig(admin, TENANT).makeApiClient(k8s.CoreV1Api);
    await expect(tenantCore.listNamespacedPod({ namespace: a })).rejects.toMatchObject({ code: 403 });
  });

  it('positive control: the tenant\'s normal session in A becomes Ready and its Deployment runs', () =>
    withLogs(async () => {
      const { a, tag } = ctx();
      await createAsTenant(a, `ok-${tag}`, { deployments: [{ name: 'web', kubectl: { manifests: [plainDeployment(`web-${tag}`)] } }] });
      const s = await waitCondition(a, `ok-${tag}`, 'Ready');
      expect(s.status?.phase).toBe('Ready');
      const dep = await apps.readNamespacedDeployment({ namespace: a, name: `web-${tag}` });
      expect(dep.status?.availableReplicas).toBe(1);
      expect(dep.metadata?.labels?.[LABELS.sessionUid]).toBe(s.metadata.uid);
    }));

  it('1. a privileged pod mounting the node\'s / in kube-system is refused, naming the object; kube-system is untouched', () =>
    withLogs(async () => {
      const { a, tag } = ctx();
      const before = names((await core.listNamespacedPod({ namespace: 'kube-system' })).items);
      await createAsTenant(a, `pwn-${tag}`, { deployments: [{ name: 'root', kubectl: { manifests: [privilegedPod('kube-system')] } }] });
      const s = await waitCondition(a, `pwn-${tag}`, 'Stalled');
      expect(cond(s, 'Stalled')?.reason).toBe('ObjectNotAllowed');
      expect(s.status?.message).toBe(`deployment root: Pod kube-system/dsa-pwn: objects outside the session's namespace ${a} are not allowed (the operator's allowCrossNamespace is off)`);
      expect(names((await core.listNamespacedPod({ namespace: 'kube-system' })).items)).toEqual(before);
      // …and in its own namespace the same pod meets the namespace's Pod Security level, as the account.
      await createAsTenant(a, `pwn-here-${tag}`, { deployments: [{ name: 'root', kubectl: { manifests: [privilegedPod(undefined)] } }] });
      const here = await waitCondition(a, `pwn-here-${tag}`, 'Stalled');
      expect(here.status?.message).toMatch(/Pod .*dsa-pwn: forbidden: .*violates PodSecurity "baseline:latest"/);
      expect(names((await core.listNamespacedPod({ namespace: a })).items).filter((n) => n === 'dsa-pwn')).toEqual([]);
    }));

  it('2. objects for namespace B and cluster-scoped objects are refused, naming them; nothing appears in B or the cluster', () =>
    withLogs(async () => {
      const { a, b, tag } = ctx();
      const cmsBefore = names((await core.listNamespacedConfigMap({ namespace: b })).items);
      const planted = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted, namespace: ${b}}\ndata: {k: v}\n`;
      await createAsTenant(a, `plant-${tag}`, { deployments: [{ name: 'plant', kubectl: { manifests: [planted] } }] });
      expect((await waitCondition(a, `plant-${tag}`, 'Stalled')).status?.message).toMatch(new RegExp(`^deployment plant: ConfigMap ${b}/planted: objects outside the session's namespace ${a} are not allowed`));
      // The deployment-level namespace is the same thing.
      await createAsTenant(a, `plant2-${tag}`, { deployments: [{ name: 'plant', namespace: b, kubectl: { manifests: ['apiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted2}\ndata: {k: v}\n'] } }] });
      expect((await waitCondition(a, `plant2-${tag}`, 'Stalled')).status?.message).toMatch(new RegExp(`ConfigMap ${b}/planted2: objects outside the session's namespace`));
      const crb = `crb-${tag}`;
      const escalate = `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ${crb}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: ${TENANT}}]\n`;
      await createAsTenant(a, `admin-${tag}`, { deployments: [{ name: 'admin', kubectl: { manifests: [escalate] } }] });
      const s = await waitCondition(a, `admin-${tag}`, 'Stalled');
      expect(cond(s, 'Stalled')?.reason).toBe('ObjectNotAllowed');
      expect(s.status?.message).toBe(`deployment admin: ClusterRoleBinding ${crb}: cluster-scoped objects are not allowed for sessions (the operator's allowClusterScoped is off)`);
      expect(names((await core.listNamespacedConfigMap({ namespace: b })).items)).toEqual(cmsBefore);
      expect(names((await rbac.listClusterRoleBinding()).items)).not.toContain(crb);
    }));

  it('3. a build with namespace B\'s push secret is refused; no ImageBuild and no pod appear in B', () =>
    withLogs(async () => {
      const { a, b, tag } = ctx();
      const podsBefore = names((await core.listNamespacedPod({ namespace: b })).items);
      await createAsTenant(a, `steal-${tag}`, {
        images: [{ name: 'app', image: `${env.registry}/team-b/app`, context: { upload: { digest: `sha256:${'e'.repeat(64)}` } }, builder: { namespace: b }, registry: { pushSecret: 'b-push' } }],
      });
      const s = await waitCondition(a, `steal-${tag}`, 'Stalled');
      expect(cond(s, 'Stalled')?.reason).toBe('ObjectNotAllowed');
      expect(s.status?.message).toBe(`image app: builds outside the session's namespace ${a} are not allowed (builder.namespace ${b}; the operator's allowCrossNamespace is off)`);
      const ibs = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: b })) as { items: unknown[] };
      expect(ibs.items).toEqual([]);
      expect(names((await core.listNamespacedPod({ namespace: b })).items)).toEqual(podsBefore);
      // Nor may extra executor args redirect a build of its own namespace.
      await createAsTenant(a, `redirect-${tag}`, { images: [{ name: 'app', image: `${env.registry}/team-a/app`, context: { upload: { digest: `sha256:${'f'.repeat(64)}` } }, builder: { args: [`--destination=${env.registry}/team-b/app:latest`] } }] });
      const r = await waitCondition(a, `redirect-${tag}`, 'Stalled');
      expect(r.status?.message).toMatch(/image app failed to build: builder arg --destination is not allowed/);
    }));

  it('4. a forged status.inventory entry never deletes B\'s Deployment (nor an object of A it does not own): ignored with a Warning', () =>
    withLogs(async () => {
      const { a, b, tag } = ctx();
      const name = `forge-${tag}`;
      await core.createNamespacedConfigMap({ namespace: a, body: { metadata: { name: `admin-cm-${tag}` }, data: { k: 'v' } } });
      await createAsTenant(a, name, { deployments: [{ name: 'cfg', kubectl: { manifests: [`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: own-${tag}}\ndata: {k: v}\n`] } }] });
      const ready = await waitCondition(a, name, 'Ready');
      const forged: InventoryEntry[] = [
        ...(ready.status?.inventory ?? []),
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: b, name: 'b-app', deployment: 'cfg' },
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: a, name: `admin-cm-${tag}`, deployment: 'cfg' },
      ];
      // Users may write status: the tenant lists objects that are not theirs…
      await tenantApi().patchNamespacedCustomObjectStatus({ ...sessionPath(a), name, body: { status: { inventory: forged } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      // …and changes the spec, so the operator prunes everything no longer rendered.
      await tenantApi().patchNamespacedCustomObject({ ...sessionPath(a), name, body: { spec: { deployments: [{ name: 'cfg', kubectl: { manifests: [`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: own2-${tag}}\ndata: {k: v}\n`] } }] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await waitCondition(a, name, 'Ready');
      const ignored = await waitFor('InventoryEntryIgnored events', async () => {
        const ev = await admin.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: a });
        const notes = ev.items.filter((e) => e.regarding?.name === name && e.reason === 'InventoryEntryIgnored' && e.type === 'Warning').map((e) => e.note ?? '');
        return notes.length >= 2 ? notes.sort() : undefined;
      });
      expect(ignored).toEqual([
        `status.inventory lists ConfigMap ${a}/admin-cm-${tag}, but its labels do not name this session (name, namespace and uid): not deleted`,
        `status.inventory lists Deployment ${b}/b-app, outside the session's namespace ${a}: not deleted`,
      ]);
      // Its own pruned object went; the others stayed.
      await waitFor(`own-${tag} pruned`, async () => !(await core.readNamespacedConfigMap({ namespace: a, name: `own-${tag}` }).then(() => true, () => false)));
      expect((await apps.readNamespacedDeployment({ namespace: b, name: 'b-app' })).metadata?.deletionTimestamp).toBeUndefined();
      expect((await core.readNamespacedConfigMap({ namespace: a, name: `admin-cm-${tag}` })).metadata?.deletionTimestamp).toBeUndefined();
      // Deleting the session, forged entries back in status: cleanup checks the same labels.
      const current = (await getSession(a, name))!;
      await tenantApi().patchNamespacedCustomObjectStatus({ ...sessionPath(a), name, body: { status: { inventory: [...(current.status?.inventory ?? []), ...forged.slice(-2)] } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await tenantApi().deleteNamespacedCustomObject({ ...sessionPath(a), name });
      await waitFor(`${name} gone`, async () => (await getSession(a, name)) === undefined, { timeoutMs: 120_000 });
      expect((await apps.readNamespacedDeployment({ namespace: b, name: 'b-app' })).metadata?.deletionTimestamp).toBeUndefined();
      expect((await core.readNamespacedConfigMap({ namespace: a, name: `admin-cm-${tag}` })).metadata?.deletionTimestamp).toBeUndefined();
      await waitFor(`own2-${tag} deleted with its session`, async () => !(await core.readNamespacedConfigMap({ namespace: a, name: `own2-${tag}` }).then(() => true, () => false)));
    }));
}

describe('confined by default: the operator in-process (loadConfig defaults)', () => {
  let a: TestNamespace;
  let b: TestNamespace;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    a = await tenantNamespace('e2e-tenant', true);
    b = await victimNamespace();
    // The suites' usual flags; nothing about confinement: the defaults are under test. It watches both
    // namespaces, and its own identity (this harness's admin) could do anything: only confinement stops it.
    const cfg = loadConfig({ argv: e2eOperatorArgs(a.name, env, [`--watch-namespace=${a.name},${b.name}`]), env: {} });
    expect(cfg.confinement).toEqual({ impersonate: true, defaultServiceAccount: 'dsa-deployer', allowCrossNamespace: false, allowClusterScoped: false });
    const { manager } = buildOperator(cfg, { kc: admin, log: createLogger({ level: 'warn' }), env: { POD_NAME: `e2e-tenant-${a.name}` } });
    const exited = manager.start();
    stop = async () => {
      await manager.stop();
      await exited;
    };
  });

  afterAll(async () => {
    await stop?.();
  });

  attackerScenarios(() => ({ a: a.name, b: b.name, tag: 'ip', logs: async () => '(in-process operator: see the test output)' }));
});

describe('confined by default: the operator from its chart', () => {
  const release = `dsa-tenant-${randomBytes(3).toString('hex')}`;
  const systemNs = `${release}-sys`;
  let a: TestNamespace;
  let b: TestNamespace;
  let installed = false;

  beforeAll(async () => {
    // No deployer Role from the harness here: the chart's own tenant RBAC (tenantNamespaces) is under test.
    a = await tenantNamespace('e2e-tenant-chart', false);
    b = await victimNamespace();
    const image = await buildOperatorImage();
    // helmArgs sets only names, images, the registry and the scope: confinement is the chart's default.
    const args = helmArgs({ release, namespace: systemNs, image, env, crds: false, watchNamespaces: [a.name, b.name], set: [`tenantNamespaces={${a.name}}`] });
    expect(args.join(' ')).not.toMatch(/confinement|impersonate/);
    await helm(env, args, { timeoutMs: 400_000 });
    installed = true;
  }, 600_000);

  afterAll(async () => {
    await cleanupAll([
      () => installed && helm(env, ['uninstall', release, '--namespace', systemNs, '--wait'], { allowFailure: true }),
      () => core.deleteNamespace({ name: systemNs }).catch(() => undefined),
    ]);
  });

  it('the chart installs the confined operator: impersonation only, the tenant role bound in A, no deploy rights', async () => {
    const manager = await rbac.readClusterRole({ name: `${release}-manager` });
    expect(manager.rules?.some((r) => r.resources?.includes('secrets') || r.resources?.includes('pods/exec') || (r.resources?.includes('pods') && r.verbs.includes('create')))).toBe(false);
    expect((await rbac.listNamespacedRoleBinding({ namespace: a.name })).items.map((r) => r.roleRef.name)).toContain(`${release}-tenant`);
    await expect(rbac.readClusterRole({ name: `${release}-deploy` })).rejects.toMatchObject({ code: 404 });
    expect(E2E_SCOPE).toBeTruthy();
  });

  attackerScenarios(() => ({ a: a.name, b: b.name, tag: 'chart', logs: () => operatorLogs(release, systemNs) }));
});
