// Full-node tier: the operator as users install it. Builds the image (operator/Dockerfile) into the local registry,
// `helm upgrade --install`s charts/dsa-operator into a namespace of its own, waits for the Deployment and /readyz, applies a
// DevSession rendered by the CLI from examples/gitops-no-images with `kubectl apply`, waits for Ready, checks the
// `kubectl get devsessions` columns, then uninstalls and checks what is left (CRDs kept, operator objects gone).
//
// Env contract: eval "$(test-e2e/cluster/ensure.sh node)" (KUBECONFIG, DSA_REGISTRY, DSA_NODE_IMAGE, DSA_HELM,
// DSA_TEST_IMAGE, DSA_KANIKO_IMAGE).
import { afterAll, beforeAll, describe, expect, test, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { resolve } from 'node:path';
import {
  REPO_ROOT,
  adoptCrds,
  buildOperatorImage,
  cleanupAll,
  createTestNamespace,
  helm,
  helmArgs,
  kubeFromEnv,
  kubectl,
  operatorLogs,
  requireEnv,
  run,
  waitFor,
  CRD_NAMES,
  DSA_RESOURCES,
  type TestNamespace,
} from '../../lib/index.js';

jest.setTimeout(600_000);

// Its own release name and namespace, never `dsa-operator` in `dsa-system`: an operator installed by
// `make demo`/`make deploy` on the same cluster must survive this suite (issue 8, two operators).
const RELEASE = `dsa-op-e2e-${process.pid.toString(36)}`;
let SYSTEM_NS = '';
let systemNs: TestNamespace;

const env = requireEnv('registry', 'nodeImage', 'helm', 'testImage', 'kanikoImage');
let kc: k8s.KubeConfig;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ns: TestNamespace;
let image: { repository: string; tag: string; ref: string };
let installed = false;

const withLogs = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- operator logs ---\n${await operatorLogs(RELEASE, SYSTEM_NS)}`);
  }
};

beforeAll(async () => {
  kc = kubeFromEnv();
  apps = kc.makeApiClient(k8s.AppsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  ns = await createTestNamespace(kc, 'dsa-e2e-chart');
  systemNs = await createTestNamespace(kc, 'dsa-e2e-chart-sys');
  SYSTEM_NS = systemNs.name;
  image = await buildOperatorImage();
}, 600_000);

afterAll(async () => {
  await cleanupAll([
    () => installed && helm(env, ['uninstall', RELEASE, '--namespace', SYSTEM_NS, '--wait'], { allowFailure: true }),
    // The session outlives the uninstalled operator, finalizer included; nothing would ever remove it.
    () => ns?.cleanup({ stripFinalizers: DSA_RESOURCES }),
    () => systemNs?.cleanup(),
  ]);
});

describe('operator chart on a real node', () => {
  test('the image was built from the local registry base and is content-tagged', () => {
    expect(image.repository).toBe(`${env.registry}/dsa/operator`);
    expect(image.tag).toMatch(/^dev-[0-9a-f]{12}$/);
  });

  test('helm upgrade --install brings the Deployment to Available', async () => {
    // Other suites may have applied the CRDs with kubectl; let this release adopt them.
    await adoptCrds(RELEASE, SYSTEM_NS);
    await withLogs(async () => {
      // Only this suite's namespace: another operator (e.g. an in-process one in a parallel suite) must not fight
      // over the same sessions.
      await helm(env, helmArgs({ release: RELEASE, namespace: SYSTEM_NS, image, env, watchNamespaces: [ns.name] }), { timeoutMs: 400_000 });
    });
    installed = true;
    const dep = await apps.readNamespacedDeployment({ name: RELEASE, namespace: SYSTEM_NS });
    const available = dep.status?.conditions?.find((c) => c.type === 'Available');
    expect(available?.status).toBe('True');
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe(image.ref);
    const list = await helm(env, ['list', '--namespace', SYSTEM_NS, '-o', 'json']);
    const releases = JSON.parse(list.stdout) as Array<{ name: string; status: string }>;
    expect(releases.find((r) => r.name === RELEASE)?.status).toBe('deployed');
  });

  test('the operator pod runs as non-root with a read-only root fs and answers /readyz and /metrics', async () => {
    const pods = await core.listNamespacedPod({ namespace: SYSTEM_NS, labelSelector: `app.kubernetes.io/instance=${RELEASE}` });
    const pod = pods.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    expect(pod).toBeDefined();
    expect(pod!.status?.containerStatuses?.[0]?.ready).toBe(true);
    expect(pod!.spec?.containers[0]?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(pod!.spec?.securityContext?.runAsUser).toBe(65532);
    // The node can reach pod IPs directly (single-node cluster, host-routed pod CIDR).
    const base = `http://${pod!.status!.podIP}:8080`;
    const ready = await waitFor('/readyz 200', async () => {
      const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3000) });
      return r.status === 200 ? ((await r.json()) as { status: string; details?: { leader?: boolean } }) : false;
    });
    expect(ready.status).toBe('ok');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('dsa_operator_reconcile_total');
    // Leader election is on by default: this single replica must hold the Lease.
    await waitFor('leader gauge 1', async () => /^dsa_operator_leader 1$/m.test(await (await fetch(`${base}/metrics`)).text()));
    const lease = await kc.makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ name: 'dsa-operator-leader', namespace: SYSTEM_NS });
    expect(lease.spec?.holderIdentity).toContain(pod!.metadata!.name!);
    // The image's helm runs under uid 65532 with HOME=/tmp on the read-only root fs.
    const helmVersion = await kubectl(['-n', SYSTEM_NS, 'exec', pod!.metadata!.name!, '--', 'helm', 'version', '--short']);
    expect(helmVersion.stdout).toMatch(/^v3\./);
    const chart = await kubectl(['-n', SYSTEM_NS, 'exec', pod!.metadata!.name!, '--', 'sh', '-c', 'test -f /app/charts/component/Chart.yaml && id -u']);
    expect(chart.stdout.trim()).toBe('65532');
  });

  test('a DevSession rendered by the CLI and applied with kubectl reaches Ready without an agent', async () => {
    const rendered = await run(process.execPath, [resolve(REPO_ROOT, 'agent/bin/dsa.js'), 'render', '-n', ns.name], {
      cwd: resolve(REPO_ROOT, 'examples/gitops-no-images'),
      env: { DSA_TEST_IMAGE: env.testImage },
    });
    expect(rendered.stdout).toContain('kind: DevSession');
    await kubectl(['apply', '-f', '-'], { input: rendered.stdout });
    const ready = await withLogs(() =>
      waitFor(
        'DevSession gitops-no-images Ready',
        async () => {
          const s = (await custom.getNamespacedCustomObject({ group: 'dsa.dev', version: 'v1alpha1', namespace: ns.name, plural: 'devsessions', name: 'gitops-no-images' })) as any;
          const cond = (s.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
          return cond?.status === 'True' || s.status?.phase === 'Failed' ? s : false;
        },
        { timeoutMs: 180_000, intervalMs: 1000 },
      ),
    );
    expect({ phase: ready.status.phase, message: ready.status.message }).toEqual({ phase: 'Ready', message: expect.any(String) });
    expect(ready.status.deploymentsReady).toBe('2/2');
    // What it deployed is really there.
    const cm = await core.readNamespacedConfigMap({ name: 'hello-config', namespace: ns.name });
    expect(cm.data?.greeting).toBe('hello from a GitOps-applied DevSession');
    const dep = await apps.readNamespacedDeployment({ name: 'hello', namespace: ns.name });
    expect(dep.status?.readyReplicas).toBe(1);
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe(env.testImage);
  });

  test('kubectl get devsessions shows the printer columns', async () => {
    const out = await kubectl(['get', 'devsessions', '-n', ns.name]);
    const [header, row] = out.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'READY', 'PHASE', 'OWNER', 'IMAGES', 'DEPLOYS', 'SYNC', 'AGE']);
    const cells = row!.split(/\s{2,}/);
    expect(cells.slice(0, 3)).toEqual(['gitops-no-images', 'True', 'Ready']);
    expect(cells[5]).toBe('2/2');
    const wide = await kubectl(['get', 'dsess', '-n', ns.name, '-o', 'wide']);
    expect(wide.stdout.split('\n')[0]).toContain('MESSAGE');
    // Category `dsa` lists both kinds.
    const cat = await kubectl(['get', 'dsa', '-n', ns.name, '-o', 'name']);
    expect(cat.stdout).toContain('devsession.dsa.dev/gitops-no-images');
  });

  test('any authenticated developer may read the operator info ConfigMap (dsa version --cluster), and nothing else there', async () => {
    const as = ['--as=jane', '--as-group=system:authenticated', '-n', SYSTEM_NS];
    const got = await waitFor('the operator info ConfigMap', async () => {
      const r = await kubectl(['get', 'configmap', 'dsa-operator-info', '-o', 'jsonpath={.data.version}', ...as], { allowFailure: true });
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    });
    expect(got.length).toBeGreaterThan(0); // the image's version (a dev build: its content hash)
    const list = await kubectl(['get', 'configmaps', ...as], { allowFailure: true });
    expect(list.code).not.toBe(0);
    expect(list.stderr).toMatch(/forbidden/i);
  });

  test('helm uninstall removes the operator but keeps the CRDs (resource-policy keep)', async () => {
    await helm(env, ['uninstall', RELEASE, '--namespace', SYSTEM_NS, '--wait', '--timeout', '2m']);
    installed = false;
    await waitFor('operator pods gone', async () => {
      const pods = await core.listNamespacedPod({ namespace: SYSTEM_NS, labelSelector: `app.kubernetes.io/instance=${RELEASE}` });
      return pods.items.length === 0;
    }, { timeoutMs: 120_000, intervalMs: 1000 });
    for (const kind of [`clusterrole/${RELEASE}-manager`, `clusterrole/${RELEASE}-deploy`, `clusterrolebinding/${RELEASE}-manager`]) {
      const r = await kubectl(['get', kind], { allowFailure: true });
      expect({ kind, gone: r.code !== 0 }).toEqual({ kind, gone: true });
    }
    const svc = await kubectl(['-n', SYSTEM_NS, 'get', `service/${RELEASE}-metrics`], { allowFailure: true });
    expect(svc.code).not.toBe(0);
    for (const crd of CRD_NAMES) {
      const r = await kubectl(['get', 'crd', crd, '-o', 'jsonpath={.metadata.annotations.helm\\.sh/resource-policy}']);
      expect(r.stdout).toBe('keep');
    }
    // The session object survives too (the CRD was kept); its deployments stay in place without the operator.
    const s = await kubectl(['get', 'devsession', 'gitops-no-images', '-n', ns.name, '-o', 'name']);
    expect(s.stdout.trim()).toBe('devsession.dsa.dev/gitops-no-images');
  });
});
