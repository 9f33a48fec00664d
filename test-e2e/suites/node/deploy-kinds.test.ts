// Full-node tier: every deployment kind a devspace.yaml can ask for, deployed for real by the `dsa` CLI
// with an in-process operator (scoped namespace):
//   - kubectl `manifests: [kube]` — a folder, as DevSpace's quickstart writes it (was EISDIR);
//   - kustomize, run by the agent, an overlay whose base and generator file live outside its folder
//     (the generator file needs `kustomizeArgs: [--load-restrictor, LoadRestrictionsNone]`);
//   - helm charts from a folder, a packed .tgz, and a chart repository served over HTTP on the node IP
//     (the operator runs `helm template --repo` against it);
//   - the component chart;
//   - tag replacement on (the disabled image's tag is put into every untagged reference) and off
//     (`replaceImageTags: false` leaves the reference alone).
// The image is the harness's busybox, referenced through `build.disabled` with its tag: no build.
//
// Env contract: eval "$(test-e2e/cluster/ensure.sh node)" (DSA_HELM for packing the charts, DSA_KUSTOMIZE
// for the agent's kustomize).
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DSA_RESOURCES, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, type TestNamespace } from '../../lib/index.js';
import { dsa, expectExit, imageBuilds, runningPods, splitRef, startOperator } from './cli-project.test-util.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'nodeIp', 'helm');
const KUSTOMIZE = process.env.DSA_KUSTOMIZE;
const [REPO, TAG] = splitRef(env.testImage);

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let stopOperator: () => Promise<void>;
let dir: string;
let chartServer: http.Server;
let repoUrl: string;
const repoRequests: string[] = [];

async function write(rel: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), text);
}

/** A Deployment of the busybox image, untagged (tag replacement decides the tag), sleeping. */
const deployment = (name: string, replicas = 1, image = REPO) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: ${image}
        command: [sleep, "3600"]
`;

/** A chart whose Deployment takes its image from values (helm tag replacement happens in values). */
async function chart(folder: string, name: string, version: string): Promise<void> {
  await write(`${folder}/Chart.yaml`, `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
  await write(`${folder}/values.yaml`, 'image: set-me\n');
  await write(`${folder}/templates/deployment.yaml`, deployment('{{ .Release.Name }}', 1, '{{ .Values.image }}'));
}

beforeAll(async () => {
  if (!KUSTOMIZE) throw new Error('DSA_KUSTOMIZE is not set; run eval "$(make -s cluster-env)" (make cluster-bins builds kustomize)');
  kc = kubeFromEnv();
  apps = kc.makeApiClient(k8s.AppsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-kinds');
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-kinds-'));
  const project = path.join(dir, 'kinds');

  // kubectl: a folder with a Deployment, a Service and a file kubectl skips.
  await write('kinds/kube/deployment.yaml', deployment('from-folder'));
  await write('kinds/kube/service.yml', 'apiVersion: v1\nkind: Service\nmetadata: {name: from-folder}\nspec: {selector: {app: from-folder}, ports: [{port: 80}]}\n');
  await write('kinds/kube/README.md', 'not a manifest: kubectl -f kube/ skips it\n');
  // kubectl with replaceImageTags: false: the untagged reference stays (0 replicas: it would not pull).
  await write('kinds/noreplace/deployment.yaml', deployment('untouched', 0));
  // kustomize: overlay → ../base (a folder outside), a generator file two levels up (needs LoadRestrictionsNone).
  await write('kinds/kust/base/kustomization.yaml', 'resources: [deployment.yaml]\n');
  await write('kinds/kust/base/deployment.yaml', deployment('web'));
  await write('kinds/kust/overlay/kustomization.yaml', 'resources: [../base]\nnamePrefix: kust-\nconfigMapGenerator:\n- name: settings\n  envs: [../../shared/settings.env]\n');
  await write('kinds/shared/settings.env', 'GREETING=from-outside-the-overlay\n');
  // A second overlay of the same base for the v2beta1 project: kustomize's own image transformer tags it.
  await write('kinds/kust/overlay2/kustomization.yaml', `resources: [../base]\nnamePrefix: kust2-\nimages:\n- name: ${REPO}\n  newTag: "${TAG}"\nconfigMapGenerator:\n- name: settings\n  envs: [../../shared/settings.env]\n`);
  // helm: a chart folder, the same chart packed, and a third one in a chart repository.
  await chart('kinds/charts/folderchart', 'folderchart', '0.1.0');
  await chart('build/archivechart', 'archivechart', '0.1.0');
  await chart('build/repochart', 'repochart', '0.2.0');
  await run(env.helm, ['package', path.join(dir, 'build/archivechart'), '-d', project]);
  const repoDir = path.join(dir, 'repo');
  await mkdir(repoDir);
  await run(env.helm, ['package', path.join(dir, 'build/repochart'), '-d', repoDir]);
  chartServer = http.createServer((req, res) => {
    repoRequests.push(req.url ?? '');
    const file = path.join(repoDir, path.basename(new URL(req.url ?? '/', 'http://x').pathname));
    stat(file).then(
      () => createReadStream(file).pipe(res),
      () => res.writeHead(404).end(),
    );
  });
  // On the node IP (not loopback): an operator running in a pod could reach it there too.
  await new Promise<void>((resolve) => chartServer.listen(0, env.nodeIp, () => resolve()));
  repoUrl = `http://${env.nodeIp}:${(chartServer.address() as AddressInfo).port}`;
  await run(env.helm, ['repo', 'index', repoDir, '--url', repoUrl]);

  await writeFile(
    path.join(project, 'devspace.yaml'),
    `version: v1beta9
images:
  busybox:
    image: ${REPO}
    tags: ["${TAG}"]
    build: {disabled: true}
deployments:
- name: folder
  kubectl: {manifests: [kube]}
- name: untouched
  kubectl: {manifests: [noreplace/deployment.yaml], replaceImageTags: false}
- name: kust
  kubectl:
    kustomize: true
    manifests: [kust/overlay]
    kustomizeArgs: [--load-restrictor, LoadRestrictionsNone]
- name: helm-folder
  helm: {chart: {name: ./charts/folderchart}, values: {image: ${REPO}}}
- name: helm-archive
  helm: {chart: {name: ./archivechart-0.1.0.tgz}, values: {image: ${REPO}}}
- name: helm-repo
  helm: {chart: {name: repochart, repo: "${repoUrl}", version: 0.2.0}, values: {image: ${REPO}}}
- name: component
  helm:
    componentChart: true
    values:
      containers: [{image: ${REPO}, command: [sleep], args: ["3600"]}]
`,
  );
  stopOperator = startOperator(kc, ns.name, env);
});

afterAll(async () => {
  await stopOperator?.();
  await new Promise<void>((resolve) => (chartServer ? chartServer.close(() => resolve()) : resolve()));
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function imageOf(name: string): Promise<string | undefined> {
  const d = await apps.readNamespacedDeployment({ namespace: ns.name, name });
  return d.spec?.template.spec?.containers[0]?.image;
}

describe('every deployment kind, deployed by dsa', () => {
  test('folder, kustomize (outside bases, kustomizeArgs), helm folder/archive/repo, component chart: all Ready, tags replaced', async () => {
    const t0 = Date.now();
    const r = await dsa(dir, path.join(dir, 'kinds/devspace.yaml'), ns.name, ['deploy', '--timeout', '5m'], { DSA_KUSTOMIZE: KUSTOMIZE });
    expectExit(r, 0);
    console.log(`deploy-kinds: dsa deploy of 7 deployments in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(r.stderr).toContain('ready: 7/7 deployments');
    const tagged = `${REPO}:${TAG}`;

    // The folder: both manifests (Deployment + Service), README skipped; the image got the disabled image's tag.
    expect(await imageOf('from-folder')).toBe(tagged);
    expect((await core.readNamespacedService({ namespace: ns.name, name: 'from-folder' })).spec?.ports?.[0]?.port).toBe(80);
    // kustomize: base from outside the overlay, prefixed; the generator file from two levels up.
    expect(await imageOf('kust-web')).toBe(tagged);
    const cms = (await core.listNamespacedConfigMap({ namespace: ns.name })).items.filter((c) => c.metadata?.name?.startsWith('kust-settings-'));
    expect(cms.map((c) => c.data)).toEqual([{ GREETING: 'from-outside-the-overlay' }]);
    // helm from a folder, an archive, a repository: values got the tag before rendering.
    for (const name of ['helm-folder', 'helm-archive', 'helm-repo']) expect(await imageOf(name)).toBe(tagged);
    expect(repoRequests.some((u) => u.endsWith('/index.yaml'))).toBe(true);
    expect(repoRequests.some((u) => u.endsWith('/repochart-0.2.0.tgz'))).toBe(true);
    // The component chart: a Deployment named after the release.
    expect(await imageOf('component')).toBe(tagged);
    // replaceImageTags: false: left as written.
    expect(await imageOf('untouched')).toBe(REPO);

    // Every workload with replicas runs the tagged image; nothing was built (the image is build.disabled).
    // (namePrefix renames the kustomized Deployment, not its labels: app=web.)
    for (const app of ['from-folder', 'web', 'helm-folder', 'helm-archive', 'helm-repo']) {
      const pods = await runningPods(kc, ns.name, `app=${app}`);
      expect(pods.length).toBeGreaterThan(0);
      expect(pods[0]!.spec?.containers[0]?.image).toBe(tagged);
    }
    expect(await imageBuilds(kc, ns.name)).toEqual([]);
  });

  test('v2beta1: kustomizeBinaryPath, a packed chart as chart.path, updateImageTags: false', async () => {
    const project = path.join(dir, 'kinds');
    const file = path.join(project, 'devspace-v2.yaml');
    await writeFile(
      file,
      `version: v2beta1
name: kinds-v2
deployments:
  kust2:
    kubectl:
      manifests: [kust/overlay2/kustomization.yaml]
      kustomize: true
      kustomizeArgs: [--load-restrictor=LoadRestrictionsNone]
      kustomizeBinaryPath: ${KUSTOMIZE}
  arch2:
    updateImageTags: false
    helm:
      releaseName: arch2
      chart: {path: ./archivechart-0.1.0.tgz}
      values: {image: "${REPO}:${TAG}"}
`,
    );
    // No DSA_KUSTOMIZE, and a PATH with neither kustomize nor kubectl: only kustomizeBinaryPath can render it.
    const emptyBin = path.join(dir, 'empty-bin');
    await mkdir(emptyBin, { recursive: true });
    const r = await dsa(dir, file, ns.name, ['deploy', '--timeout', '4m'], { DSA_KUSTOMIZE: '', PATH: emptyBin });
    expectExit(r, 0);
    expect(r.stderr).toContain('ready: 2/2 deployments');
    // updateImageTags: false on a helm deployment: values and objects as written.
    expect(await imageOf('arch2')).toBe(`${REPO}:${TAG}`);
    expect(await imageOf('kust2-web')).toBe(`${REPO}:${TAG}`);
    expect((await core.listNamespacedConfigMap({ namespace: ns.name })).items.filter((c) => c.metadata?.name?.startsWith('kust2-settings-')).length).toBe(1);
  });

  test('a kustomization kustomize refuses fails the deploy in one line, before anything is applied', async () => {
    const file = path.join(dir, 'kinds/devspace-bad.yaml');
    await writeFile(file, 'version: v2beta1\nname: kinds-bad\ndeployments:\n  k:\n    kubectl: {kustomize: true, manifests: [kust/overlay]}\n');
    // Without --load-restrictor LoadRestrictionsNone, the generator file outside the overlay is refused.
    const r = await dsa(dir, file, ns.name, ['deploy', '--timeout', '1m'], { DSA_KUSTOMIZE: KUSTOMIZE });
    expectExit(r, 2);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^dsa deploy: kubectl\.kustomize: kustomize build .*overlay: .*security; file '.*settings\.env' is not in or below/);
  });
});
