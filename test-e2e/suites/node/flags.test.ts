// Full-node tier: the build/deploy flags of `dsa deploy` and `dsa up`, as DevSpace's, through the real
// CLI with an in-process operator and real kaniko builds of a two-image project:
//
//   --build-sequential (one image built after the other) · -b (both rebuilt, same tags) · --skip-build
//   (the last built tag, nothing uploaded) · --skip-push (kaniko still pushes) · -d (waits for the NEW
//   rollout: with the Deployment deleted behind its back, dsa returns only once the re-created pod is
//   ready) · up --exit-after-deploy · up -t (a shell in the dev container, in a pseudo-terminal).
//
// Env contract: eval "$(make -s cluster-env)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GROUP, IMAGEBUILD, VERSION, type ImageBuild } from '@dsa/api';
import { DSA_RESOURCES, REPO_ROOT, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, waitFor, type RunResult, type TestNamespace } from '../../lib/index.js';
import { grantDeployer } from '../../lib/tenant.js';
import { startOperator } from './cli-project.test-util.js';

jest.setTimeout(900_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');
const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');
const RUN = randomBytes(3).toString('hex');
const repo = (x: string) => `${env.registry}/e2e/flags-${RUN}-${x}`;

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let dir: string;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let stopOperator: (() => Promise<void>) | undefined;

const dsaArgs = (args: string[]) => [DSA, '-n', ns.name, '--no-color', ...args];
function dsa(args: string[], timeoutMs = 480_000): Promise<RunResult> {
  return run(process.execPath, dsaArgs(args), { cwd: dir, env: { KUBECONFIG: env.kubeconfig }, timeoutMs, allowFailure: true });
}
const show = (r: RunResult) => `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
const ok = (r: RunResult) => {
  if (r.code !== 0) throw new Error(show(r));
  return r;
};

async function dockerfile(name: string, content: string): Promise<void> {
  await writeFile(path.join(dir, `${name}.Dockerfile`), `FROM ${env.testImage}\nRUN echo ${content} > /${name}.txt\nCMD ["sleep", "3600"]\n`);
}

async function imageBuild(name: string): Promise<ImageBuild> {
  return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: ns.name, name: `flags-${name}` })) as ImageBuild;
}

async function deployedImages(): Promise<string[]> {
  return ((await apps.readNamespacedDeployment({ namespace: ns.name, name: 'flags' })).spec?.template.spec?.containers ?? []).map((c) => c.image ?? '');
}

async function readyPods(): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=flags' })).items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
}

beforeAll(async () => {
  kc = kubeFromEnv();
  apps = kc.makeApiClient(k8s.AppsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-flags');
  // The operator deploys and builds as the namespace's deployer ServiceAccount (tenant confinement).
  await grantDeployer(kc, ns.name);
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-flags-'));
  await dockerfile('a', `a-${RUN}`);
  await dockerfile('b', `b-${RUN}`);
  await writeFile(
    path.join(dir, 'devspace.yaml'),
    `version: v2beta1
name: flags
images:
  a: {image: ${repo('a')}, dockerfile: ./a.Dockerfile, kaniko: {insecure: true}}
  b: {image: ${repo('b')}, dockerfile: ./b.Dockerfile, kaniko: {insecure: true}}
deployments:
  flags:
    kubectl:
      inlineManifest: |-
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: flags}
        spec:
          selector: {matchLabels: {app: flags}}
          template:
            metadata: {labels: {app: flags}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
                - {name: a, image: ${repo('a')}}
                - {name: b, image: ${repo('b')}}
dev:
  app:
    imageSelector: ${repo('a')}
`,
  );
  stopOperator = startOperator(kc, ns.name, { kanikoImage: env.kanikoImage, testImage: env.testImage }, { logLevel: 'fatal' });
});

afterAll(async () => {
  await stopOperator?.();
  // The operator is stopped: nothing would remove the sessions' finalizers, and the namespace would stay Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('build and deploy flags', () => {
  test('--build-sequential: b\'s context goes up only once a is built', async () => {
    const r = ok(await dsa(['deploy', '--build-sequential']));
    const at = (re: RegExp) => r.stderr.split('\n').findIndex((l) => re.test(l));
    expect(at(/^uploading build context of a /)).toBeGreaterThanOrEqual(0);
    expect(at(/^image a: built .*--build-sequential/)).toBeGreaterThan(at(/^uploading build context of a /));
    expect(at(/^uploading build context of b /)).toBeGreaterThan(at(/^image a: built /));
    const [a, b] = [await imageBuild('a'), await imageBuild('b')];
    // b's build finished after a's: it started after a was done.
    expect(Date.parse(b.status?.completionTime ?? '')).toBeGreaterThanOrEqual(Date.parse(a.status?.completionTime ?? ''));
    expect(await deployedImages()).toEqual([a.status?.image, b.status?.image]);
  });

  test('-b rebuilds both images (same content, same tags) and waits for the rebuilds', async () => {
    const before = [await imageBuild('a'), await imageBuild('b')];
    const r = ok(await dsa(['deploy', '-b']));
    expect(r.stderr).toContain('image a: rebuild requested (-b)');
    expect(r.stderr).toMatch(/^image b: rebuilt /m);
    const after = [await imageBuild('a'), await imageBuild('b')];
    for (const [i, ib] of after.entries()) {
      expect(ib.status?.lastRequestedAt).toBeDefined();
      expect(ib.status?.lastRequestedAt).not.toBe(before[i]!.status?.lastRequestedAt);
      expect(ib.status?.image).toBe(before[i]!.status?.image);
    }
  });

  test('--skip-build deploys the last built tags and uploads nothing, though a\'s Dockerfile changed', async () => {
    const built = await deployedImages();
    await dockerfile('a', `a2-${RUN}`);
    const r = ok(await dsa(['deploy', '--skip-build']));
    expect(r.stderr).not.toContain('uploading');
    expect(r.stderr).toContain(`--skip-build: using ${built[0]} for a`);
    expect(await deployedImages()).toEqual(built);
  });

  test('--skip-push: in-cluster builds still push (DevSpace skips pushes of local builds only); the changed image is deployed', async () => {
    const before = await deployedImages();
    const r = ok(await dsa(['deploy', '--skip-push']));
    expect(r.stderr).toContain('--skip-push: images built locally are not pushed; in-cluster (kaniko) builds always push');
    expect(r.stderr).toMatch(/^uploading build context of a /m);
    // Both images share the project folder as their context: both get new content-addressed tags, both were pushed (the pod runs them).
    const now = await deployedImages();
    expect(now[0]).not.toBe(before[0]);
    expect(now).toEqual([(await imageBuild('a')).status?.image, (await imageBuild('b')).status?.image]);
    expect((await readyPods()).length).toBe(1);
  });

  // The race -d closes (the previous pass's Ready read before the operator took up the request) is
  // unit-tested in agent/src/actions/deploy-flow.test.ts; here: what the user sees, on a real cluster.
  test('-d waits for the new rollout: the Deployment deleted behind dsa\'s back is re-created and ready when dsa returns', async () => {
    const old = (await apps.readNamespacedDeployment({ namespace: ns.name, name: 'flags' })).metadata?.uid;
    await apps.deleteNamespacedDeployment({ namespace: ns.name, name: 'flags', propagationPolicy: 'Foreground' });
    // Gone — or already re-created by the operator, which heals a deleted child on its own when its pods' events
    // wake the session: either way the old rollout is over, and what dsa waits for is a new one.
    await waitFor(
      'the old Deployment to go',
      async () => (await apps.readNamespacedDeployment({ namespace: ns.name, name: 'flags' }).then((d) => d.metadata?.uid, () => undefined)) !== old,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    const r = ok(await dsa(['deploy', '-d']));
    // Checked the moment dsa returned: the new pod is there and ready.
    expect((await readyPods()).length).toBe(1);
    expect(r.stderr).toMatch(/ready; waiting for the rollout this deploy asked for|deploying… /);
  });

  test('up --exit-after-deploy: deploys, prints the result, no dev loop', async () => {
    const r = ok(await dsa(['up', '--exit-after-deploy']));
    expect(r.stdout).toMatch(/^flags\s+\S+\s+Ready/m);
    expect(r.stderr).not.toContain('press Ctrl-C');
  });

  test('up -t: a shell in the dev container (in a pseudo-terminal), its exit code is dsa\'s', async () => {
    const cmd = [process.execPath, ...dsaArgs(['up', '-t'])].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    // util-linux script gives dsa a pseudo-terminal; -e returns the child's exit code.
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: dir, env: { ...process.env, KUBECONFIG: env.kubeconfig, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitFor('the terminal to open', () => /terminal: flags-[a-z0-9-]+\/a/.test(out), { timeoutMs: 240_000, intervalMs: 250 });
      await new Promise((r) => setTimeout(r, 1000));
      child.stdin.write('cat /a.txt; echo "shell-$((6*7))"; exit 7\n');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000).unref())]);
      expect({ code, tail: out.slice(-2000) }).toMatchObject({ code: 7 });
      expect(out).toContain(`a2-${RUN}`);
      expect(out).toContain('shell-42');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
