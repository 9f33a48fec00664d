import { describe, expect, it } from '@jest/globals';
import type { DevSession, ImageBuild } from '@dsa/api';
import { RuntimeError } from '../errors.js';
import { FakeKube, fakeTime, session } from './fake-kube.test-util.js';
import { BuildFailed, planUploads, runUploads, slotFor, type UploadDeps, type UploadJob } from './uploads.js';

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

describe('slotFor', () => {
  it('waits while the ImageBuild is missing, has another digest, or its status is for an older generation', () => {
    expect(slotFor(undefined, D1)).toBeUndefined();
    // Right after a changed deploy: the old spec still says Succeeded — not for our digest.
    expect(slotFor(ib('a', D2, { observedGeneration: 1, phase: 'Succeeded' }), D1)).toBeUndefined();
    expect(slotFor(ib('a', D1, { observedGeneration: 1, phase: 'Succeeded' }, 2), D1)).toBeUndefined();
    expect(slotFor(ib('a', D1, { observedGeneration: 1, phase: 'Building' }), D1)).toBeUndefined();
    expect(slotFor(ib('a', D1, { observedGeneration: 1, phase: 'AwaitingUpload' }), D1)).toBeUndefined(); // no pod yet
  });

  it('uploads into the reported pod and container when AwaitingUpload', () => {
    expect(slotFor(ib('a', D1, { observedGeneration: 1, phase: 'AwaitingUpload', podName: 'a-build-x', uploadContainer: 'recv' }), D1)).toEqual({
      kind: 'upload',
      namespace: 'dev',
      pod: 'a-build-x',
      container: 'recv',
    });
  });

  it('needs nothing when Succeeded (AlreadyBuilt included)', () => {
    expect(slotFor(ib('a', D1, { observedGeneration: 1, phase: 'Succeeded', image: 'reg/a:dsa-1' }), D1)).toEqual({ kind: 'done', image: 'reg/a:dsa-1' });
  });

  it('throws BuildFailed with the log tail when Failed', () => {
    expect(() => slotFor(ib('a', D1, { observedGeneration: 1, phase: 'Failed', message: 'exit 1', logTail: 'step 3 failed' }), D1)).toThrow(BuildFailed);
  });
});

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
