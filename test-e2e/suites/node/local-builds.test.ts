// Full-node tier: images the agent builds itself, deployed by the `dsa` CLI with an in-process operator.
//   - `build.docker` (v1beta9): built by the harness's dockerd through dockerode (buildArgs, target and a
//     `cmd` override honoured), pushed to the plain-HTTP registry; its pods run the content-addressed tag
//     that `dsa render` shows for the in-cluster build (same canonical context tar), and the operator
//     creates no ImageBuild (so no kaniko pod);
//   - `custom` (v2beta1): a script with imageFlag/args (DevSpace's argument order) and a multi-line
//     command using ${runtime.images.X.image}/.tag, each building and pushing with the docker CLI; no
//     Dockerfile in the project root; onChange: not built again when its files are unchanged;
//   - no daemon (DOCKER_HOST pointing nowhere): the docker image falls back to kaniko in the cluster.
//
// Env contract: eval "$(test-e2e/cluster/ensure.sh node)" — DOCKER_HOST is the harness's dockerd
// (test-e2e/cluster/dockerd.sh), which trusts the registry over plain HTTP.
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DevSession, ImageBuild } from '@dsa/api';
import { DSA_RESOURCES, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, type TestNamespace } from '../../lib/index.js';
import { dsa, expectExit, imageBuilds, runningPods, splitRef, startOperator } from './cli-project.test-util.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');
const DOCKER_HOST = process.env.DOCKER_HOST;

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let core: k8s.CoreV1Api;
let stopOperator: () => Promise<void>;
let dir: string;
let repoBase: string;
let dockerTag: string;

async function write(rel: string, text: string, mode?: number): Promise<void> {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), text);
  if (mode) await chmod(path.join(dir, rel), mode);
}

const deployment = (name: string, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: ${image}}]
`;

/** v1beta9 build.docker project; `suffix` makes another repository (the fallback must really build). */
function dockerConfig(suffix: string): string {
  return `version: v1beta9
images:
  app:
    image: ${repoBase}/app${suffix}
    context: ./app
    dockerfile: ./app/Dockerfile
    cmd: [sh, -c, "cat /greeting; echo cmd-override; sleep 3600"]
    build:
      docker:
        options:
          target: final
          buildArgs: {BASE: "${env.testImage}", GREETING: hello-docker}
      kaniko: {insecure: true}
deployments:
- name: app
  kubectl: {manifests: [kube]}
`;
}

async function logsOf(app: string): Promise<string> {
  const pods = await runningPods(kc, ns.name, `app=${app}`);
  if (!pods[0]) throw new Error(`no running pod for app=${app}`);
  return core.readNamespacedPodLog({ namespace: ns.name, name: pods[0].metadata!.name!, container: 'main' });
}

beforeAll(async () => {
  if (!DOCKER_HOST) throw new Error('DOCKER_HOST is not set: the node tier starts a dockerd for local builds (eval "$(test-e2e/cluster/ensure.sh node)")');
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-localbuild');
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-localbuild-'));
  repoBase = `${env.registry}/${ns.name}`;

  // docker: a multi-stage Dockerfile where only the target stage and the build args give the right output.
  // Its own context folder: the configs written next to it by later tests must not change its digest.
  await write(
    'docker/app/Dockerfile',
    'ARG BASE\nFROM ${BASE} AS base\nARG GREETING=unset\nRUN echo "$GREETING" > /greeting\nFROM base AS wrong\nCMD ["sh", "-c", "echo wrong-target; sleep 3600"]\nFROM base AS final\nCMD ["sh", "-c", "cat /greeting; sleep 3600"]\n',
  );
  await write('docker/kube/app.yaml', deployment('app', `${repoBase}/app`));
  await write('docker/devspace.yaml', dockerConfig(''));

  // custom: no Dockerfile at the root; the builds use their own under custom/.
  await write('custom/src/greeting.txt', 'hello-custom\n');
  await write('custom/docker/Dockerfile.tool', 'ARG BASE\nFROM ${BASE}\nCOPY src/greeting.txt /greeting\nCMD ["sh", "-c", "cat /greeting; sleep 3600"]\n');
  await write('custom/docker/Dockerfile.script', 'ARG BASE\nFROM ${BASE}\nCMD ["sh", "-c", "echo hello-script; sleep 3600"]\n');
  // DevSpace's order: args, then per tag `--image <image:tag>`, then appendArgs. BASE comes from the environment.
  await write(
    'custom/build.sh',
    '#!/bin/sh\nset -e\ndf=$1\n[ "$2" = --image ] || { echo "usage: build.sh <dockerfile> --image <ref> (got $*)" >&2; exit 64; }\necho "build.sh $*" >> builds.log\ndocker build -q -t "$3" --build-arg BASE="$BASE" -f "$df" .\ndocker push -q "$3"\n',
    0o755,
  );
  await write('custom/kube/apps.yaml', `${deployment('tool', `${repoBase}/tool`)}---\n${deployment('script', `${repoBase}/script`)}`);
  await write(
    'custom/devspace.yaml',
    `version: v2beta1
name: custom-builds
images:
  tool:
    image: ${repoBase}/tool
    custom:
      command: ./build.sh
      args: [docker/Dockerfile.tool]
      imageFlag: --image
      skipImageArg: false
      onChange: [src/**, docker/Dockerfile.tool]
  script:
    image: ${repoBase}/script
    custom:
      command: |-
        set -e
        docker build -q -t \${runtime.images.script.image}:\${runtime.images.script.tag} --build-arg BASE="$BASE" -f docker/Dockerfile.script .
        docker push -q \${runtime.images.script.image}:\${runtime.images.script.tag}
      onChange: [docker/Dockerfile.script]
deployments:
  apps:
    kubectl: {manifests: [kube]}
`,
  );
  stopOperator = startOperator(kc, ns.name, env);
});

afterAll(async () => {
  await stopOperator?.();
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('images built by the agent', () => {
  test('build.docker: built and pushed by the local daemon; the pod runs the content-addressed tag; no ImageBuild', async () => {
    const project = path.join(dir, 'docker');
    const t0 = Date.now();
    const r = await dsa(project, path.join(project, 'devspace.yaml'), ns.name, ['deploy', '--timeout', '5m']);
    expectExit(r, 0);
    console.log(`local-builds: docker build + push + deploy in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    expect(r.stderr).toMatch(/image app: building .*\/app:dsa-[0-9a-f]{12} with the Docker daemon at unix:\/\//);
    expect(r.stderr).toMatch(/image app: pushed .*\/app:dsa-[0-9a-f]{12} \(sha256:[0-9a-f]{64}\)/);

    const pods = await runningPods(kc, ns.name, 'app=app');
    expect(pods.length).toBe(1);
    const [repo, tag] = splitRef(pods[0]!.spec!.containers[0]!.image!);
    expect(repo).toBe(`${repoBase}/app`);
    dockerTag = tag;
    // target: final, buildArgs GREETING, and the appended CMD all reached the image.
    await expect(logsOf('app')).resolves.toBe('hello-docker\ncmd-override\n');
    // Built by the agent: the operator made no ImageBuild, so no kaniko pod.
    expect(await imageBuilds(kc, ns.name)).toEqual([]);
    expect((await core.listNamespacedPod({ namespace: ns.name })).items.map((p) => p.metadata?.labels?.app)).toEqual(['app']);

    // The same tag the in-cluster build would have: render shows the kaniko fallback's ImageBuild.
    const rendered = await dsa(project, path.join(project, 'devspace.yaml'), ns.name, ['render', '-o', 'json']);
    expectExit(rendered, 0);
    const items = (JSON.parse(rendered.stdout) as { items: Array<ImageBuild | DevSession> }).items;
    expect(items.filter((i): i is ImageBuild => i.kind === 'ImageBuild').map((i) => i.spec.tag)).toEqual([dockerTag]);

    // Nothing changed: the daemon has the image; it is pushed again (cheap), not built.
    const again = await dsa(project, path.join(project, 'devspace.yaml'), ns.name, ['deploy', '--timeout', '3m']);
    expectExit(again, 0);
    expect(again.stderr).toContain(`image app: ${repoBase}/app:${dockerTag} is already in the Docker daemon; pushing`);
    expect(again.stderr).not.toContain('with the Docker daemon at');
  });

  test('custom: DevSpace\'s arguments and a runtime-variable script, each pushing with docker; onChange skips unchanged builds', async () => {
    const project = path.join(dir, 'custom');
    const file = path.join(project, 'devspace.yaml');
    const r = await dsa(project, file, ns.name, ['deploy', '--timeout', '5m'], { BASE: env.testImage });
    expectExit(r, 0);
    expect(r.stderr).toMatch(/image tool: building .*\/tool:dsa-[0-9a-f]{12} with the custom command/);
    expect(r.stderr).toMatch(/image script: building .*\/script:dsa-[0-9a-f]{12} with the custom command/);
    await expect(logsOf('tool')).resolves.toBe('hello-custom\n');
    await expect(logsOf('script')).resolves.toBe('hello-script\n');
    const toolImage = (await runningPods(kc, ns.name, 'app=tool'))[0]!.spec!.containers[0]!.image!;
    expect(toolImage).toMatch(new RegExp(`^${repoBase}/tool:dsa-[0-9a-f]{12}$`));
    expect(await imageBuilds(kc, ns.name)).toEqual([]);

    // Unchanged onChange files: neither command runs again.
    const again = await dsa(project, file, ns.name, ['deploy', '--timeout', '3m'], { BASE: env.testImage });
    expectExit(again, 0);
    expect(again.stderr).toContain(`image tool: ${toolImage} is up to date (onChange files unchanged since the last build)`);
    expect(again.stderr).not.toContain('with the custom command');

    // A changed file: a new tag, built, rolled out.
    await write('custom/src/greeting.txt', 'hello-again\n');
    const changed = await dsa(project, file, ns.name, ['deploy', '--timeout', '5m'], { BASE: env.testImage });
    expectExit(changed, 0);
    expect(changed.stderr).toMatch(/image tool: building .* with the custom command \(onChange files changed\)/);
    expect(changed.stderr).not.toMatch(/image script: building/);
    const pods = await runningPods(kc, ns.name, 'app=tool');
    expect(pods.map((p) => p.spec!.containers[0]!.image)).not.toContain(toolImage);
    await expect(logsOf('tool')).resolves.toBe('hello-again\n');
  });

  test('no Docker daemon: the docker image is built in the cluster with kaniko, with the same tag rules', async () => {
    const project = path.join(dir, 'docker');
    const file = path.join(project, 'devspace-fallback.yaml');
    await write('docker/kube-fallback/app.yaml', deployment('app-fallback', `${repoBase}/app-fallback`));
    await writeFile(file, dockerConfig('-fallback').replace('manifests: [kube]', 'manifests: [kube-fallback]'));
    const r = await dsa(project, file, ns.name, ['deploy', '--timeout', '6m'], { DOCKER_HOST: `unix://${path.join(dir, 'no-daemon.sock')}` });
    expectExit(r, 0);
    expect(r.stderr).toMatch(/image app: no Docker daemon answers at unix:\/\/.*no-daemon\.sock .*; building it in the cluster with kaniko/);
    const ib = (await imageBuilds(kc, ns.name)).find((b) => b.spec.image === `${repoBase}/app-fallback`);
    expect(ib?.status?.phase).toBe('Succeeded');
    // Same inputs as the docker build (only the repository differs): the same content-addressed tag.
    expect(ib?.status?.tag).toBe(dockerTag);
    await expect(logsOf('app-fallback')).resolves.toBe('hello-docker\ncmd-override\n');
  });

  test('disableFallback without a daemon fails in one line, before anything is applied', async () => {
    const project = path.join(dir, 'docker');
    const file = path.join(project, 'devspace-strict.yaml');
    await writeFile(file, dockerConfig('-strict').replace('        options:', '        disableFallback: true\n        options:'));
    const r = await dsa(project, file, ns.name, ['deploy', '--timeout', '1m'], { DOCKER_HOST: `unix://${path.join(dir, 'no-daemon.sock')}` });
    expectExit(r, 1);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/^dsa deploy: image app: no Docker daemon answers at .*, and docker\.disableFallback is set \(start the Docker daemon or point DOCKER_HOST at one\)$/);
  });
});
