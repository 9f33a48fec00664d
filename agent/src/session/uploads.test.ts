import { describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, type DevSession, type ImageBuild } from '@dsa/api';
import { RuntimeError } from '../errors.js';
import { FakeKube, fakeTime, session } from './fake-kube.test-util.js';
import { planUploads, runUploads, type UploadDeps, type UploadJob } from './uploads.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function ib(name: string, digest: string, status?: ImageBuild['status'], generation = 1): ImageBuild {
  return {
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'ImageBuild',
    metadata: { name, namespace: 'dev', generation },
    spec: { image: `reg/${name}`, context: { upload: { digest } } },
    ...(status ? { status } : {}),
  };
}

describe('planUploads', () => {
  it('one job per uploaded image, named as the operator names ImageBuilds, skipping skip/git images', () => {
    const s: DevSession = session('web', {
      images: [
        { name: 'api', image: 'reg/api', context: { upload: { digest: D1 } } },
        { name: 'old', image: 'reg/old', skip: true, tags: ['v1'] },
        { name: 'git', image: 'reg/git', context: { git: { url: 'https://example.invalid/r.git' } } },
        { name: 'ui', image: 'reg/ui', context: { upload: { digest: D2 } }, builder: { namespace: 'build' } },
      ],
    });
    const jobs = planUploads([s], new Map([['web/api', { contextDir: '/p/api', dockerfile: '/p/api/Dockerfile' }]]));
    expect(jobs).toEqual([
      { session: 'web', image: 'api', imageBuild: { namespace: 'dev', name: 'web-api' }, digest: D1, local: { contextDir: '/p/api', dockerfile: '/p/api/Dockerfile' } },
      { session: 'web', image: 'ui', imageBuild: { namespace: 'build', name: 'web-ui' }, digest: D2, local: undefined },
    ]);
  });

  it('with -b, git contexts get a job too (request + wait; the operator uploads them)', () => {
    const s: DevSession = session('web', {
      images: [
        { name: 'old', image: 'reg/old', skip: true, tags: ['v1'] },
        { name: 'git', image: 'reg/git', context: { git: { url: 'https://example.invalid/r.git' } } },
      ],
    });
    expect(planUploads([s], new Map(), { forceBuild: true })).toEqual([{ session: 'web', image: 'git', imageBuild: { namespace: 'dev', name: 'web-git' }, digest: undefined, local: undefined }]);
  });
});

function job(image: string, digest: string): UploadJob {
  return { session: 's', image, imageBuild: { namespace: 'dev', name: `s-${image}` }, digest, local: { contextDir: `/ctx/${image}`, dockerfile: 'Dockerfile' } };
}

function deps(kube: FakeKube, digests: Record<string, string>, uploads: string[], opts: { failUpload?: string } = {}): UploadDeps {
  const t = fakeTime();
  return {
    kube,
    async prepare(local) {
      const digest = digests[local.contextDir]!;
      return { digest, size: 2048, open: async function* () { yield Buffer.from(local.contextDir); } };
    },
    async upload(target, tar) {
      let body = '';
      for await (const c of tar) body += Buffer.from(c).toString();
      if (opts.failUpload === target.pod) throw new Error('receiver exited 3\ndetail');
      uploads.push(`${target.pod}/${target.container} <- ${body}`);
      return { bytes: body.length };
    },
    sleep: t.sleep,
    now: t.now,
  };
}

describe('runUploads', () => {
  const awaiting = (name: string, digest: string) => ib(name, digest, { observedGeneration: 1, phase: 'AwaitingUpload', podName: `${name}-pod`, uploadContainer: 'upload' });

  it('streams the context of every image awaiting an upload and skips built ones', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-api', awaiting('s-api', D1));
    kube.builds.set('dev/s-ui', ib('s-ui', D2, { observedGeneration: 1, phase: 'Succeeded', image: 'reg/ui:dsa-2' }));
    const uploads: string[] = [];
    const lines: string[] = [];
    await runUploads(deps(kube, { '/ctx/api': D1, '/ctx/ui': D2 }, uploads), [job('api', D1), job('ui', D2)], { signal: new AbortController().signal, log: (l) => lines.push(l) });
    expect(uploads).toEqual(['s-api-pod/upload <- /ctx/api']);
    expect(lines).toContain('image ui: reg/ui:dsa-2 is up to date');
    expect(lines).toContain('uploading build context of api (2.0 KiB)…');
  });

  it('refuses to stream a context whose digest changed since rendering', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-api', awaiting('s-api', D1));
    const uploads: string[] = [];
    const err = await runUploads(deps(kube, { '/ctx/api': D2 }, uploads), [job('api', D1)], { signal: new AbortController().signal, log: () => undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toMatch(/build context changed while deploying/);
    expect(uploads).toEqual([]);
  });

  it('reports a failed build with its log tail and stops the other waits', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-api', ib('s-api', D1, { observedGeneration: 1, phase: 'Failed', message: 'kaniko exited 1', logTail: 'COPY failed\nno such file' }));
    // s-ui never becomes ready: without the stop it would wait until its timeout.
    const errors: string[] = [];
    const err = await runUploads(deps(kube, {}, []), [job('api', D1), job('ui', D2)], {
      signal: new AbortController().signal,
      log: () => undefined,
      logError: (l) => errors.push(l),
      timeoutMs: 3_600_000,
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('image api failed to build: kaniko exited 1');
    expect(errors).toEqual(['  api | COPY failed', '  api | no such file']);
  });

  it('times out naming the ImageBuild when no build pod ever waits for the upload', async () => {
    const kube = new FakeKube();
    const err = await runUploads(deps(kube, {}, []), [job('api', D1)], { signal: new AbortController().signal, log: () => undefined, timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('image api: timed out after 5s waiting for ImageBuild s-api to be ready for the upload');
  });

  it('--build-sequential uploads one image after the other, in order', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-b', awaiting('s-b', D2));
    kube.builds.set('dev/s-a', awaiting('s-a', D1));
    const uploads: string[] = [];
    await runUploads(deps(kube, { '/ctx/a': D1, '/ctx/b': D2 }, uploads), [job('a', D1), job('b', D2)], { sequential: true, signal: new AbortController().signal, log: () => undefined });
    expect(uploads).toEqual(['s-a-pod/upload <- /ctx/a', 's-b-pod/upload <- /ctx/b']);
  });

  it('an upload failure names the image and keeps only the first line of the cause', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-a', awaiting('s-a', D1));
    const err = await runUploads(deps(kube, { '/ctx/a': D1 }, [], { failUpload: 's-a-pod' }), [job('a', D1)], { signal: new AbortController().signal, log: () => undefined }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('image a: uploading the build context failed: receiver exited 3');
  });
});

describe('runUploads with -b (forced rebuild)', () => {
  const R = '2026-03-04T05:06:07.000Z';
  const succeededOld = (name: string, digest: string, extra: Partial<NonNullable<ImageBuild['status']>> = {}) =>
    ib(name, digest, { observedGeneration: 1, phase: 'Succeeded', image: `reg/${name}:dsa-1`, ...extra });

  /**
   * A fake operator for one ImageBuild: until it sees a requested-at newer than lastRequestedAt it keeps
   * the old status; then it starts a pod for the request; an upload into that pod makes it Succeeded.
   */
  function fakeOperator(kube: FakeKube, key: string, opts: { specUpdatedAfterGets?: number; newDigest?: string } = {}) {
    let gets = 0;
    let sinceRequest = 0;
    let uploaded = false;
    kube.onGetImageBuild = (_ref, b) => {
      if (!b) return b;
      gets++;
      if (opts.specUpdatedAfterGets !== undefined && gets > opts.specUpdatedAfterGets && b.spec.context.upload?.digest !== opts.newDigest) {
        // the DevSession controller re-applies the ImageBuild with the new digest: generation 2, not observed yet
        b = { ...b, metadata: { ...b.metadata, generation: 2 }, spec: { ...b.spec, context: { upload: { digest: opts.newDigest! } } } };
      }
      const req = b.metadata.annotations?.[ANNOTATIONS.requestedAt];
      const gen = b.metadata.generation ?? 1;
      // The operator lags: the first read after the request still shows the earlier build's status.
      if (req) sinceRequest++;
      if (req && sinceRequest > 1 && b.status?.lastRequestedAt !== req) {
        return { ...b, status: { observedGeneration: gen, phase: 'AwaitingUpload', podName: 'forced-pod', uploadContainer: 'upload', lastRequestedAt: req } };
      }
      if (uploaded && b.status?.phase === 'AwaitingUpload') return { ...b, status: { ...b.status, phase: 'Succeeded', image: 'reg/s-api:dsa-1' } };
      return b;
    };
    return { markUploaded: () => (uploaded = true), key };
  }

  it('uploads the unchanged context again into the forced pod, not trusting the older Succeeded, and waits for the rebuild', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-api', succeededOld('s-api', D1));
    const op = fakeOperator(kube, 'dev/s-api');
    const uploads: string[] = [];
    const d = deps(kube, { '/ctx/api': D1 }, uploads);
    const upload = d.upload;
    d.upload = async (t, tar, sig) => {
      const r = await upload(t, tar, sig);
      op.markUploaded();
      return r;
    };
    const lines: string[] = [];
    await runUploads(d, [job('api', D1)], { signal: new AbortController().signal, log: (l) => lines.push(l), requestedAt: R });
    expect(kube.calls).toEqual([`request-build dev/s-api ${R}`]);
    expect(uploads).toEqual(['forced-pod/upload <- /ctx/api']);
    expect(lines).toEqual([
      'image api: rebuild requested (-b)',
      'uploading build context of api (2.0 KiB)…',
      'uploaded build context of api in 0s; building api…',
      'image api: rebuilt reg/s-api:dsa-1',
    ]);
    expect(lines.some((l) => l.includes('up to date'))).toBe(false);
  });

  it('does not fail on a Failed status of an earlier build: -b retries it', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-api', ib('s-api', D1, { observedGeneration: 1, phase: 'Failed', message: 'old failure' }));
    const op = fakeOperator(kube, 'dev/s-api');
    const uploads: string[] = [];
    const d = deps(kube, { '/ctx/api': D1 }, uploads);
    const upload = d.upload;
    d.upload = async (t, tar, sig) => (op.markUploaded(), upload(t, tar, sig));
    await runUploads(d, [job('api', D1)], { signal: new AbortController().signal, log: () => undefined, requestedAt: R });
    expect(uploads).toEqual(['forced-pod/upload <- /ctx/api']);
  });

  it('requests the rebuild only once the ImageBuild carries the new digest', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-api', succeededOld('s-api', D2));
    const op = fakeOperator(kube, 'dev/s-api', { specUpdatedAfterGets: 3, newDigest: D1 });
    const seenDigestAtRequest: Array<string | undefined> = [];
    const requestBuild = kube.requestBuild.bind(kube);
    kube.requestBuild = async (ref, at) => {
      seenDigestAtRequest.push(kube.builds.get('dev/s-api')!.spec.context.upload?.digest);
      return requestBuild(ref, at);
    };
    const uploads: string[] = [];
    const d = deps(kube, { '/ctx/api': D1 }, uploads);
    const upload = d.upload;
    d.upload = async (t, tar, sig) => (op.markUploaded(), upload(t, tar, sig));
    await runUploads(d, [job('api', D1)], { signal: new AbortController().signal, log: () => undefined, requestedAt: R });
    expect(seenDigestAtRequest).toEqual([D1]);
    expect(uploads).toEqual(['forced-pod/upload <- /ctx/api']);
  });

  it('a git image is requested and waited for, never uploaded by the agent', async () => {
    const kube = new FakeKube();
    kube.builds.set('dev/s-git', { ...ib('s-git', D1), spec: { image: 'reg/git', context: { git: { url: 'https://example.invalid/r.git' } } }, status: { observedGeneration: 1, phase: 'Succeeded' } });
    let polls = 0;
    kube.onGetImageBuild = (_ref, b) => {
      const req = b?.metadata.annotations?.[ANNOTATIONS.requestedAt];
      if (!b || !req) return b;
      polls++;
      // the operator uploads the git context itself, then the build finishes
      return { ...b, status: polls < 3 ? { observedGeneration: 1, phase: 'AwaitingUpload', podName: 'git-pod', lastRequestedAt: req } : { observedGeneration: 1, phase: 'Succeeded', image: 'reg/git:dsa-9', lastRequestedAt: req } };
    };
    const uploads: string[] = [];
    const lines: string[] = [];
    const gitJob: UploadJob = { session: 's', image: 'git', imageBuild: { namespace: 'dev', name: 's-git' }, digest: undefined, local: undefined };
    await runUploads(deps(kube, {}, uploads), [gitJob], { signal: new AbortController().signal, log: (l) => lines.push(l), requestedAt: R });
    expect(uploads).toEqual([]);
    expect(polls).toBe(3);
    expect(lines).toEqual(['image git: rebuild requested (-b)', 'image git: rebuilt reg/git:dsa-9']);
  });

  it('times out naming the ImageBuild when the operator never creates it', async () => {
    const kube = new FakeKube();
    const err = await runUploads(deps(kube, {}, []), [job('api', D1)], { signal: new AbortController().signal, log: () => undefined, timeoutMs: 5_000, requestedAt: R }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('image api: timed out after 5s waiting for the operator to create ImageBuild s-api with the new build context');
    expect(kube.calls).toEqual([]);
  });
});

describe('runUploads progress', () => {
  it('says once why the operator is retrying (status.message of a non-routine Reconciling reason)', async () => {
    const kube = new FakeKube();
    const msg = 'cannot check whether reg/s-api:dsa-1 exists, the registry is unreachable: ECONNREFUSED; retrying';
    const states: Array<ImageBuild['status']> = [
      { observedGeneration: 1, phase: 'Pending', message: 'build pod starting', conditions: [{ type: 'Reconciling', status: 'True', reason: 'Progressing', message: 'build pod starting', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
      { observedGeneration: 1, phase: 'Pending', message: msg, conditions: [{ type: 'Reconciling', status: 'True', reason: 'RegistryUnreachable', message: msg, lastTransitionTime: '2026-01-01T00:00:00Z' }] },
      { observedGeneration: 1, phase: 'Pending', message: msg, conditions: [{ type: 'Reconciling', status: 'True', reason: 'RegistryUnreachable', message: msg, lastTransitionTime: '2026-01-01T00:00:00Z' }] },
      { observedGeneration: 1, phase: 'AwaitingUpload', podName: 's-api-pod', message: 'waiting for the build context upload', conditions: [{ type: 'Reconciling', status: 'True', reason: 'AwaitingUpload', message: 'x', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
    ];
    let i = 0;
    kube.builds.set('dev/s-api', ib('s-api', D1));
    kube.onGetImageBuild = (_ref, b) => ({ ...b!, status: states[Math.min(i++, states.length - 1)]! });
    const lines: string[] = [];
    const uploads: string[] = [];
    await runUploads(deps(kube, { '/ctx/api': D1 }, uploads), [job('api', D1)], { signal: new AbortController().signal, log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('unreachable'))).toEqual([`image api: ${msg}`]);
    expect(lines.some((l) => l.includes('build pod starting'))).toBe(false);
    expect(uploads).toEqual(['s-api-pod/upload <- /ctx/api']);
  });
});
