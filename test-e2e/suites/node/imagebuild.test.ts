// Full-node tier: the ImageBuild controller runs IN-PROCESS against the real cluster; kaniko builds in
// real pods and pushes to the harness registry; the agent-side upload streams through real exec.
//
//  (a) upload build → Succeeded with digest → a pod runs the image and prints hello.txt
//  (a2) changed content → a second (warm) build with another tag
//  (b) same content under another name → AlreadyBuilt, no build pod
//  (c) failing Dockerfile → Failed / Stalled BuildFailed with log tail, and no retry loop
//  (d) git context served from this machine's node address (smart HTTP) → Succeeded, commit in status
//
// Env contract: eval "$(test-e2e/cluster/ensure.sh node)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LABELS, type ImageBuild } from '@dsa/api';
import { startImageBuildHarness, type ImageBuildHarness } from '../../lib/imagebuild-harness.js';
import { createBareRepo, requireEnv, sleep, startGitServer, waitFor, type GitServer } from '../../lib/index.js';
import { prepareContext } from '@dsa/api/build-context';
import { uploadContext, waitForUploadSlot } from '@dsa/api/build-context';
import { createMetrics } from '../../../operator/src/server/metrics.js';

jest.setTimeout(360_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'nodeIp');
let h: ImageBuildHarness;
const metrics = createMetrics({ defaultMetrics: false });
const timings: Record<string, number> = {};
const run = randomBytes(3).toString('hex');
const repo = `${env.registry}/e2e/ib-${run}`;

async function waitPhase(name: string, phase: string, timeoutMs = 240_000): Promise<ImageBuild> {
  // waitFor counts a throw as "not yet", so an unexpected Failed is returned and thrown here (fail fast).
  const got = await waitFor(
    `ImageBuild ${name} phase ${phase}`,
    async () => {
      const ib = await h.getIb(name);
      if (ib.status?.phase === 'Failed' && phase !== 'Failed') return { ib, failed: true };
      return ib.status?.phase === phase && ib.status.observedGeneration === ib.metadata.generation ? { ib, failed: false } : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
  if (got.failed) throw new Error(`build ${name} failed: ${got.ib.status?.message}\n${got.ib.status?.logTail}`);
  return got.ib;
}

/**
 * Per ImageBuild: when this process first saw (through a pod watch) the upload init container exit and
 * the build container exit. Their difference bounds the kaniko container's run from above, as the kubelet
 * reports it: quantised by the kubelet's 1 s relist (its own start/finish stamps have 1 s resolution and
 * read 0 s for these small builds; kaniko itself needs ~0.2-0.4 s here, see docs/adr/0003).
 */
const seen = new Map<string, { uploadDone?: number; buildDone?: number }>();

async function writeContext(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-ctx-'));
  for (const [rel, content] of Object.entries(files)) await writeFile(path.join(dir, rel), content);
  return dir;
}

const DOCKERFILE = 'ARG BASE\nFROM ${BASE}\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n';
const HELLO = `hello from dsa ${run}\n`;

beforeAll(async () => {
  h = await startImageBuildHarness({
    namespacePrefix: 'e2e-ib',
    kanikoImage: env.kanikoImage,
    helperImage: env.testImage,
    metrics,
    workers: 4,
    onBuildPod: (_type, pod) => {
      const ibName = pod.metadata?.labels?.[LABELS.imageBuild];
      if (!ibName) return;
      const s = seen.get(ibName) ?? {};
      if (s.uploadDone === undefined && pod.status?.initContainerStatuses?.find((c) => c.name === 'upload')?.state?.terminated) s.uploadDone = Date.now();
      if (s.buildDone === undefined && pod.status?.containerStatuses?.find((c) => c.name === 'build')?.state?.terminated) s.buildDone = Date.now();
      seen.set(ibName, s);
    },
  });
});

afterAll(async () => {
  await h?.stop();
  for (const [ib, t] of seen) if (t.uploadDone !== undefined && t.buildDone !== undefined) timings[`kanikoContainer.${ib}`] = (t.buildDone - t.uploadDone) / 1000;
  console.log(`imagebuild timings (s): ${JSON.stringify(timings)}`);
  await h?.ns.cleanup();
});

describe('ImageBuild on a real cluster', () => {
  let builtImage = '';
  let builtDigest = '';
  let uploadDigest = '';

  test('(a) upload build: agent uploads through exec, kaniko pushes, the image runs', async () => {
    const dir = await writeContext({ Dockerfile: DOCKERFILE, 'hello.txt': HELLO, '.dockerignore': 'secret.txt\n', 'secret.txt': 'never sent' });
    try {
      const prepared = await prepareContext(dir);
      uploadDigest = prepared.digest;
      const t0 = Date.now();
      await h.createIb('upload', { image: repo, context: { upload: { digest: prepared.digest } }, buildArgs: { BASE: env.testImage }, registry: { insecure: true } });
      const slot = await waitForUploadSlot(h.kc, { namespace: h.ns.name, name: 'upload' }, { timeoutMs: 120_000 });
      expect(slot.kind).toBe('upload');
      if (slot.kind !== 'upload') return;
      timings.untilAwaitingUpload = (Date.now() - t0) / 1000;
      // a wrong tar is refused with the receiver's digest-mismatch exit code, and the pod keeps waiting
      await expect(uploadContext(h.kc, slot.target, Readable.from([Buffer.alloc(1024)]))).rejects.toMatchObject({ exitCode: 3 });
      const tUp = Date.now();
      const res = await uploadContext(h.kc, slot.target, prepared.open());
      timings.upload = (Date.now() - tUp) / 1000;
      timings.uploadBytes = res.bytes;
      expect(res.bytes).toBe(prepared.size);
      const ib = await waitPhase('upload', 'Succeeded');
      timings.uploadedToSucceededCold = (Date.now() - tUp - timings.upload * 1000) / 1000;
      timings.uploadBuildCold = (Date.now() - t0) / 1000;
      expect(ib.status!.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(ib.status!.image).toBe(`${repo}:${ib.status!.tag}`);
      expect(ib.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded', observedGeneration: 1 });
      builtImage = ib.status!.image!;
      builtDigest = ib.status!.digest!;
      // the build pod is deleted after success
      await waitFor('build pod deleted', async () => (await h.buildPods('upload')).length === 0, { timeoutMs: 30_000 });

      // run the image: it prints hello.txt (and .dockerignore kept secret.txt out)
      await h.core.createNamespacedPod({
        namespace: h.ns.name,
        body: {
          metadata: { name: 'run-built' },
          spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: `${ib.status!.image!.split(':').slice(0, -1).join(':')}@${ib.status!.digest}`, command: ['sh', '-c', 'cat /hello.txt; ls /secret.txt 2>/dev/null || echo no-secret'] }] },
        },
      });
      await waitFor('run-built to finish', async () => (await h.core.readNamespacedPod({ namespace: h.ns.name, name: 'run-built' })).status?.phase === 'Succeeded', { timeoutMs: 90_000, intervalMs: 500 });
      const log = await h.core.readNamespacedPodLog({ namespace: h.ns.name, name: 'run-built' });
      expect(String(log)).toBe(`${HELLO}no-secret\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('(a2) changed content builds again (warm: images cached on the node)', async () => {
    expect(builtImage).not.toBe('');
    const hello = `hello again from dsa ${run}\n`;
    const dir = await writeContext({ Dockerfile: DOCKERFILE, 'hello.txt': hello });
    try {
      const prepared = await prepareContext(dir);
      expect(prepared.digest).not.toBe(uploadDigest);
      const t0 = Date.now();
      await h.createIb('warm', { image: repo, context: { upload: { digest: prepared.digest } }, buildArgs: { BASE: env.testImage }, registry: { insecure: true } });
      const slot = await waitForUploadSlot(h.kc, { namespace: h.ns.name, name: 'warm' }, { timeoutMs: 120_000 });
      if (slot.kind !== 'upload') throw new Error(`expected an upload slot, got ${JSON.stringify(slot)}`);
      const tUp = Date.now();
      await uploadContext(h.kc, slot.target, prepared.open());
      const uploaded = Date.now();
      timings.uploadWarm = (uploaded - tUp) / 1000;
      const ib = await waitPhase('warm', 'Succeeded');
      timings.uploadedToSucceededWarm = (Date.now() - uploaded) / 1000;
      timings.uploadBuildWarm = (Date.now() - t0) / 1000;
      expect(ib.status!.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(ib.status!.image).not.toBe(builtImage);
      expect(ib.status!.image).toBe(`${repo}:${ib.status!.tag}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('(b) the same content again is AlreadyBuilt, with no build pod', async () => {
    expect(builtImage).not.toBe('');
    const t0 = Date.now();
    await h.createIb('again', { image: repo, context: { upload: { digest: uploadDigest } }, buildArgs: { BASE: env.testImage }, registry: { insecure: true } });
    const ib = await waitPhase('again', 'Succeeded', 60_000);
    timings.alreadyBuilt = (Date.now() - t0) / 1000;
    expect(ib.status!.image).toBe(builtImage);
    // the registry lookup reports the digest kaniko pushed (manifest HEAD, Docker-Content-Digest)
    expect(ib.status!.digest).toBe(builtDigest);
    expect(ib.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'AlreadyBuilt' });
    expect(await h.buildPods('again')).toHaveLength(0);
    // the agent sees "nothing to upload"
    expect(await waitForUploadSlot(h.kc, { namespace: h.ns.name, name: 'again' }, { timeoutMs: 10_000 })).toMatchObject({ kind: 'done' });
  });

  test('(c) a failing Dockerfile stalls with BuildFailed and the log tail, without a retry loop', async () => {
    const dir = await writeContext({ Dockerfile: 'ARG BASE\nFROM ${BASE}\nRUN echo "about to fail ' + run + '" && exit 7\n' });
    try {
      const prepared = await prepareContext(dir);
      const t0 = Date.now();
      await h.createIb('broken', { image: repo, context: { upload: { digest: prepared.digest } }, buildArgs: { BASE: env.testImage }, registry: { insecure: true } });
      const slot = await waitForUploadSlot(h.kc, { namespace: h.ns.name, name: 'broken' }, { timeoutMs: 120_000 });
      if (slot.kind !== 'upload') throw new Error('expected an upload slot');
      await uploadContext(h.kc, slot.target, prepared.open());
      const ib = await waitPhase('broken', 'Failed');
      timings.failedBuild = (Date.now() - t0) / 1000;
      expect(ib.status!.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'BuildFailed' });
      expect(ib.status!.logTail).toContain(`about to fail ${run}`);
      // the agent is told, with the log tail
      await expect(waitForUploadSlot(h.kc, { namespace: h.ns.name, name: 'broken' }, { timeoutMs: 10_000 })).rejects.toMatchObject({ name: 'BuildFailedError' });
      // no retry: one (kept) pod, for 20 s
      const first = (await h.buildPods('broken')).map((p) => p.metadata!.name);
      expect(first).toHaveLength(1);
      const rv = ib.metadata.resourceVersion;
      await sleep(20_000);
      expect((await h.buildPods('broken')).map((p) => p.metadata!.name)).toEqual(first);
      expect((await h.getIb('broken')).metadata.resourceVersion).toBe(rv); // no status churn either
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('(d) git context: resolved to a commit, fetched by the operator, uploaded, built', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-git-'));
    let server: GitServer | undefined;
    try {
      const commit = await createBareRepo(root, 'ctx', { 'app/Dockerfile': DOCKERFILE, 'app/hello.txt': `git ${HELLO}`, 'README.md': 'not in the context' });
      server = await startGitServer(root, env.nodeIp);
      const t0 = Date.now();
      await h.createIb('from-git', { image: repo, context: { git: { url: `${server.url}/ctx.git`, ref: 'main', subPath: 'app' } }, buildArgs: { BASE: env.testImage }, registry: { insecure: true } });
      const ib = await waitPhase('from-git', 'Succeeded');
      timings.gitBuild = (Date.now() - t0) / 1000;
      expect(ib.status!.commit).toBe(commit);
      expect(ib.status!.digest).toMatch(/^sha256:/);
      expect(server.requests.some((r) => r.path.endsWith('/git-upload-pack'))).toBe(true);
    } finally {
      await server?.close();
      await rm(root, { recursive: true, force: true });
    }
  });

  test('builds_total counted the outcomes', async () => {
    const text = await metrics.registry.getSingleMetricAsString('dsa_operator_builds_total');
    expect(text).toContain('result="succeeded"} 3');
    expect(text).toContain('result="already_built"} 1');
    expect(text).toContain('result="failed"} 1');
  });
});
