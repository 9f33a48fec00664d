// charts/dsa-operator: `helm lint` and `helm template` with default values and variants, asserting the rendered
// objects (RBAC rules, CRDs by flag, keep annotation, deployment wiring) and that the chart's CRD copy equals the
// generated crds/. Needs a helm binary: DSA_HELM, or `helm` on PATH. Missing helm is a failure, not a skip.
import { describe, expect, test, beforeAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

const REPO = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const CHART = join(REPO, 'charts/dsa-operator');

function findHelm(): string | undefined {
  const fromEnv = process.env.DSA_HELM;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, 'helm');
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

const HELM = findHelm();

interface K8sObj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [k: string]: any;
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function helm(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(HELM!, args, { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: '/tmp/dsa-chart-test/cache', HELM_CONFIG_HOME: '/tmp/dsa-chart-test/config' } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

// `helm template` has no cluster to ask; render for the Kubernetes version we test against rather than helm's
// build-time default (1.20 for a helm built with plain `go install`).
const KUBE_VERSION = ['--kube-version', '1.33.0'];

function render(set: string[] = [], namespace = 'dsa-system', extra: string[] = []): K8sObj[] {
  const args = ['template', 'dsa-operator', CHART, '--namespace', namespace, ...KUBE_VERSION, ...extra];
  for (const s of set) args.push('--set', s);
  const r = helm(args);
  if (r.status !== 0) throw new Error(`helm template failed (${set.join(' ')}):\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObj | null)
    .filter((o): o is K8sObj => o !== null && typeof o === 'object');
}

function renderFails(set: string[]): string {
  const args = ['template', 'dsa-operator', CHART, '--namespace', 'dsa-system', ...KUBE_VERSION];
  for (const s of set) args.push('--set', s);
  const r = helm(args);
  expect(r.status).not.toBe(0);
  return r.stderr;
}

const find = (objs: K8sObj[], kind: string, name?: string) =>
  objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objs: K8sObj[], kind: string, name?: string): K8sObj => {
  const found = find(objs, kind, name);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}${name ? ' ' + name : ''}, found ${found.length}`);
  return found[0]!;
};

/** Does some rule grant `verb` on `group`/`resource`? */
function allows(rules: Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

const container = (objs: K8sObj[]) => one(objs, 'Deployment').spec.template.spec.containers[0];
const envOf = (objs: K8sObj[]) => Object.fromEntries((container(objs).env as any[]).map((e) => [e.name, e]));

beforeAll(() => {
  if (!HELM) {
    throw new Error('helm not found: set DSA_HELM to a helm v3 binary or put helm on PATH (`make` passes DSA_HELM from test-e2e/cluster/env.sh)');
  }
});

describe('helm lint', () => {
  test('default values lint cleanly in strict mode', () => {
    const r = helm(['lint', '--strict', CHART]);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });

  test('values.schema.json rejects unknown keys, bad enums and the latest tag', () => {
    expect(helm(['lint', CHART, '--set', 'nosuchkey=1']).status).not.toBe(0);
    expect(renderFails(['logLevel=verbose'])).toMatch(/logLevel/);
    expect(renderFails(['image.tag=latest'])).toMatch(/tag/);
    expect(renderFails(['metrics.port=70000'])).toMatch(/port/);
    expect(renderFails(['watchNamespaces={Bad_NS}'])).toMatch(/watchNamespaces/);
  });

  test('values.schema.json rejects wrong types', () => {
    expect(renderFails(['concurrency=abc'])).toMatch(/concurrency/);
    expect(renderFails(['tenantNamespaces=x'])).toMatch(/tenantNamespaces/);
    expect(renderFails(['metrics.service.annotations=x'])).toMatch(/annotations/);
  });
});

describe('helm template with default values', () => {
  let objs: K8sObj[];
  beforeAll(() => {
    objs = render();
  });

  test('renders the expected set of objects', () => {
    const kinds = objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        'ClusterRole/dsa-operator-impersonate',
        'ClusterRole/dsa-operator-manager',
        'ClusterRole/dsa-operator-tenant',
        'ClusterRoleBinding/dsa-operator-impersonate',
        'ClusterRoleBinding/dsa-operator-manager',
        'CustomResourceDefinition/devsessions.dsa.dev',
        'CustomResourceDefinition/imagebuilds.dsa.dev',
        'Deployment/dsa-operator',
        'Role/dsa-operator-info-reader',
        'Role/dsa-operator-leader-election',
        'RoleBinding/dsa-operator-info-reader',
        'RoleBinding/dsa-operator-leader-election',
        'Service/dsa-operator-metrics',
        'ServiceAccount/dsa-operator',
      ].sort(),
    );
    for (const o of objs) {
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
      expect(o.metadata.labels?.['helm.sh/chart']).toMatch(/^dsa-operator-\d+\.\d+\.\d+/);
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('dsa-operator');
    }
    for (const kind of ['Deployment', 'ServiceAccount', 'Service', 'Role', 'RoleBinding']) {
      for (const o of find(objs, kind)) expect(o.metadata.namespace).toBe('dsa-system');
    }
  });

  test('info reader: every authenticated user may get the dsa-operator-info ConfigMap, nothing else', () => {
    const role = find(objs, 'Role').find((r) => r.metadata.name === 'dsa-operator-info-reader')!;
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['dsa-operator-info'], verbs: ['get'] }]);
    const binding = find(objs, 'RoleBinding').find((r) => r.metadata.name === 'dsa-operator-info-reader')!;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dsa-operator-info-reader' });
    expect(binding.subjects).toEqual([{ kind: 'Group', name: 'system:authenticated', apiGroup: 'rbac.authorization.k8s.io' }]);
  });

  test('deployment: image, args, probes, downward-API env, hardening, /tmp emptyDir', () => {
    const chart = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8'));
    const dep = one(objs, 'Deployment');
    const c = container(objs);
    expect(c.image).toBe(`ghcr.io/dsa-dev/dsa-operator:${chart.appVersion}`);
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.strategy.type).toBe('RollingUpdate');
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--metrics-bind-address=:8080',
        '--leader-elect=true',
        '--leader-election-namespace=$(POD_NAMESPACE)',
        '--watch-namespace=',
        '--scope=',
        '--watch-label-selector=',
        '--concurrency=4',
        '--log-level=info',
        // Confined by default (docs/security.md).
        '--impersonate=true',
        '--default-service-account=dsa-deployer',
        '--allow-cross-namespace=false',
        '--allow-cluster-scoped=false',
        '--allowed-builder-images=',
        '--max-build-context=1Gi',
        '--insecure-registries=',
        '--allow-internal-hosts=',
      ]),
    );
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    const env = envOf(objs);
    expect(env.POD_NAME.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(env.POD_NAMESPACE.valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
    expect(env.DSA_KANIKO_IMAGE).toBeUndefined();
    const pod = dep.spec.template.spec;
    expect(pod.serviceAccountName).toBe('dsa-operator');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(65532);
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }]);
    // Selector labels must be a subset of the pod labels, and stable (no version in them).
    const sel = dep.spec.selector.matchLabels;
    expect(Object.keys(sel).sort()).toEqual(['app.kubernetes.io/instance', 'app.kubernetes.io/name']);
    for (const [k, v] of Object.entries(sel)) expect(dep.spec.template.metadata.labels[k]).toBe(v);
  });

  test('manager ClusterRole (confined): its kinds, informer reads, events — no pod writes, no exec, no Secrets', () => {
    const rules: Rule[] = one(objs, 'ClusterRole', 'dsa-operator-manager').rules;
    for (const r of ['devsessions', 'imagebuilds']) {
      for (const v of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) expect(allows(rules, 'dsa.dev', r, v)).toBe(true);
      expect(allows(rules, 'dsa.dev', `${r}/status`, 'patch')).toBe(true);
      expect(allows(rules, 'dsa.dev', `${r}/status`, 'update')).toBe(true);
      expect(allows(rules, 'dsa.dev', `${r}/finalizers`, 'update')).toBe(true);
    }
    // Informers only: build pods and workloads are created, exec'd and read as the session's account.
    for (const v of ['get', 'list', 'watch']) expect(allows(rules, '', 'pods', v)).toBe(true);
    for (const v of ['create', 'update', 'patch', 'delete']) expect(allows(rules, '', 'pods', v)).toBe(false);
    for (const r of ['pods/log', 'pods/exec', 'secrets', 'configmaps', 'services']) {
      for (const v of ['get', 'create', 'list']) expect({ r, v, ok: allows(rules, '', r, v) }).toEqual({ r, v, ok: false });
    }
    expect(allows(rules, 'events.k8s.io', 'events', 'create')).toBe(true);
    expect(allows(rules, 'events.k8s.io', 'events', 'patch')).toBe(true);
    // Scope: namespaces' scope labels are read (labelled ones only, by the operator); never written.
    for (const v of ['get', 'list', 'watch']) expect(allows(rules, '', 'namespaces', v)).toBe(true);
    for (const v of ['create', 'update', 'patch', 'delete']) expect(allows(rules, '', 'namespaces', v)).toBe(false);
    // Nothing beyond these groups, and no wildcards.
    expect([...new Set(rules.flatMap((r) => r.apiGroups))].sort()).toEqual(['', 'dsa.dev', 'events.k8s.io']);
    for (const r of rules) {
      expect(r.verbs).not.toContain('*');
      expect(r.resources).not.toContain('*');
      expect(r.apiGroups).not.toContain('*');
    }
    const binding = one(objs, 'ClusterRoleBinding', 'dsa-operator-manager');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'dsa-operator-manager' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'dsa-operator', namespace: 'dsa-system' }]);
  });

  test('impersonation: only serviceaccounts, only the impersonate verb; no deploy role at all', () => {
    expect(one(objs, 'ClusterRole', 'dsa-operator-impersonate').rules).toEqual([{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] }]);
    expect(one(objs, 'ClusterRoleBinding', 'dsa-operator-impersonate').subjects).toEqual([{ kind: 'ServiceAccount', name: 'dsa-operator', namespace: 'dsa-system' }]);
    expect(find(objs, 'ClusterRole', 'dsa-operator-deploy')).toHaveLength(0);
    expect(find(objs, 'ClusterRoleBinding', 'dsa-operator-deploy')).toHaveLength(0);
  });

  test('tenant ClusterRole is files/tenant-rules.yaml, bound nowhere until tenantNamespaces or an admin binds it', () => {
    const want = parseYaml(readFileSync(join(CHART, 'files/tenant-rules.yaml'), 'utf8')) as Rule[];
    const rules: Rule[] = one(objs, 'ClusterRole', 'dsa-operator-tenant').rules;
    expect(rules).toEqual(want);
    for (const v of ['create', 'patch', 'delete']) expect(allows(rules, 'apps', 'deployments', v)).toBe(true);
    expect(allows(rules, '', 'pods/exec', 'create')).toBe(true);
    expect(allows(rules, '', 'secrets', 'get')).toBe(true);
    expect(allows(rules, '', 'secrets', 'list')).toBe(false);
    expect(find(objs, 'RoleBinding', 'dsa-operator-tenant')).toHaveLength(0);
  });

  test('the README\'s ready-made tenant Role is exactly files/tenant-rules.yaml', () => {
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((y) => y.includes('kind: Role\n'));
    expect(block).toBeDefined();
    const role = parseAllDocuments(block!).map((d) => d.toJS() as K8sObj).find((o) => o.kind === 'Role')!;
    expect(role.rules).toEqual(parseYaml(readFileSync(join(CHART, 'files/tenant-rules.yaml'), 'utf8')));
  });

  test('leader-election Role is namespaced to the release namespace and covers leases', () => {
    const role = one(objs, 'Role', 'dsa-operator-leader-election');
    expect(role.metadata.namespace).toBe('dsa-system');
    for (const v of ['get', 'create', 'update']) expect(allows(role.rules, 'coordination.k8s.io', 'leases', v)).toBe(true);
    // …and the operator-info ConfigMap (`dsa version --cluster`), in that namespace only.
    for (const v of ['get', 'create', 'patch']) expect(allows(role.rules, '', 'configmaps', v)).toBe(true);
    expect(role.rules).toHaveLength(2);
    const rb = one(objs, 'RoleBinding', 'dsa-operator-leader-election');
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'dsa-operator-leader-election' });
  });

  test('metrics Service targets the http port of the operator pods', () => {
    const svc = one(objs, 'Service');
    expect(svc.spec.ports).toEqual([{ name: 'http-metrics', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    expect(svc.spec.selector).toEqual(one(objs, 'Deployment').spec.selector.matchLabels);
  });

  test('CRDs carry helm.sh/resource-policy: keep and chart labels', () => {
    for (const crd of find(objs, 'CustomResourceDefinition')) {
      expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
      expect(crd.metadata.labels?.['app.kubernetes.io/name']).toBe('dsa-operator');
      expect(crd.spec.group).toBe('dsa.dev');
    }
  });
});

describe('CRDs', () => {
  const topLevel = join(REPO, 'crds');
  const inChart = join(CHART, 'files/crds');
  const yamlFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort() : []);

  test('the chart copy (charts/dsa-operator/files/crds) equals the generated crds/ (run `make chart-crds`)', () => {
    const want = yamlFiles(topLevel);
    expect(want.length).toBeGreaterThanOrEqual(2);
    expect(yamlFiles(inChart)).toEqual(want);
    for (const f of want) {
      expect({ file: f, content: readFileSync(join(inChart, f), 'utf8') }).toEqual({ file: f, content: readFileSync(join(topLevel, f), 'utf8') });
    }
  });

  test('rendering through fromYaml/toYaml keeps every CRD spec intact', () => {
    const rendered = find(render(), 'CustomResourceDefinition');
    const sources = yamlFiles(inChart).map((f) => parseYaml(readFileSync(join(inChart, f), 'utf8')) as K8sObj);
    expect(rendered.map((c) => c.metadata.name).sort()).toEqual(sources.map((c) => c.metadata.name).sort());
    for (const src of sources) {
      const out = rendered.find((c) => c.metadata.name === src.metadata.name)!;
      expect(out.spec).toEqual(src.spec);
      expect(out.apiVersion).toBe(src.apiVersion);
      for (const [k, v] of Object.entries(src.metadata.annotations ?? {})) expect(out.metadata.annotations?.[k]).toBe(v);
    }
  });

  test('crds.enabled=false renders no CRDs; crds.keep=false drops the keep annotation', () => {
    expect(find(render(['crds.enabled=false']), 'CustomResourceDefinition')).toHaveLength(0);
    const crds = find(render(['crds.keep=false']), 'CustomResourceDefinition');
    expect(crds).toHaveLength(yamlFiles(inChart).length);
    for (const crd of crds) expect(crd.metadata.annotations?.['helm.sh/resource-policy']).toBeUndefined();
  });
});

describe('helm template variants', () => {
  test('tenantNamespaces: the default ServiceAccount (no token) and a RoleBinding to the tenant role in each', () => {
    const objs = render(['tenantNamespaces={team-a,team-b}']);
    const sas = find(objs, 'ServiceAccount', 'dsa-deployer');
    expect(sas.map((s) => s.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    for (const sa of sas) expect(sa.automountServiceAccountToken).toBe(false);
    const rbs = find(objs, 'RoleBinding', 'dsa-operator-tenant');
    expect(rbs.map((r) => r.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    for (const rb of rbs) {
      expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'dsa-operator-tenant' });
      expect(rb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'dsa-deployer', namespace: rb.metadata.namespace }]);
    }
    const extra = render(['tenantRole.extraRules[0].apiGroups={apps}', 'tenantRole.extraRules[0].resources={daemonsets}', 'tenantRole.extraRules[0].verbs={create,patch}']);
    expect(allows(one(extra, 'ClusterRole', 'dsa-operator-tenant').rules, 'apps', 'daemonsets', 'create')).toBe(true);
  });

  test('tenantNamespaces needs the tenant role and confinement: without them nothing is created there', () => {
    for (const off of ['tenantRole.create=false', 'confinement.impersonate=false', 'rbac.create=false']) {
      const objs = render(['tenantNamespaces={team-a}', off]);
      expect(objs.filter((o) => o.metadata?.namespace === 'team-a')).toEqual([]);
    }
  });

  test('sidecar.image reaches the operator as DSA_SIDECAR_IMAGE; empty = not set', () => {
    expect(envOf(render(['sidecar.image=reg/dsa-sidecar:1'])).DSA_SIDECAR_IMAGE.value).toBe('reg/dsa-sidecar:1');
    expect(envOf(render()).DSA_SIDECAR_IMAGE?.value ?? '').toBe('');
  });

  test('watchNamespaces: impersonation is granted only in those namespaces', () => {
    const objs = render(['watchNamespaces={team-a,team-b}']);
    expect(find(objs, 'ClusterRoleBinding', 'dsa-operator-impersonate')).toHaveLength(0);
    expect(find(objs, 'RoleBinding', 'dsa-operator-impersonate').map((r) => r.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
  });

  test('confinement, builder, registry and network values reach the operator; the schema checks them', () => {
    const c = container(
      render([
        'confinement.defaultServiceAccount=deployer',
        'confinement.allowCrossNamespace=true',
        'confinement.allowClusterScoped=true',
        'builder.allowedImages={mirror/kaniko:1,mirror/kaniko:2}',
        'builder.maxContextSize=2Gi',
        'registries.insecure={192.0.2.2:5000,registry.local}',
        'network.allowInternalHosts={10.0.0.0/8,git.local:8080}',
      ]),
    );
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--default-service-account=deployer',
        '--allow-cross-namespace=true',
        '--allow-cluster-scoped=true',
        '--allowed-builder-images=mirror/kaniko:1,mirror/kaniko:2',
        '--max-build-context=2Gi',
        '--insecure-registries=192.0.2.2:5000,registry.local',
        '--allow-internal-hosts=10.0.0.0/8,git.local:8080',
      ]),
    );
    expect(renderFails(['registries.insecure={http://reg:5000}'])).toMatch(/insecure/);
    expect(renderFails(['confinement.defaultServiceAccount=Bad_Name'])).toMatch(/defaultServiceAccount/);
    expect(renderFails(['builder.maxContextSize=lots'])).toMatch(/maxContextSize/);
  });

  test('unconfined mode (confinement.impersonate=false): the deploy role, build-pod rights, no impersonation', () => {
    const objs = render(['confinement.impersonate=false']);
    expect(container(objs).args).toContain('--impersonate=false');
    const manager: Rule[] = one(objs, 'ClusterRole', 'dsa-operator-manager').rules;
    for (const v of ['create', 'delete']) expect(allows(manager, '', 'pods', v)).toBe(true);
    expect(allows(manager, '', 'pods/log', 'get')).toBe(true);
    expect(allows(manager, '', 'pods/exec', 'create')).toBe(true);
    expect(allows(manager, '', 'secrets', 'get')).toBe(true);
    expect(allows(manager, '', 'secrets', 'list')).toBe(false);
    expect(find(objs, 'ClusterRole', 'dsa-operator-impersonate')).toHaveLength(0);
    expect(find(objs, 'ClusterRole', 'dsa-operator-tenant')).toHaveLength(0);
    const rules: Rule[] = one(objs, 'ClusterRole', 'dsa-operator-deploy').rules;
    const kinds: Array<[string, string]> = [
      ['apps', 'deployments'],
      ['apps', 'statefulsets'],
      ['apps', 'daemonsets'],
      ['apps', 'replicasets'],
      ['batch', 'jobs'],
      ['batch', 'cronjobs'],
      ['', 'services'],
      ['', 'configmaps'],
      ['', 'secrets'],
      ['', 'serviceaccounts'],
      ['', 'persistentvolumeclaims'],
      ['networking.k8s.io', 'ingresses'],
    ];
    for (const [g, r] of kinds) {
      for (const v of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) {
        expect({ g, r, v, ok: allows(rules, g, r, v) }).toEqual({ g, r, v, ok: true });
      }
    }
    expect(one(objs, 'ClusterRoleBinding', 'dsa-operator-deploy').roleRef.name).toBe('dsa-operator-deploy');
    expect(find(objs, 'RoleBinding', 'dsa-operator-deploy')).toHaveLength(0);
  });

  test('namespaced deploy mode: RoleBindings per namespace, no cluster-wide deploy binding', () => {
    const objs = render(['confinement.impersonate=false', 'rbac.clusterWideDeploy=false', 'rbac.deployNamespaces={team-a,team-b}']);
    expect(find(objs, 'ClusterRoleBinding', 'dsa-operator-deploy')).toHaveLength(0);
    const rbs = find(objs, 'RoleBinding', 'dsa-operator-deploy');
    expect(rbs.map((r) => r.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
    for (const rb of rbs) expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'dsa-operator-deploy' });
    // The manager role stays cluster-wide.
    expect(find(objs, 'ClusterRoleBinding', 'dsa-operator-manager')).toHaveLength(1);
  });

  test('namespaced deploy mode defaults to watchNamespaces and fails without any namespace', () => {
    const objs = render(['confinement.impersonate=false', 'rbac.clusterWideDeploy=false', 'watchNamespaces={dev}']);
    expect(find(objs, 'RoleBinding', 'dsa-operator-deploy').map((r) => r.metadata.namespace)).toEqual(['dev']);
    expect(container(objs).args).toContain('--watch-namespace=dev');
    expect(renderFails(['confinement.impersonate=false', 'rbac.clusterWideDeploy=false'])).toMatch(/deployNamespaces/);
  });

  test('extraDeployRules are appended to the deploy role', () => {
    const objs = render([
      'confinement.impersonate=false',
      'rbac.extraDeployRules[0].apiGroups={monitoring.coreos.com}',
      'rbac.extraDeployRules[0].resources={servicemonitors}',
      'rbac.extraDeployRules[0].verbs={get,create,patch}',
    ]);
    expect(allows(one(objs, 'ClusterRole', 'dsa-operator-deploy').rules, 'monitoring.coreos.com', 'servicemonitors', 'create')).toBe(true);
  });

  test('rbac.create=false renders no RBAC; serviceAccount.create=false uses the given name', () => {
    const objs = render(['rbac.create=false', 'serviceAccount.create=false', 'serviceAccount.name=ops']);
    for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']) expect(find(objs, kind)).toHaveLength(0);
    expect(one(objs, 'Deployment').spec.template.spec.serviceAccountName).toBe('ops');
  });

  test('leader election off: Recreate strategy and --leader-elect=false; several replicas then rejected', () => {
    const objs = render(['leaderElection.enabled=false']);
    expect(one(objs, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
    expect(container(objs).args).toContain('--leader-elect=false');
    expect(renderFails(['leaderElection.enabled=false', 'replicaCount=2'])).toMatch(/leaderElection|replicaCount/);
    expect(one(render(['replicaCount=3']), 'Deployment').spec.replicas).toBe(3);
  });

  test('image, pull secrets, builder images, log level, concurrency and scheduling values reach the pod', () => {
    const objs = render([
      'image.repository=10.0.0.1:5000/dsa/operator',
      'image.tag=dev-abc',
      'image.pullPolicy=Always',
      'imagePullSecrets={regcred}',
      'builder.image=reg/kaniko:v1',
      'builder.helperImage=reg/busybox:1',
      'logLevel=debug',
      'concurrency=8',
      'nodeSelector.disk=ssd',
      'tolerations[0].key=dedicated',
      'tolerations[0].operator=Exists',
      'metrics.port=9090',
    ]);
    const c = container(objs);
    const pod = one(objs, 'Deployment').spec.template.spec;
    expect(c.image).toBe('10.0.0.1:5000/dsa/operator:dev-abc');
    expect(c.imagePullPolicy).toBe('Always');
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(envOf(objs).DSA_KANIKO_IMAGE.value).toBe('reg/kaniko:v1');
    expect(envOf(objs).DSA_HELPER_IMAGE.value).toBe('reg/busybox:1');
    expect(c.args).toEqual(expect.arrayContaining(['--log-level=debug', '--concurrency=8', '--metrics-bind-address=:9090']));
    expect(c.ports[0].containerPort).toBe(9090);
    expect(pod.nodeSelector).toEqual({ disk: 'ssd' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
    expect(one(objs, 'Deployment').metadata.labels?.['app.kubernetes.io/version']).toBe('dev-abc');
  });

  test('service account, pod metadata, scheduling, /tmp size, metrics Service, extra env and info readers reach their objects', () => {
    const values = join(mkdtempSync(join(tmpdir(), 'dsa-chart-values-')), 'values.yaml');
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['ops'] }] }] } } };
    writeFileSync(
      values,
      JSON.stringify({
        serviceAccount: { annotations: { 'iam.gke.io/gcp-service-account': 'op@p.iam' } },
        rbac: { infoReaders: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }] },
        affinity,
        podAnnotations: { 'example.com/a': '1' },
        podLabels: { team: 'platform' },
        priorityClassName: 'system-cluster-critical',
        tmpDir: { sizeLimit: '3Gi' },
        metrics: { service: { type: 'NodePort', annotations: { 'prometheus.io/scrape': 'true' } } },
        extraEnv: [{ name: 'HTTPS_PROXY', value: 'http://proxy:3128' }],
      }),
    );
    const objs = render([], 'dsa-system', ['-f', values]);
    expect(one(objs, 'ServiceAccount').metadata.annotations).toEqual({ 'iam.gke.io/gcp-service-account': 'op@p.iam' });
    expect(one(objs, 'RoleBinding', 'dsa-operator-info-reader').subjects).toEqual([{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }]);
    const template = one(objs, 'Deployment').spec.template;
    expect(template.spec.affinity).toEqual(affinity);
    expect(template.metadata.annotations).toMatchObject({ 'example.com/a': '1' });
    expect(template.metadata.labels).toMatchObject({ team: 'platform' });
    expect(template.spec.priorityClassName).toBe('system-cluster-critical');
    expect(template.spec.volumes.find((v: any) => v.name === 'tmp')?.emptyDir).toEqual({ sizeLimit: '3Gi' });
    const svc = one(objs, 'Service');
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true' });
    expect(envOf(objs).HTTPS_PROXY).toEqual({ name: 'HTTPS_PROXY', value: 'http://proxy:3128' });
    // rbac.infoReaders: [] (or null) = nobody: no info-reader Role or RoleBinding.
    writeFileSync(values, JSON.stringify({ rbac: { infoReaders: [] } }));
    for (const none of [render([], 'dsa-system', ['-f', values]), render(['rbac.infoReaders=null'])]) {
      expect(find(none, 'Role', 'dsa-operator-info-reader')).toEqual([]);
      expect(find(none, 'RoleBinding', 'dsa-operator-info-reader')).toEqual([]);
    }
  });

  test('fullnameOverride names the cluster-scoped objects (a second install needs its own)', () => {
    const objs = render(['fullnameOverride=ci-ops', 'crds.enabled=false']);
    const clusterScoped = objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding').map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(clusterScoped).toEqual(['ClusterRole/ci-ops-impersonate', 'ClusterRole/ci-ops-manager', 'ClusterRole/ci-ops-tenant', 'ClusterRoleBinding/ci-ops-impersonate', 'ClusterRoleBinding/ci-ops-manager']);
    expect(one(objs, 'Deployment').metadata.name).toBe('ci-ops');
  });

  test('scope and watchLabelSelector reach the operator; the schema rejects a scope that is no label value', () => {
    const c = container(render(['scope=e2e-1a2b', 'watchLabelSelector=team=payments']));
    expect(c.args).toEqual(expect.arrayContaining(['--scope=e2e-1a2b', '--watch-label-selector=team=payments']));
    expect(renderFails(['scope=no spaces allowed'])).toMatch(/scope/);
    expect(renderFails(['scope=-leading-dash'])).toMatch(/scope/);
  });

  test('metrics.enabled=false drops the Service; serviceMonitor.enabled adds a ServiceMonitor', () => {
    expect(find(render(['metrics.enabled=false']), 'Service')).toHaveLength(0);
    const sm = one(render(['metrics.serviceMonitor.enabled=true']), 'ServiceMonitor');
    expect(sm.spec.endpoints[0].port).toBe('http-metrics');
    expect(sm.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('metrics');
    // The Service it selects must carry that label.
    expect(one(render(), 'Service').metadata.labels?.['app.kubernetes.io/component']).toBe('metrics');
  });

  test('release name containing the chart name is not doubled; other names are prefixed', () => {
    const r = helm(['template', 'team', CHART, '--namespace', 'ops', ...KUBE_VERSION]);
    expect(r.status).toBe(0);
    const objs = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObj).filter(Boolean);
    expect(one(objs, 'Deployment').metadata.name).toBe('team-dsa-operator');
    for (const role of find(objs, 'Role')) expect(role.metadata.namespace).toBe('ops');
  });

  test('renders without --kube-version too (helm built by `go install` defaults to Kubernetes 1.20)', () => {
    const r = helm(['template', 'dsa', CHART]);
    expect({ status: r.status, err: r.stderr }).toEqual({ status: 0, err: '' });
  });

  test('lint (which also renders NOTES.txt) passes for the non-default variants', () => {
    for (const set of [
      ['crds.enabled=false'],
      ['crds.keep=false'],
      ['confinement.impersonate=false', 'rbac.clusterWideDeploy=false', 'watchNamespaces={a,b}'],
      ['confinement.impersonate=false'],
      ['tenantNamespaces={team-a}', 'watchNamespaces={team-a}'],
      ['leaderElection.enabled=false'],
      ['rbac.create=false', 'serviceAccount.create=false'],
      ['metrics.enabled=false'],
    ]) {
      const r = helm(['lint', '--strict', CHART, ...set.flatMap((x) => ['--set', x])]);
      expect({ set, status: r.status, out: r.status === 0 ? '' : r.stdout + r.stderr }).toEqual({ set, status: 0, out: '' });
    }
  });
});
