import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, API_VERSION, IMAGEBUILD, LABELS, buildTag, type ImageBuild, type ImageBuildStatus } from '@dsa/api';
import { FakeClock } from '../../runtime/clock.js';
import { TerminalError } from '../../runtime/errors.js';
import { createMetrics } from '../../server/metrics.js';
import { apiError } from '../../runtime/testing.js';
import { ImageBuildReconciler, type RegistryLookup } from './reconciler.js';
import type { ImageBuildClients } from './clients.js';
import { buildPodName, desiredBuildPod, destinations, validateBuildSpec } from './desired-build-pod.js';
import { describeRetry, isNewerRequest, observeBuildPod } from './build-state.js';
import { RegistryError } from '../../registry/client.js';
import { GitTransientError } from '../../git/git.js';
import { KanikoBuilder, kanikoArgs } from '../../builders/kaniko.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const IMG_DIGEST = `sha256:${'d'.repeat(64)}`;
const cfg = { kanikoImage: 'kaniko:1', helperImage: 'busybox:1' };

function ib(over: Partial<ImageBuild['spec']> = {}, generation = 1): ImageBuild {
  return {
    apiVersion: API_VERSION,
    kind: IMAGEBUILD.kind,
    metadata: { name: 'app-api', namespace: 'dev', uid: 'uid-1', generation },
    spec: { image: 'reg:5000/team/api', context: { upload: { digest: DIGEST } }, ...over },
  };
}

class Fake implements ImageBuildClients {
  obj: ImageBuild | undefined;
  pods = new Map<string, V1Pod>();
  created: V1Pod[] = [];
  deleted: string[] = [];
  statusWrites: ImageBuildStatus[] = [];
  logs = 'step 1\nstep 2\nerror: boom';
  /** Thrown by the next createPod / applyStatus (once). */
  createError: unknown;
  statusError: unknown;
  /** Who the build actions were sent as. */
  identities: string[] = [];
  constructor(o: ImageBuild) {
    this.obj = o;
  }
  as(user: string) {
    this.identities.push(user);
    return this;
  }
  async getImageBuild() {
    return this.obj ? structuredClone(this.obj) : undefined;
  }
  async applyStatus(_ib: ImageBuild, status: ImageBuildStatus) {
    if (this.statusError) {
      const e = this.statusError;
      this.statusError = undefined;
      throw e;
    }
    this.statusWrites.push(status);
    this.obj!.status = structuredClone(status);
  }
  async getPod(_ns: string, name: string) {
    return this.pods.get(name);
  }
  async listPods(_ns: string, sel: string) {
    const [k, v] = sel.split('=');
    return [...this.pods.values()].filter((p) => p.metadata?.labels?.[k!] === v);
  }
  async createPod(pod: V1Pod) {
    if (this.createError) {
      const e = this.createError;
      this.createError = undefined;
      throw e;
    }
    if (this.pods.has(pod.metadata!.name!)) throw apiError(409, 'AlreadyExists');
    const p = { ...structuredClone(pod), metadata: { ...pod.metadata, creationTimestamp: new Date(Date.UTC(2025, 0, 1)) } } as V1Pod;
    this.pods.set(pod.metadata!.name!, p);
    this.created.push(p);
    return p;
  }
  async deletePod(_ns: string, name: string) {
    this.deleted.push(name);
    this.pods.delete(name);
  }
  async readDockerConfig() {
    return undefined;
  }
  async podLogTail() {
    return this.logs;
  }
  setPodStatus(status: V1Pod['status']) {
    const p = [...this.pods.values()][0]!;
    p.status = status;
  }
  annotate(requestedAt: string) {
    this.obj!.metadata.annotations = { ...(this.obj!.metadata.annotations ?? {}), [ANNOTATIONS.requestedAt]: requestedAt };
  }
}

const emptyRegistry: RegistryLookup = { manifestDigest: async () => undefined };
const req = { namespace: 'dev', name: 'app-api' };

function setup(o = ib(), registry = emptyRegistry) {
  const fake = new Fake(o);
  const clock = new FakeClock();
  const metrics = createMetrics({ defaultMetrics: false });
  const r = new ImageBuildReconciler({ clients: fake, pod: cfg, registry, clock, metrics, failedPodTtlMs: 60_000, pollIntervalMs: 5_000 });
  return { fake, clock, metrics, r };
}

const succeeded: V1Pod['status'] = { phase: 'Succeeded', containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: IMG_DIGEST } } }] };
const reasonOf = (o: ImageBuild | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

const running = (uploadRunning: boolean): V1Pod['status'] => ({
  phase: 'Pending',
  initContainerStatuses: [{ name: 'upload', image: '', imageID: '', ready: false, restartCount: 0, state: uploadRunning ? { running: {} } : { terminated: { exitCode: 0 } } }],
  containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: uploadRunning ? { waiting: { reason: 'PodInitializing' } } : { running: {} } }],
});

describe('desiredBuildPod', () => {
  it('is deterministic, owned, and wires receiver + kaniko', () => {
    const o = ib({ tags: ['dev'], buildArgs: { B: '2', A: '1' }, target: 'dev', entrypoint: ['node'], registry: { insecure: true, pushSecret: 'regcred' }, builder: { cache: true, args: ['--verbosity=debug'] } });
    const tag = 'dsa-0123456789ab';
    const pod = desiredBuildPod(o, cfg, { tag, tarDigest: DIGEST });
    expect(desiredBuildPod(o, cfg, { tag, tarDigest: DIGEST })).toEqual(pod);
    expect(pod.metadata!.name).toBe(buildPodName(o, tag));
    expect(pod.metadata!.name).toMatch(/^app-api-build-[0-9a-f]{10}$/);
    expect(buildPodName(ib({}, 2), tag)).not.toBe(pod.metadata!.name);
    expect(pod.metadata!.ownerReferences).toEqual([{ apiVersion: API_VERSION, kind: 'ImageBuild', name: 'app-api', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    expect(pod.metadata!.labels![LABELS.imageBuild]).toBe('app-api');
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.spec!.automountServiceAccountToken).toBe(false);
    const upload = pod.spec!.initContainers![0]!;
    expect(upload.name).toBe('upload');
    expect(upload.image).toBe('busybox:1');
    expect(upload.env!.find((e) => e.name === 'DSA_CONTEXT_DIGEST')!.value).toBe(DIGEST);
    expect(upload.env!.find((e) => e.name === 'DSA_DOCKERFILE_APPEND')!.value).toBe('ENTRYPOINT ["node"]');
    const build = pod.spec!.containers[0]!;
    expect(build.image).toBe('kaniko:1');
    expect(build.args).toEqual([
      '--context=dir:///workspace/context',
      '--dockerfile=/workspace/Dockerfile.dsa',
      `--destination=reg:5000/team/api:${tag}`,
      '--destination=reg:5000/team/api:dev',
      '--build-arg=A=1',
      '--build-arg=B=2',
      '--target=dev',
      '--digest-file=/dev/termination-log',
      '--insecure',
      '--insecure-pull',
      '--skip-tls-verify',
      '--skip-tls-verify-pull',
      '--cache=true',
      '--log-format=text',
      '--log-timestamp=false',
      '--verbosity=debug',
    ]);
    expect(build.volumeMounts).toContainEqual({ name: 'docker-config', mountPath: '/kaniko/.docker', readOnly: true });
    expect(pod.spec!.volumes).toContainEqual({ name: 'docker-config', secret: { secretName: 'regcred', items: [{ key: '.dockerconfigjson', path: 'config.json' }] } });
  });

  it('uses the Dockerfile in the context when there is nothing to append; dedupes tags', () => {
    const o = ib({ dockerfile: 'docker/Dockerfile', tags: ['x', 'x'] });
    expect(destinations(o, 'x')).toEqual(['reg:5000/team/api:x']);
    expect(kanikoArgs({ image: 'k', destinations: [], contextDir: '/c', dockerfile: '/c/docker/Dockerfile', buildArgs: {}, insecure: false, cache: false, extraArgs: [], workspaceVolume: 'w', workspaceMountPath: '/w' })).not.toContain('--insecure');
    const pod = desiredBuildPod(o, cfg, { tag: 't', tarDigest: DIGEST });
    expect(pod.spec!.containers[0]!.args).toContain('--dockerfile=/workspace/context/docker/Dockerfile');
  });

  it('validates specs', () => {
    expect(validateBuildSpec(ib())).toBeUndefined();
    expect(validateBuildSpec(ib({ dockerfile: '../Dockerfile' }))).toMatch(/relative path/);
    expect(validateBuildSpec(ib({ dockerfile: '/abs' }))).toMatch(/relative path/);
    expect(validateBuildSpec(ib({ image: 'reg/x:tag' }))).toMatch(/without tag/);
    expect(validateBuildSpec(ib({ buildArgs: { 'a b': '1' } }))).toMatch(/build arg/);
  });

  it('observeBuildPod reads the digest from the termination message', () => {
    const b = new KanikoBuilder();
    const pod: V1Pod = { status: { phase: 'Succeeded', containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: IMG_DIGEST } } }] } };
    expect(observeBuildPod(pod, b)).toEqual({ phase: 'Succeeded', digest: IMG_DIGEST, message: 'image built and pushed' });
    expect(observeBuildPod({ status: { phase: 'Failed', reason: 'DeadlineExceeded' } }, b).phase).toBe('Failed');
    expect(observeBuildPod({ status: running(true) }, b).phase).toBe('AwaitingUpload');
    expect(observeBuildPod({ status: running(false) }, b).phase).toBe('Building');
  });
});

describe('ImageBuildReconciler', () => {
  it('creates exactly one pod, reports AwaitingUpload, Building, then Succeeded with digest and deletes the pod', async () => {
    const { fake, r, metrics } = setup();
    expect(await r.reconcile(req)).toEqual({ requeueAfter: 5_000 });
    expect(fake.created).toHaveLength(1);
    const tag = buildTag({ contextDigest: DIGEST });
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', tag, image: `reg:5000/team/api:${tag}`, observedGeneration: 1 });
    fake.setPodStatus(running(true));
    await r.reconcile(req);
    expect(fake.obj!.status).toMatchObject({ phase: 'AwaitingUpload', podName: fake.created[0]!.metadata!.name, uploadContainer: 'upload' });
    expect(fake.obj!.status!.conditions!.find((c) => c.type === 'Reconciling')).toMatchObject({ status: 'True', reason: 'AwaitingUpload' });
    const writes = fake.statusWrites.length;
    await r.reconcile(req); // nothing changed → no write, no second pod
    expect(fake.statusWrites).toHaveLength(writes);
    expect(fake.created).toHaveLength(1);
    fake.setPodStatus(running(false));
    await r.reconcile(req);
    expect(fake.obj!.status!.phase).toBe('Building');
    fake.setPodStatus({ phase: 'Succeeded', containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message: IMG_DIGEST } } }] });
    expect(await r.reconcile(req)).toBeUndefined();
    expect(fake.obj!.status).toMatchObject({ phase: 'Succeeded', digest: IMG_DIGEST, observedGeneration: 1 });
    // The same three conditions as a DevSession (runtime/reconcile-pass.ts): Reconciling and Stalled False.
    expect(fake.obj!.status!.conditions).toEqual([
      expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Succeeded', observedGeneration: 1 }),
      expect.objectContaining({ type: 'Reconciling', status: 'False', observedGeneration: 1 }),
      expect.objectContaining({ type: 'Stalled', status: 'False', observedGeneration: 1 }),
    ]);
    expect(fake.pods.size).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('dsa_operator_builds_total')).toContain('result="succeeded"} 1');
    await r.reconcile(req); // settled: nothing happens
    expect(fake.created).toHaveLength(1);
  });

  it('is AlreadyBuilt without a pod when the registry has the tag', async () => {
    const seen: string[] = [];
    const { fake, r } = setup(ib(), { manifestDigest: async (q) => (seen.push(`${q.image}:${q.tag}`), IMG_DIGEST) });
    await r.reconcile(req);
    expect(fake.created).toHaveLength(0);
    expect(seen).toEqual([`reg:5000/team/api:${buildTag({ contextDigest: DIGEST })}`]);
    expect(fake.obj!.status).toMatchObject({ phase: 'Succeeded', digest: IMG_DIGEST });
    expect(fake.obj!.status!.conditions![0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'AlreadyBuilt' });
  });

  it('settled builds write nothing on later passes (an operator restart over finished builds is silent)', async () => {
    const { fake, r } = setup(ib(), { manifestDigest: async () => IMG_DIGEST });
    await r.reconcile(req);
    const writes = fake.statusWrites.length;
    const again = new ImageBuildReconciler({ clients: fake, pod: cfg, registry: { manifestDigest: async () => IMG_DIGEST }, clock: new FakeClock() });
    expect(await again.reconcile(req)).toBeUndefined();
    expect(await r.reconcile(req)).toBeUndefined();
    expect(fake.statusWrites).toHaveLength(writes);
  });

  it('any transient error reaches status (ProgressingWithRetry) and is rethrown for backoff', async () => {
    const { fake, r } = setup();
    const boom = apiError(500, 'InternalError', 'etcd leader changed');
    fake.getPod = async () => Promise.reject(boom);
    await expect(r.reconcile(req)).rejects.toBe(boom);
    expect(reasonOf(fake.obj, 'Reconciling')).toMatchObject({ status: 'True', reason: 'ProgressingWithRetry', message: 'etcd leader changed; retrying' });
    expect(fake.obj!.status!.message).toBe('etcd leader changed; retrying');
    expect(reasonOf(fake.obj, 'Ready')?.status).toBe('False');
  });

  it('a failed build stalls with the log tail, is not retried, and is GCed after the TTL; a new generation builds again', async () => {
    const { fake, r, clock } = setup();
    await r.reconcile(req);
    const podName = fake.created[0]!.metadata!.name!;
    fake.setPodStatus({
      phase: 'Failed',
      initContainerStatuses: [{ name: 'upload', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } }],
      containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: new Date(clock.now()) } } }],
    });
    expect(await r.reconcile(req)).toEqual({ requeueAfter: 60_000 });
    expect(fake.obj!.status).toMatchObject({ phase: 'Failed', logTail: 'step 1\nstep 2\nerror: boom' });
    expect(fake.obj!.status!.message).toMatch(/build failed \(exit code 1\): error: boom/);
    expect(fake.obj!.status!.conditions!.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'BuildFailed' });
    // requeues before the TTL: pod kept, nothing created
    await clock.advance(30_000);
    const res = await r.reconcile(req);
    expect(res).toEqual({ requeueAfter: 30_000 });
    expect(fake.created).toHaveLength(1);
    expect(fake.pods.has(podName)).toBe(true);
    await clock.advance(31_000);
    expect(await r.reconcile(req)).toBeUndefined();
    expect(fake.pods.size).toBe(0);
    expect(fake.created).toHaveLength(1);
    // spec change → generation 2 → a new build
    fake.obj!.metadata.generation = 2;
    fake.obj!.spec.buildArgs = { X: '1' };
    await r.reconcile(req);
    expect(fake.created).toHaveLength(2);
    expect(fake.created[1]!.metadata!.name).not.toBe(podName);
  });

  it('keeps a failed pod the kubelet still reports as Running (terminal phase lags the container status)', async () => {
    const { fake, r, clock } = setup();
    await r.reconcile(req);
    const podName = fake.created[0]!.metadata!.name!;
    // What the kubelet reports for a few seconds after the build container exited non-zero.
    fake.setPodStatus({
      phase: 'Running',
      initContainerStatuses: [{ name: 'upload', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0 } } }],
      containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 7, finishedAt: new Date(clock.now()) } } }],
    });
    expect(await r.reconcile(req)).toEqual({ requeueAfter: 60_000 });
    expect(fake.obj!.status).toMatchObject({ phase: 'Failed' });
    // the pod event that follows (phase still Running) must not GC it
    expect(await r.reconcile(req)).toEqual({ requeueAfter: 60_000 });
    expect(fake.deleted).toEqual([]);
    expect(fake.pods.has(podName)).toBe(true);
    await clock.advance(61_000);
    expect(await r.reconcile(req)).toBeUndefined();
    expect(fake.deleted).toEqual([podName]);
  });

  it('invalid specs are terminal', async () => {
    const { fake, r } = setup(ib({ dockerfile: '../x' }));
    await expect(r.reconcile(req)).rejects.toBeInstanceOf(TerminalError);
    expect(fake.obj!.status).toMatchObject({ phase: 'Failed' });
    expect(fake.obj!.status!.conditions!.find((c) => c.type === 'Stalled')).toMatchObject({ reason: 'InvalidSpec' });
  });

  it('resolves git refs to a commit, tags from it, and pins it for the generation', async () => {
    const commit = 'c'.repeat(40);
    let resolves = 0;
    const fake = new Fake(ib({ context: { git: { url: 'http://git/repo.git', ref: 'main', subPath: 'app' } } }));
    const r = new ImageBuildReconciler({
      clients: fake,
      pod: cfg,
      registry: { manifestDigest: async () => IMG_DIGEST },
      git: { resolve: async () => (resolves++, commit), checkout: async () => '/nonexistent', dispose: async () => undefined },
    });
    await r.reconcile(req);
    expect(fake.obj!.status).toMatchObject({ phase: 'Succeeded', commit, tag: buildTag({ contextDigest: `git:http://git/repo.git#${commit}:app` }) });
    expect(resolves).toBe(1);
  });
});

describe('forced builds (requested-at)', () => {
  const R1 = '2026-03-04T05:06:07.000Z';
  const R2 = '2026-03-04T05:07:00.000Z';

  /** Build once to Succeeded; afterwards the registry has the tag (as after a real push). */
  async function built() {
    let pushed = false;
    const lookups: string[] = [];
    const t = setup(ib(), { manifestDigest: async (q) => (lookups.push(q.tag), pushed ? IMG_DIGEST : undefined) });
    await t.r.reconcile(req);
    t.fake.setPodStatus(succeeded);
    await t.r.reconcile(req);
    expect(t.fake.obj!.status!.phase).toBe('Succeeded');
    pushed = true;
    return { ...t, lookups };
  }

  it('isNewerRequest: newer timestamps and changed tokens force, equal and older ones do not', () => {
    expect(isNewerRequest(undefined, R1)).toBe(false);
    expect(isNewerRequest(R1, undefined)).toBe(true);
    expect(isNewerRequest(R1, R1)).toBe(false);
    expect(isNewerRequest(R2, R1)).toBe(true);
    expect(isNewerRequest(R1, R2)).toBe(false);
    expect(isNewerRequest('2026-03-04T05:06:07Z', R1)).toBe(false); // same instant, other spelling
    expect(isNewerRequest('again', 'once')).toBe(true);
  });

  it('a newer request rebuilds a Succeeded build in a new pod, skipping the registry, and records the request', async () => {
    const { fake, r, lookups, metrics } = await built();
    const first = fake.created[0]!.metadata!.name!;
    const lookupsBefore = lookups.length;
    fake.annotate(R1);
    expect(await r.reconcile(req)).toEqual({ requeueAfter: 5_000 });
    expect(lookups).toHaveLength(lookupsBefore); // the tag is in the registry, but nobody asked
    expect(fake.created).toHaveLength(2);
    const second = fake.created[1]!;
    expect(second.metadata!.name).not.toBe(first);
    expect(second.metadata!.name).toBe(buildPodName(fake.obj!, buildTag({ contextDigest: DIGEST }), R1));
    expect(second.metadata!.annotations![ANNOTATIONS.requestedAt]).toBe(R1);
    // same content-addressed tag pushed again
    expect(second.spec!.containers[0]!.args).toContain(`--destination=reg:5000/team/api:${buildTag({ contextDigest: DIGEST })}`);
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', lastRequestedAt: R1 });
    expect(fake.obj!.status!.digest).toBeUndefined(); // the old result no longer describes what is being built
    fake.setPodStatus(running(true));
    await r.reconcile(req);
    expect(fake.obj!.status).toMatchObject({ phase: 'AwaitingUpload', podName: second.metadata!.name, lastRequestedAt: R1 });
    fake.setPodStatus(succeeded);
    await r.reconcile(req);
    expect(fake.obj!.status).toMatchObject({ phase: 'Succeeded', digest: IMG_DIGEST, lastRequestedAt: R1 });
    expect(reasonOf(fake.obj, 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
    expect(fake.pods.size).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('dsa_operator_builds_total')).toContain('result="succeeded"} 2');
    // honoured once: the same request, or an older one, builds nothing more
    await r.reconcile(req);
    fake.annotate('2026-01-01T00:00:00.000Z');
    await r.reconcile(req);
    expect(fake.created).toHaveLength(2);
    expect(fake.obj!.status!.lastRequestedAt).toBe(R1);
    // a newer one builds again
    fake.annotate(R2);
    await r.reconcile(req);
    expect(fake.created).toHaveLength(3);
    expect(fake.obj!.status!.lastRequestedAt).toBe(R2);
  });

  it('keeps an honoured request through later writes that build nothing (AlreadyBuilt of a new generation)', async () => {
    const { fake, r } = await built();
    fake.annotate(R1);
    await r.reconcile(req);
    fake.setPodStatus(succeeded);
    await r.reconcile(req);
    expect(fake.obj!.status).toMatchObject({ phase: 'Succeeded', lastRequestedAt: R1 });
    // spec change to content the registry has: AlreadyBuilt, and R1 must not count as new again
    fake.obj!.metadata.generation = 2;
    fake.obj!.spec.tags = ['dev'];
    await r.reconcile(req);
    expect(reasonOf(fake.obj, 'Ready')).toMatchObject({ reason: 'AlreadyBuilt', observedGeneration: 2 });
    expect(fake.obj!.status!.lastRequestedAt).toBe(R1);
    await r.reconcile(req);
    expect(fake.created).toHaveLength(2);
  });

  it('rebuilds an image the registry already had (AlreadyBuilt, no pod ever)', async () => {
    const { fake, r } = setup(ib(), { manifestDigest: async () => IMG_DIGEST });
    await r.reconcile(req);
    expect(reasonOf(fake.obj, 'Ready')).toMatchObject({ reason: 'AlreadyBuilt' });
    expect(fake.created).toHaveLength(0);
    fake.annotate(R1);
    await r.reconcile(req);
    expect(fake.created).toHaveLength(1);
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', lastRequestedAt: R1 });
  });

  it('retries a Failed build once forced, without retrying it again afterwards', async () => {
    const { fake, r, clock } = setup();
    await r.reconcile(req);
    fake.setPodStatus({ phase: 'Failed', containerStatuses: [{ name: 'build', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: new Date(clock.now()) } } }] });
    await r.reconcile(req);
    expect(fake.obj!.status!.phase).toBe('Failed');
    await r.reconcile(req);
    expect(fake.created).toHaveLength(1);
    fake.annotate(R1);
    await r.reconcile(req);
    expect(fake.created).toHaveLength(2);
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', lastRequestedAt: R1 });
    expect(reasonOf(fake.obj, 'Stalled')?.status).toBe('False');
  });

  it('a restart between pod creation and the status write finds the forced pod instead of creating a second', async () => {
    const { fake, r, clock } = await built();
    fake.annotate(R1);
    fake.statusError = apiError(500, 'InternalError');
    await expect(r.reconcile(req)).rejects.toMatchObject({ code: 500 });
    expect(fake.created).toHaveLength(2);
    expect(fake.obj!.status!.lastRequestedAt).toBeUndefined();
    // a fresh operator process
    const again = new ImageBuildReconciler({ clients: fake, pod: cfg, registry: { manifestDigest: async () => IMG_DIGEST }, clock, pollIntervalMs: 5_000 });
    await again.reconcile(req);
    expect(fake.created).toHaveLength(2);
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', lastRequestedAt: R1, podName: fake.created[1]!.metadata!.name });
  });

  it('a forced build whose pod creation fails keeps the request pending (the retry still forces)', async () => {
    const { fake, r } = await built();
    fake.annotate(R1);
    fake.createError = apiError(403, 'Forbidden', 'pods "x" is forbidden: exceeded quota: builds');
    await expect(r.reconcile(req)).rejects.toMatchObject({ code: 403 });
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending' });
    expect(fake.obj!.status!.lastRequestedAt).toBeUndefined();
    await r.reconcile(req); // registry has the tag; a non-forced retry would say AlreadyBuilt
    expect(fake.created).toHaveLength(2);
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', lastRequestedAt: R1 });
  });
});

describe('retried errors explain themselves in status', () => {
  it('registry unreachable: Pending, Reconciling RegistryUnreachable, message names the image', async () => {
    const { fake, r } = setup(ib(), { manifestDigest: async () => Promise.reject(new RegistryError('registry request HEAD http://reg:5000/v2/team/api/manifests/x failed: connect ECONNREFUSED', undefined, true)) });
    const tag = buildTag({ contextDigest: DIGEST });
    await expect(r.reconcile(req)).rejects.toBeInstanceOf(RegistryError);
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', observedGeneration: 1, image: `reg:5000/team/api:${tag}` });
    expect(fake.obj!.status!.message).toBe(
      `cannot check whether reg:5000/team/api:${tag} exists, the registry is unreachable: registry request HEAD http://reg:5000/v2/team/api/manifests/x failed: connect ECONNREFUSED; retrying`,
    );
    expect(reasonOf(fake.obj, 'Reconciling')).toMatchObject({ status: 'True', reason: 'RegistryUnreachable', message: fake.obj!.status!.message });
    expect(reasonOf(fake.obj, 'Ready')).toMatchObject({ status: 'False', reason: 'RegistryUnreachable' });
    expect(fake.created).toHaveLength(0);
    // the same error again writes nothing new (no status churn while backing off)
    const writes = fake.statusWrites.length;
    await expect(r.reconcile(req)).rejects.toBeInstanceOf(RegistryError);
    expect(fake.statusWrites).toHaveLength(writes);
  });

  it('pod creation forbidden: Reconciling PodCreationFailed with the apiserver message; recovers on retry', async () => {
    const { fake, r } = setup();
    fake.createError = apiError(403, 'Forbidden', 'pods "app-api-build-x" is forbidden: violates PodSecurity "restricted:latest"');
    await expect(r.reconcile(req)).rejects.toMatchObject({ code: 403 });
    expect(fake.obj!.status!.message).toMatch(/^cannot create build pod app-api-build-[0-9a-f]{10} \(forbidden: check RBAC, quotas and pod security admission\): pods "app-api-build-x" is forbidden: violates PodSecurity "restricted:latest"; retrying$/);
    expect(reasonOf(fake.obj, 'Reconciling')).toMatchObject({ status: 'True', reason: 'PodCreationFailed' });
    await r.reconcile(req);
    expect(fake.created).toHaveLength(1);
    expect(fake.obj!.status!.message).toBe('build pod starting');
    expect(reasonOf(fake.obj, 'Reconciling')).toMatchObject({ reason: 'Progressing' });
  });

  it('git unreachable: Reconciling GitUnreachable naming the URL', async () => {
    const fake = new Fake(ib({ context: { git: { url: 'http://git.invalid/repo.git', ref: 'main' } } }));
    const r = new ImageBuildReconciler({
      clients: fake,
      pod: cfg,
      registry: emptyRegistry,
      git: { resolve: async () => Promise.reject(new GitTransientError('git ls-remote http://git.invalid/repo.git: getaddrinfo ENOTFOUND git.invalid')), checkout: async () => '/x', dispose: async () => undefined },
    });
    await expect(r.reconcile(req)).rejects.toBeInstanceOf(GitTransientError);
    expect(fake.obj!.status).toMatchObject({ phase: 'Pending', message: 'cannot fetch http://git.invalid/repo.git: git ls-remote http://git.invalid/repo.git: getaddrinfo ENOTFOUND git.invalid; retrying' });
    expect(reasonOf(fake.obj, 'Reconciling')).toMatchObject({ status: 'True', reason: 'GitUnreachable' });
  });

  it('describeRetry only says forbidden for 403s', () => {
    expect(describeRetry({ step: 'pod', pod: 'p' }, apiError(500, 'InternalError', 'etcd timeout')).message).toBe('cannot create build pod p: etcd timeout; retrying');
  });

});

describe('confined builds', () => {
  it('creates the build pod as the ImageBuild ServiceAccount (default dsa-deployer)', async () => {
    const { fake, r } = setup();
    await r.reconcile(req);
    expect(fake.created).toHaveLength(1);
    expect([...new Set(fake.identities)]).toEqual(['system:serviceaccount:dev:dsa-deployer']);
    const other = setup(ib({ serviceAccountName: 'builder' }));
    await other.r.reconcile(req);
    expect([...new Set(other.fake.identities)]).toEqual(['system:serviceaccount:dev:builder']);
  });

  it('RBAC refusing the build account stalls the build, naming the account and what it may not do', async () => {
    const { fake, r } = setup();
    fake.createError = apiError(403, 'Forbidden', 'pods "x" is forbidden: User "system:serviceaccount:dev:dsa-deployer" cannot create resource "pods" in API group "" in the namespace "dev"');
    expect(await r.reconcile(req)).toEqual({ requeueAfter: 60_000 });
    expect(reasonOf(fake.obj, 'Stalled')).toMatchObject({ status: 'True', reason: 'Forbidden' });
    expect(fake.obj!.status!.message).toMatch(/^cannot create build pod app-api-build-[0-9a-f]{10}: system:serviceaccount:dev:dsa-deployer may not create pods in namespace dev: grant it/);
    // Granted: the next pass builds.
    await r.reconcile(req);
    expect(fake.created).toHaveLength(1);
  });

  it('builder images come from the allowlist; extra args may not redirect the push or the credentials', async () => {
    for (const [spec, why] of [
      [{ builder: { image: 'evil/kaniko:1' } }, /builder.image evil\/kaniko:1 is not allowed by the operator \(allowed: kaniko:1/],
      [{ builder: { args: ['--destination=evil.io/x:latest'] } }, /--destination is not allowed/],
      [{ builder: { args: ['-d', 'evil.io/x'] } }, /is not a --flag or --flag=value/],
      [{ builder: { args: ['--registry-map=reg:5000=evil.io'] } }, /--registry-map is not allowed/],
      [{ builder: { args: ['--cache-repo=evil.io/cache'] } }, /--cache-repo is not allowed/],
      [{ builder: { args: ['--digest-file=/tmp/x'] } }, /--digest-file is not allowed/],
      [{ builder: { args: ['--verbosity=debug', 'evil.io/x'] } }, /"evil.io\/x" is not a --flag/],
    ] as const) {
      const { fake, r } = setup(ib(spec as Partial<ImageBuild['spec']>));
      await expect(r.reconcile(req)).rejects.toThrow(TerminalError);
      expect(fake.obj!.status!.phase).toBe('Failed');
      expect(fake.obj!.status!.message).toMatch(why);
      expect(reasonOf(fake.obj, 'Stalled')?.reason).toBe('ObjectNotAllowed');
      expect(fake.created).toEqual([]);
    }
    const allowed = new ImageBuildReconciler({ clients: new Fake(ib({ builder: { image: 'mirror/kaniko:2', args: ['--verbosity=debug', '--snapshot-mode=redo'] } })), pod: { ...cfg, allowedBuilderImages: ['mirror/kaniko:2'] }, registry: emptyRegistry });
    await allowed.reconcile(req);
  });

  it('push and pull secrets are names in the build namespace', () => {
    expect(validateBuildSpec(ib({ registry: { pushSecret: 'other-ns/regcred' } }))).toMatch(/registry.pushSecret must be the name of a Secret in the build's namespace/);
    expect(validateBuildSpec(ib({ registry: { pullSecret: '../x' } }))).toMatch(/registry.pullSecret/);
    expect(validateBuildSpec(ib({ registry: { pushSecret: 'regcred.v2' } }))).toBeUndefined();
  });

  it('sizes the build pod: volumes from the context limit, ephemeral storage on both containers', () => {
    const pod = desiredBuildPod(ib(), { ...cfg, maxContextBytes: 512 * 2 ** 20 }, { tag: 't', tarDigest: DIGEST });
    expect(pod.spec!.volumes).toEqual(expect.arrayContaining([{ name: 'workspace', emptyDir: { sizeLimit: '576Mi' } }, { name: 'upload', emptyDir: { sizeLimit: '528Mi' } }]));
    const upload = pod.spec!.initContainers![0]!;
    expect(upload.env).toContainEqual({ name: 'DSA_MAX_UPLOAD_BYTES', value: String(512 * 2 ** 20) });
    expect(upload.resources!.limits!['ephemeral-storage']).toBe('64Mi');
    const build = pod.spec!.containers[0]!;
    expect(build.resources).toEqual({ requests: { 'ephemeral-storage': '256Mi' }, limits: { 'ephemeral-storage': '8Gi' } });
    const own = desiredBuildPod(ib({ builder: { resources: { limits: { memory: '2Gi', 'ephemeral-storage': '20Gi' } } } }), cfg, { tag: 't', tarDigest: DIGEST });
    expect(own.spec!.containers[0]!.resources).toEqual({ requests: { 'ephemeral-storage': '256Mi' }, limits: { memory: '2Gi', 'ephemeral-storage': '20Gi' } });
  });

  it('secret build args reach kaniko through the kubelet (secretKeyRef), never in the pod spec; every other $ stays literal', () => {
    const o = ib({ buildArgs: { TOKEN: 'x-${dsa.secret.NPM_TOKEN}-y', PRICE: '$(HOME) $$5' }, secretVars: { secretName: 's-vars', names: ['NPM_TOKEN'] } });
    const build = desiredBuildPod(o, cfg, { tag: 't', tarDigest: DIGEST }).spec!.containers[0]!;
    expect(build.args).toContain('--build-arg=TOKEN=x-$(DSA_SECRET_0)-y');
    expect(build.args).toContain('--build-arg=PRICE=$$(HOME) $$$$5');
    expect(build.env).toEqual([{ name: 'DSA_SECRET_0', valueFrom: { secretKeyRef: { name: 's-vars', key: 'NPM_TOKEN' } } }]);
  });

  it('registries listed as insecure get kaniko\'s insecure flags without a per-image insecure: true', () => {
    const build = desiredBuildPod(ib(), { ...cfg, insecureRegistries: ['reg:5000'] }, { tag: 't', tarDigest: DIGEST }).spec!.containers[0]!;
    expect(build.args).toEqual(expect.arrayContaining(['--insecure', '--skip-tls-verify', '--insecure-registry=reg:5000', '--skip-tls-verify-registry=reg:5000']));
    const other = desiredBuildPod(ib({ image: 'ghcr.io/team/api' }), { ...cfg, insecureRegistries: ['reg:5000'] }, { tag: 't', tarDigest: DIGEST }).spec!.containers[0]!;
    expect(other.args).not.toContain('--insecure');
    // base images from the listed registry can still be pulled over plain HTTP
    expect(other.args).toContain('--insecure-registry=reg:5000');
  });

  it('git checkouts are removed when the spec changes and when the ImageBuild is deleted', async () => {
    const disposed: string[] = [];
    let n = 0;
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const git = {
      resolve: async () => 'c'.repeat(40),
      checkout: async () => {
        const d = await mkdtemp(`${tmpdir()}/dsa-ibgit-`);
        await writeFile(`${d}/Dockerfile`, `FROM scratch\n# ${n++}\n`);
        return d;
      },
      dispose: async (d: string) => void disposed.push(d),
    };
    const fake = new Fake(ib({ context: { git: { url: 'http://git/repo.git', ref: 'main' } } }));
    const r = new ImageBuildReconciler({ clients: fake, pod: cfg, registry: emptyRegistry, git });
    await r.reconcile(req);
    expect(fake.created).toHaveLength(1);
    expect(disposed).toEqual([]);
    // a new generation: a new pod, and the old pod's checkout goes
    fake.obj!.metadata.generation = 2;
    fake.obj!.spec.dockerfile = 'Dockerfile';
    await r.reconcile(req);
    expect(fake.created).toHaveLength(2);
    await new Promise((res) => setTimeout(res, 10));
    expect(disposed).toHaveLength(1);
    // deleted: the rest goes too
    fake.obj = undefined;
    await r.reconcile(req);
    await new Promise((res) => setTimeout(res, 10));
    expect(disposed).toHaveLength(2);
  });

  it('registry lookups treat the install\'s insecure registries as plain HTTP without a per-image insecure: true', async () => {
    const seen: Array<boolean | undefined> = [];
    const registry: RegistryLookup = { manifestDigest: async (q) => (seen.push(q.insecure), IMG_DIGEST) };
    await new ImageBuildReconciler({ clients: new Fake(ib()), pod: { ...cfg, insecureRegistries: ['reg:5000'] }, registry }).reconcile(req);
    await new ImageBuildReconciler({ clients: new Fake(ib()), pod: cfg, registry }).reconcile(req);
    expect(seen).toEqual([true, false]);
  });
});
