// Full-node tier: the DevSession reconciler runs IN-PROCESS against the real cluster and real pods run.
// One session with three deployments — kubectl manifests, a local helm chart sent as an archive, and
// dsa's component chart — becomes Ready with pods Running the expected images (tag replacement on a
// never-built image with an explicit tag); deleting it removes everything it made. Also checks that
// operator/charts/component renders the same objects as the in-process renderer.
// Env: eval "$(test-e2e/cluster/ensure.sh node)".
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { DEVSESSION, GROUP, VERSION, type DevSessionSpec } from '@dsa/api';
import { isNotFound } from '../../../operator/src/runtime/index.js';
import { renderComponentChart } from '../../../operator/src/deploy/component-chart.js';
import { HelmRenderer } from '../../../operator/src/deploy/helm.js';
import { sessionCondition as cond, startDevSessionHarness, type DevSessionHarness } from '../../lib/devsession-harness.js';
import { REPO_ROOT, requireEnv, waitFor } from '../../lib/index.js';

jest.setTimeout(300_000);

const env = requireEnv('testImage', 'helm');
// The busybox image of the harness registry, split into the repository the manifests use (untagged)
// and the tag that tag replacement must add.
const testRepo = env.testImage.slice(0, env.testImage.lastIndexOf(':'));
const testTag = env.testImage.slice(env.testImage.lastIndexOf(':') + 1);

let h: DevSessionHarness;
let core: k8s.CoreV1Api;
let work: string;

beforeAll(async () => {
  h = await startDevSessionHarness('e2e-ds', async () => {
    work = await mkdtemp(join(tmpdir(), 'dsa-e2e-ds-'));
    return { helm: new HelmRenderer({ helmPath: env.helm, workDir: work }), workDir: work, rolloutPollMs: 2_000, workers: 2 };
  });
  core = h.kc.makeApiClient(k8s.CoreV1Api);
});

afterAll(async () => {
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A tiny local chart, packed with `helm package` as the agent would, base64 for chart.archive. */
async function packChart(): Promise<string> {
  const dir = join(work, 'sleeper');
  await mkdir(join(dir, 'templates'), { recursive: true });
  await writeFile(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: sleeper\nversion: 0.1.0\n');
  await writeFile(join(dir, 'values.yaml'), 'image: nginx\nreplicas: 1\n');
  await writeFile(
    join(dir, 'templates', 'deployment.yaml'),
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata: {name: {{ .Release.Name }}-sleeper}',
      'spec:',
      '  replicas: {{ .Values.replicas }}',
      '  selector: {matchLabels: {app: {{ .Release.Name }}-sleeper}}',
      '  template:',
      '    metadata: {labels: {app: {{ .Release.Name }}-sleeper}}',
      '    spec:',
      '      terminationGracePeriodSeconds: 1',
      '      containers:',
      '      - name: main',
      '        image: {{ .Values.image | quote }}',
      '        command: [sleep, "3600"]',
      '',
    ].join('\n'),
  );
  execFileSync(env.helm, ['package', dir, '--destination', work], { stdio: 'pipe' });
  return (await readFile(join(work, 'sleeper-0.1.0.tgz'))).toString('base64');
}

const sleeperDeployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: ${testRepo}, command: [sleep, '3600']}
`;

describe('DevSession on a real node', () => {
  it('kubectl + helm archive + component chart deployments become Ready with pods running the built image; deletion removes everything', async () => {
    const spec: DevSessionSpec = {
      project: 'full',
      // Never built, explicit tag: untagged references to the repository get this tag (tag replacement).
      images: [{ name: 'busy', image: testRepo, skip: true, tags: [testTag] }],
      deployments: [
        { name: 'plain', kubectl: { manifests: [sleeperDeployment('plain'), 'apiVersion: v1\nkind: Service\nmetadata: {name: plain}\nspec: {selector: {app: plain}, ports: [{port: 80}]}\n'] } },
        { name: 'chart', helm: { releaseName: 'rel', chart: { archive: await packChart() }, values: { image: testRepo } } },
        {
          name: 'comp',
          helm: { chart: { component: true }, values: { containers: [{ name: 'app', image: testRepo, command: ['sleep', '3600'] }], service: { ports: [{ port: 8080 }] } } },
        },
      ],
      dev: { pods: [{ name: 'comp', selector: { labelSelector: { 'app.kubernetes.io/component': 'comp' } } }] },
    };
    await h.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: h.ns.name, body: { apiVersion: `${GROUP}/${VERSION}`, kind: DEVSESSION.kind, metadata: { name: 'full' }, spec } });

    const s = await waitFor(
      'session full Ready',
      async () => {
        const x = await h.getSession('full');
        if (cond(x, 'Stalled')?.status === 'True') throw new Error(`stalled: ${cond(x, 'Stalled')?.message}`);
        return cond(x, 'Ready')?.status === 'True' ? x : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1_000 },
    );
    expect(s.status).toMatchObject({ phase: 'Ready', deploymentsReady: '3/3', observedGeneration: 1 });
    expect(s.status?.deployments?.map((d) => [d.name, d.ready])).toEqual([['plain', true], ['chart', true], ['comp', true]]);
    expect(s.status?.inventory?.map((e) => `${e.deployment}:${e.kind}/${e.name}`).sort()).toEqual(
      ['chart:Deployment/rel-sleeper', 'comp:Deployment/comp', 'comp:Service/comp', 'plain:Deployment/plain', 'plain:Service/plain'].sort(),
    );

    // Every pod of the session runs busybox with the replaced tag, and is Running.
    const pods = (await core.listNamespacedPod({ namespace: h.ns.name, labelSelector: 'dsa.dev/session=full' })).items.filter((p) => !p.metadata?.deletionTimestamp);
    expect(pods.map((p) => p.metadata?.labels?.['dsa.dev/deployment']).sort()).toEqual(['chart', 'comp', 'plain']);
    for (const p of pods) {
      expect(p.status?.phase).toBe('Running');
      expect(p.spec?.containers[0]?.image).toBe(env.testImage);
    }
    const compPod = pods.find((p) => p.metadata?.labels?.['dsa.dev/deployment'] === 'comp')!;
    expect(s.status?.pods).toEqual([{ devPod: 'comp', pod: compPod.metadata?.name, container: 'app', namespace: h.ns.name }]);

    await h.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: h.ns.name, name: 'full' });
    await waitFor('session full gone', async () => !(await h.getSession('full')), { timeoutMs: 60_000 });
    for (const e of s.status!.inventory!) {
      await waitFor(`${e.kind}/${e.name} deleted`, async () => {
        try {
          await h.objects.read({ apiVersion: e.apiVersion, kind: e.kind, metadata: { name: e.name, namespace: e.namespace ?? h.ns.name } });
          return false;
        } catch (err) {
          if (isNotFound(err)) return true;
          throw err;
        }
      }, { timeoutMs: 60_000 });
    }
    await waitFor('session pods gone', async () => (await core.listNamespacedPod({ namespace: h.ns.name, labelSelector: 'dsa.dev/session=full' })).items.length === 0, { timeoutMs: 90_000, intervalMs: 1_000 });
  });

  it('operator/charts/component renders the same objects as the in-process component renderer', async () => {
    const cases: Array<Record<string, unknown>> = [
      {
        containers: [
          { image: 'reg/api', command: ['node'], args: ['s.js', 1], env: [{ name: 'A', value: '1' }], resources: { limits: { cpu: '1', memory: '512Mi', ephemeralStorage: '1Gi' }, requests: { cpu: 0.5 } }, readinessProbe: { httpGet: { path: '/', port: 3000 } }, workingDir: '/app' },
          { name: 'side', image: 'busybox', stdin: true, tty: true },
        ],
        service: { ports: [{ port: 80, containerPort: 3000 }, { port: 53, protocol: 'UDP', name: 'dns' }] },
        labels: { team: 'a' },
        annotations: { note: 'x' },
        pullSecrets: ['regcred'],
        nodeSelector: { a: 'b' },
      },
      {
        containers: [{ name: 'db', image: 'mysql:5.7', volumeMounts: [{ containerPath: '/var/lib/mysql', volume: { name: 'data', subPath: '/mysql/' } }, { containerPath: '/etc/cfg', volume: { name: 'cfg', readOnly: true } }] }],
        volumes: [{ name: 'data', size: '5Gi', storageClassName: 'fast' }, { name: 'cfg', configMap: { name: 'db-config' } }, { name: 'unused', size: '1Gi' }],
        replicas: 2,
        rollingUpdate: { enabled: true, partition: 1 },
      },
      { service: { name: 'frontend', type: 'NodePort', ports: [{ port: 8080 }], externalIPs: ['1.2.3.4'], labels: { x: 'y' } }, ingress: { tls: true, rules: [{ host: 'web.local' }, { host: 'b.local', path: '/b', servicePort: 9090, serviceName: 'other' }] } },
      { containers: [{ image: 'x' }], initContainers: [{ image: 'y', command: ['sh'] }], rollingUpdate: { enabled: true, maxSurge: 1 }, ingress: { tls: 'my-secret', rules: [{ host: 'h', servicePort: 80 }] } },
    ];
    const sortKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sortKeys(x)])) : v;
    const canon = (l: k8s.KubernetesObject[]) =>
      sortKeys([...l].sort((a, b) => `${a.kind}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.name}`)));
    for (const [i, values] of cases.entries()) {
      const file = join(work, `values-${i}.json`);
      await writeFile(file, JSON.stringify(values));
      const out = execFileSync(env.helm, ['template', 'rel', resolve(REPO_ROOT, 'operator/charts/component'), '--values', file], { encoding: 'utf8' });
      const fromHelm = parseAllDocuments(out).map((d) => d.toJS() as k8s.KubernetesObject).filter(Boolean);
      expect({ case: i, objects: canon(fromHelm) }).toEqual({ case: i, objects: canon(renderComponentChart('rel', values)) });
    }
  });
});
