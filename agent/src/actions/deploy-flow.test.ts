// deployProject's fail-fast, -d, hooks and -t, with the real loader/renderer on a small project in a
// temp folder (a public image, so no build), the in-memory cluster, and an in-memory AnalyzeKube that
// plays the pods behind the session. Hooks are real local processes writing to a file.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DevSession, DevSessionStatus, ImageBuild } from '@dsa/api';
import { contextDigest } from '@dsa/api/build-context';
import { FakeAnalyzeKube, replicaSet, sessionPod } from '../analyze/fake-analyze-kube.test-util.js';
import { testEnv, type TestEnv } from '../devloop/dev-loop.test-util.js';
import { RuntimeError, UsageError } from '../errors.js';
import { FakeKube } from '../session/fake-kube.test-util.js';
import { actionDeps, fakeOperator, type Uploads } from './actions.test-util.js';
import type { ProjectRef } from './action-deps.js';
import type { AnalyzeDeps } from './analyze.js';
import { deployProject, type DeployOptions } from './deploy.js';
import { withTerminal } from './dev.js';

const envs: TestEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.abort();
});
const env = () => {
  const e = testEnv();
  envs.push(e);
  return e;
};

const tmp = mkdtempSync(path.join(tmpdir(), 'dsa-deploy-flow-'));

/** A project folder: one Deployment of a public image, the hooks given. */
function projectDir(hooks = ''): string {
  const dir = mkdtempSync(path.join(tmp, 'p-'));
  writeFileSync(
    path.join(dir, 'devspace.yaml'),
    `version: v2beta1
name: web
deployments:
  web:
    kubectl:
      inlineManifest: |-
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: app, image: busybox:1.36}]}
${hooks}`,
  );
  return dir;
}

const ref = (dir: string): ProjectRef => ({ configPath: path.join(dir, 'devspace.yaml'), profiles: [], vars: {}, processEnv: { PATH: process.env.PATH }, owner: { user: 'alice', host: 'laptop' } });
const cond = (type: string, status: 'True' | 'False', gen: number, reason = 'X', message = '') => ({ type, status, observedGeneration: gen, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' });
const fast: DeployOptions['wait'] = { pollMs: 5, inspectEveryMs: 0, settleMs: 0 };

/** The session moves through `steps` (one per read), staying at the last. */
function operator(kube: FakeKube, steps: Array<(gen: number) => DevSessionStatus>): { reads: () => number } {
  let i = 0;
  kube.onGetSession = (_r, s) => {
    if (!s) return s;
    const gen = s.metadata.generation ?? 1;
    const st = steps[Math.min(i++, steps.length - 1)]!(gen);
    return { ...s, status: st } as DevSession;
  };
  return { reads: () => i };
}

const deploying = (gen: number): DevSessionStatus => ({ observedGeneration: gen, phase: 'Deploying', deploymentsReady: '0/1', deployments: [{ name: 'web', ready: false, message: 'Deployment/web: 0 of 1 updated replicas available' }], conditions: [cond('Ready', 'False', gen), cond('Reconciling', 'True', gen, 'RolloutInProgress')] });
const ready = (gen: number): DevSessionStatus => ({ observedGeneration: gen, phase: 'Ready', deploymentsReady: '1/1', deployments: [{ name: 'web', ready: true }], inventory: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'dev', name: 'web' }], conditions: [cond('Ready', 'True', gen, 'Succeeded')] });

function deps(e: TestEnv, kube: FakeKube, analyze: FakeAnalyzeKube): AnalyzeDeps {
  const uploads: Uploads = { done: [] };
  return { ...actionDeps(e, kube, { uploads }), analyze: { analyzeKube: async () => analyze } };
}

describe('fail fast', () => {
  it('a crash-looping container stops the wait with the container\'s last words and the exit code', async () => {
    const kube = new FakeKube();
    operator(kube, [deploying]);
    const analyze = new FakeAnalyzeKube();
    analyze.replicaSets = [replicaSet('web-1', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 1, replicas: 1, ready: 0 })];
    analyze.pods = [sessionPod('web-1-a', { session: 'web', owner: { kind: 'ReplicaSet', name: 'web-1', uid: 'web-1-uid' }, state: 'crashloop' })];
    analyze.logs.set('web-1-a/app/previous', 'listening\nError: cannot connect to postgres:5432\n');
    const e = env();
    const err = await deployProject(e, deps(e, kube, analyze), { project: ref(projectDir()), timeoutMs: 600_000, wait: fast }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toBe('the rollout cannot succeed: Pod dev/web-1-a (container app): crash loop: exit code 3, 2 restarts');
    expect((err as RuntimeError).hint).toContain('exits with code 3');
    const stderr = e.stderr.toString();
    expect(e.lines).toContain('error: the rollout cannot succeed without a change:');
    expect(stderr).toContain('Pod dev/web-1-a\n  ✗ app: crash loop: exit code 3, 2 restarts');
    expect(stderr).toContain('| Error: cannot connect to postgres:5432');
  });

  it('while a fix rolls out, the old ReplicaSet\'s crash loop does not stop the deploy; progress says what is awaited', async () => {
    const kube = new FakeKube();
    const analyze = new FakeAnalyzeKube();
    analyze.replicaSets = [
      replicaSet('web-1', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 1, replicas: 1, ready: 0 }),
      replicaSet('web-2', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 2, replicas: 1, ready: 0 }),
    ];
    analyze.pods = [
      sessionPod('web-1-a', { session: 'web', owner: { kind: 'ReplicaSet', name: 'web-1', uid: 'web-1-uid' }, state: 'crashloop' }),
      sessionPod('web-2-a', { session: 'web', owner: { kind: 'ReplicaSet', name: 'web-2', uid: 'web-2-uid' }, state: 'creating' }),
    ];
    operator(kube, [deploying, deploying, deploying, ready]);
    const e = env();
    const r = await deployProject(e, deps(e, kube, analyze), { project: ref(projectDir()), timeoutMs: 600_000, wait: fast });
    expect(r.root.status?.phase).toBe('Ready');
    expect(e.lines).toContain('info: deploying… 0/1 deployments ready; web: Deployment/web: 0 of 1 updated replicas available (pod web-2-a/app: ContainerCreating)');
  });

  it('an ImageBuild retrying against a registry that speaks plain HTTP stops at once, naming registries.insecure', async () => {
    const kube = new FakeKube();
    operator(kube, [(gen) => ({ observedGeneration: gen, phase: 'Building', imagesBuilt: '0/1', images: [{ name: 'app', phase: 'Pending' }], conditions: [cond('Ready', 'False', gen)] })]);
    const analyze = new FakeAnalyzeKube();
    const message = 'cannot check whether 10.0.0.5:5000/web:dsa-1 exists, the registry is unreachable: http: server gave HTTP response to HTTPS client; retrying';
    analyze.imageBuilds = [
      {
        apiVersion: 'dsa.dev/v1alpha1',
        kind: 'ImageBuild',
        metadata: { name: 'web-app', namespace: 'dev', generation: 1, labels: { 'dsa.dev/session': 'web', 'dsa.dev/session-namespace': 'dev', 'dsa.dev/image': 'app' } },
        spec: { image: '10.0.0.5:5000/web', context: { upload: { digest: `sha256:${'a'.repeat(64)}` } } },
        status: { observedGeneration: 1, phase: 'Pending', message, conditions: [cond('Reconciling', 'True', 1, 'RegistryUnreachable', message)] },
      } as ImageBuild,
    ];
    const e = env();
    const err = await deployProject(e, deps(e, kube, analyze), { project: ref(projectDir()), timeoutMs: 600_000, wait: fast }).catch((x: unknown) => x);
    expect((err as Error).message).toMatch(/^the rollout cannot succeed: ImageBuild dev\/web-app: RegistryUnreachable: cannot check whether/);
    expect((err as RuntimeError).hint).toMatch(/10\.0\.0\.5:5000 speaks plain HTTP, not HTTPS: list it in the operator's chart value registries\.insecure/);
  });

  it('a stalled session is explained (what is wrong) and its error carries the fix', async () => {
    const kube = new FakeKube();
    const msg = 'image app failed to build: build failed (exit code 1): error pushing image: Get "https://10.0.0.5:5000/v2/": http: server gave HTTP response to HTTPS client';
    operator(kube, [(gen) => ({ observedGeneration: gen, phase: 'Failed', message: msg, conditions: [cond('Stalled', 'True', gen, 'ImageBuildFailed', msg)] })]);
    const analyze = new FakeAnalyzeKube();
    const e = env();
    const err = await deployProject(e, deps(e, kube, analyze), { project: ref(projectDir()), timeoutMs: 600_000, wait: fast }).catch((x: unknown) => x);
    expect((err as Error).message).toBe(`DevSession web failed: ${msg}`);
    expect((err as RuntimeError).hint).toContain('registries.insecure');
    expect(e.lines).toContain('error: what is wrong:');
    expect(e.stderr.toString()).toContain('DevSession dev/web\n  ✗ ImageBuildFailed: image app failed to build');
  });
});

describe('-d/--force-deploy', () => {
  it('waits past the previous pass\'s Ready until the rollout behind the session is complete', async () => {
    const kube = new FakeKube();
    operator(kube, [ready]);
    const analyze = new FakeAnalyzeKube();
    analyze.replicaSets = [replicaSet('web-2', { session: 'web', deployment: 'web', deployUid: 'd1', revision: 2, replicas: 1, ready: 0 })];
    analyze.pods = [sessionPod('web-2-a', { session: 'web', owner: { kind: 'ReplicaSet', name: 'web-2', uid: 'web-2-uid' }, state: 'creating' })];
    const e = env();
    let inspections = 0;
    const original = analyze.listPods.bind(analyze);
    analyze.listPods = async (ns, sel) => {
      // The new pod becomes ready after a few looks.
      if (++inspections === 6) {
        analyze.pods = [sessionPod('web-2-a', { session: 'web', owner: { kind: 'ReplicaSet', name: 'web-2', uid: 'web-2-uid' }, state: 'ready' })];
        analyze.replicaSets[0]!.status!.readyReplicas = 1;
      }
      return original(ns, sel);
    };
    const r = await deployProject(e, deps(e, kube, analyze), { project: ref(projectDir()), forceDeploy: true, timeoutMs: 600_000, wait: fast });
    expect(r.root.status?.phase).toBe('Ready');
    expect(inspections).toBeGreaterThanOrEqual(6);
    expect(e.lines).toContain('info: ready; waiting for the rollout this deploy asked for… (pod web-2-a/app: ContainerCreating)');
    // Without -d the previous Ready is good enough (nothing was asked of the operator): one look behind it
    // (a pod ready only just now must stay up a moment), no waiting.
    const e2 = env();
    const before = inspections;
    await deployProject(e2, deps(e2, kube, analyze), { project: ref(projectDir()), timeoutMs: 600_000, wait: fast });
    expect(inspections).toBe(before + 1);
  });
});

describe('hooks', () => {
  it('run locally in the project folder at DevSpace\'s points, in order, with DevSpace\'s environment', async () => {
    const dir = projectDir(`hooks:
  - events: [after:deploy]
    command: echo "after:deploy $DEVSPACE_HOOK_EVENT" >> hooks.log
  - events: [before:deploy]
    command: echo "before:deploy ns=$DEVSPACE_HOOK_KUBE_NAMESPACE" >> hooks.log
  - events: ["after:deploy:web"]
    command: sh
    args: [-c, 'echo "after:deploy:web $DEVSPACE_HOOK_DEPLOY_NAME" >> hooks.log']
  - events: ["before:deploy:*"]
    command: echo "before:deploy:* $DEVSPACE_HOOK_DEPLOY_NAME" >> hooks.log
  - events: [error:deploy]
    command: echo error >> hooks.log
  - events: [after:deploy]
    os: windows
    command: echo never >> hooks.log
`);
    const kube = new FakeKube();
    operator(kube, [deploying, deploying, ready]);
    const e = env();
    await deployProject(e, deps(e, kube, new FakeAnalyzeKube()), { project: ref(dir), timeoutMs: 600_000, wait: fast });
    expect(readFileSync(path.join(dir, 'hooks.log'), 'utf8')).toBe('before:deploy ns=dev\nbefore:deploy:* web\nafter:deploy:web web\nafter:deploy after:deploy\n');
    expect(e.lines).toContain("info: hook 'echo \"before:deploy ns=$DEVSPACE_HOOK_KUBE_NAMESPACE\" >> hooks.log' at before:deploy");
    // The before-hooks ran before the session was applied.
    expect(kube.calls).toEqual(['ns dev', 'apply dev/web']);
  });

  it('what a before:deploy hook writes (a manifest) is what gets deployed: the project is rendered again after it', async () => {
    const dir = mkdtempSync(path.join(tmp, 'gen-'));
    writeFileSync(
      path.join(dir, 'devspace.yaml'),
      `version: v2beta1
name: web
deployments:
  gen:
    kubectl:
      manifests: [gen.yaml]
hooks:
  - events: [before:deploy]
    command: sed -i s/hand/hook/ gen.yaml
`,
    );
    // The manifest exists before (the loader checks files); the hook rewrites it.
    writeFileSync(path.join(dir, 'gen.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gen}\ndata: {by: hand}\n');
    const kube = new FakeKube();
    operator(kube, [ready]);
    const e = env();
    await deployProject(e, deps(e, kube, new FakeAnalyzeKube()), { project: ref(dir), timeoutMs: 600_000, wait: fast });
    const gen = kube.sessions.get('dev/web')?.spec.deployments?.find((d) => d.name === 'gen');
    expect(gen?.kubectl?.manifests?.join('')).toContain('by: hook');
  });

  it('a failing hook fails the deploy before anything is applied; a failed deploy fires error:deploy', async () => {
    const failing = projectDir(`hooks:
  - events: [before:deploy]
    command: exit 4
`);
    const kube = new FakeKube();
    const e = env();
    const err = await deployProject(e, deps(e, kube, new FakeAnalyzeKube()), { project: ref(failing), timeoutMs: 600_000, wait: fast }).catch((x: unknown) => x);
    expect((err as Error).message).toBe("hook 'exit 4' at before:deploy failed: exit code 4");
    expect(kube.calls).toEqual([]);
    const errDir = projectDir(`hooks:
  - events: [error:deploy]
    command: echo "error:deploy $DEVSPACE_HOOK_ERROR" >> hooks.log
`);
    const kube2 = new FakeKube();
    operator(kube2, [(gen) => ({ observedGeneration: gen, phase: 'Failed', conditions: [cond('Stalled', 'True', gen, 'DeployFailed', 'Job/x failed')] })]);
    const e2 = env();
    await deployProject(e2, deps(e2, kube2, new FakeAnalyzeKube()), { project: ref(errDir), timeoutMs: 600_000, wait: fast }).catch(() => undefined);
    expect(readFileSync(path.join(errDir, 'hooks.log'), 'utf8')).toBe('error:deploy DevSession web failed: Job/x failed\n');
  });
});

describe('build hooks', () => {
  /** A project with one image whose Dockerfile copies gen.txt, and the hooks given. */
  function imageProject(hooks: string): string {
    const dir = mkdtempSync(path.join(tmp, 'img-'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox:1.36\nCOPY gen.txt /gen.txt\n');
    writeFileSync(path.join(dir, 'gen.txt'), 'by hand\n');
    writeFileSync(
      path.join(dir, 'devspace.yaml'),
      `version: v2beta1
name: web
images:
  app:
    image: reg.local:5000/web/app
deployments:
  web:
    kubectl:
      inlineManifest: |-
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: web}
${hooks}`,
    );
    return dir;
  }

  it('what a before:build hook writes (a file the Dockerfile copies) is in the build context that is hashed and uploaded', async () => {
    const dir = imageProject(`hooks:
  - events: [before:build]
    command: echo generated > gen.txt
  - events: ["before:build:app"]
    command: echo "before:build:app $DEVSPACE_HOOK_IMAGE_CONFIG_NAME" >> hooks.log
  - events: ["skip:build:*"]
    command: echo never >> hooks.log
`);
    const before = await contextDigest(dir, 'Dockerfile');
    const kube = new FakeKube();
    const uploads: Uploads = { done: [] };
    fakeOperator(kube, uploads);
    const e = env();
    await deployProject(e, actionDeps(e, kube, { uploads }), { project: ref(dir), timeoutMs: 60_000, wait: fast });
    expect(readFileSync(path.join(dir, 'gen.txt'), 'utf8')).toBe('generated\n');
    const digest = kube.sessions.get('dev/web')?.spec.images?.[0]?.context?.upload?.digest;
    expect(digest).toBe(await contextDigest(dir, 'Dockerfile'));
    expect(digest).not.toBe(before);
    // The upload is checked against that digest (a stale one is "the build context changed").
    expect(uploads.done).toEqual([expect.stringMatching(/^web-app-build \d+$/)]);
    expect(readFileSync(path.join(dir, 'hooks.log'), 'utf8')).toBe('before:build:app app\n');
  }, 30_000);

  it('--skip-build: skip:build:* and skip:build:<image> fire for the image not built; before:build does not', async () => {
    const dir = imageProject(`hooks:
  - events: ["skip:build:*"]
    command: echo "skip:build:* $DEVSPACE_HOOK_IMAGE_CONFIG_NAME $DEVSPACE_HOOK_IMAGE_NAME" >> hooks.log
  - events: ["skip:build:app"]
    command: echo "skip:build:app" >> hooks.log
  - events: [before:build, "before:build:app"]
    command: echo never >> hooks.log
`);
    const kube = new FakeKube();
    const uploads: Uploads = { done: [] };
    fakeOperator(kube, uploads);
    kube.builds.set('dev/web-app', {
      apiVersion: 'dsa.dev/v1alpha1',
      kind: 'ImageBuild',
      metadata: { name: 'web-app', namespace: 'dev', generation: 1 },
      spec: { image: 'reg.local:5000/web/app', tag: 'dsa-0123456789ab' },
      status: { observedGeneration: 1, phase: 'Succeeded', tag: 'dsa-0123456789ab' },
    } as ImageBuild);
    const e = env();
    await deployProject(e, actionDeps(e, kube, { uploads }), { project: ref(dir), skipBuild: true, timeoutMs: 60_000, wait: fast });
    expect(uploads.done).toEqual([]);
    expect(readFileSync(path.join(dir, 'hooks.log'), 'utf8')).toBe('skip:build:* app reg.local:5000/web/app\nskip:build:app\n');
  }, 30_000);
});

describe('-t/--terminal', () => {
  const root = (dev?: DevSession['spec']['dev'], images: string[] = ['app']): DevSession => ({
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'DevSession',
    metadata: { name: 'web', namespace: 'dev' },
    spec: { project: 'web', images: images.map((name) => ({ name, image: `r/${name}`, context: { upload: { digest: `sha256:${'a'.repeat(64)}` } } })), ...(dev ? { dev } : {}) },
  });

  it('keeps a dev pod\'s terminal, gives the first dev pod one, or adds a dev pod on the only image', async () => {
    const withOne = { pods: [{ name: 'api', selector: { imageName: 'app' } }, { name: 'ui', selector: { imageName: 'app' }, terminal: { command: ['bash'] } }] };
    expect(await withTerminal(root(withOne))).toEqual(root(withOne));
    expect((await withTerminal(root({ pods: [{ name: 'api', selector: { imageName: 'app' } }] }))).spec.dev?.pods?.[0]?.terminal).toEqual({ enabled: true });
    expect((await withTerminal(root())).spec.dev?.pods).toEqual([{ name: 'terminal', selector: { imageName: 'app' }, terminal: { enabled: true } }]);
  });

  it('several images: asks which (DevSpace\'s question), or says how to choose when nobody can answer', async () => {
    const asked: string[] = [];
    const picked = await withTerminal(root(undefined, ['api', 'ui']), async (q, o) => {
      asked.push(`${q} ${o.options?.join('|')}`);
      return 'ui';
    });
    expect(asked).toEqual(['Which image do you want to open a terminal to? api|ui']);
    expect(picked.spec.dev?.pods?.[0]?.selector).toEqual({ imageName: 'ui' });
    await expect(withTerminal(root(undefined, ['api', 'ui']))).rejects.toBeInstanceOf(UsageError);
    await expect(withTerminal(root(undefined, []))).rejects.toThrow('-t/--terminal: the project has no dev pod and no image to open a terminal in');
  });
});

