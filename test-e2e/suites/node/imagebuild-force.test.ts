// Full-node tier: forced rebuilds (`dsa deploy -b`) and retry messages of the ImageBuild controller,
// which runs IN-PROCESS against the real cluster as in imagebuild.test.ts; kaniko builds in real pods.
//
//  (a) build once → Succeeded; set dsa.dev/requested-at → a second build pod awaits the (same) context,
//      the agent uploads it again, kaniko pushes the same tag, status.lastRequestedAt = the request;
//      the same request again builds nothing
//  (b) an unreachable registry: Pending with Reconciling=True RegistryUnreachable and a message saying so
//
// Env contract: eval "$(test-e2e/cluster/ensure.sh node)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ANNOTATIONS, LABELS, type ImageBuild } from '@dsa/api';
import { startImageBuildHarness, type ImageBuildHarness } from '../../lib/imagebuild-harness.js';
import { requireEnv, sleep, waitFor } from '../../lib/index.js';
import { prepareContext } from '@dsa/api/build-context';
import { uploadContext, waitForUploadSlot } from '@dsa/api/build-context';

jest.setTimeout(360_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');
let h: ImageBuildHarness;
const run = randomBytes(3).toString('hex');
const repo = `${env.registry}/e2e/ibforce-${run}`;
const DOCKERFILE = 'ARG BASE\nFROM ${BASE}\nCOPY hello.txt /\nCMD ["cat", "/hello.txt"]\n';

/** What the agent's -b does (agent/src/session/kube.ts requestBuild): a merge patch of the annotation. */
async function requestBuild(name: string, requestedAt: string): Promise<void> {
  await h.custom.patchNamespacedCustomObject(
    { ...h.ibPath(name), body: { metadata: { annotations: { [ANNOTATIONS.requestedAt]: requestedAt } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function waitSucceeded(name: string, lastRequestedAt?: string): Promise<ImageBuild> {
  const got = await waitFor(
    `ImageBuild ${name} Succeeded${lastRequestedAt ? ` for ${lastRequestedAt}` : ''}`,
    async () => {
      const ib = await h.getIb(name);
      if (ib.status?.phase === 'Failed') return { ib, failed: true };
      const done = ib.status?.phase === 'Succeeded' && ib.status.observedGeneration === ib.metadata.generation && (lastRequestedAt === undefined || ib.status.lastRequestedAt === lastRequestedAt);
      return done ? { ib, failed: false } : undefined;
    },
    { timeoutMs: 240_000, intervalMs: 250 },
  );
  if (got.failed) throw new Error(`build ${name} failed: ${got.ib.status?.message}\n${got.ib.status?.logTail}`);
  return got.ib;
}

/** Every build pod name seen for an ImageBuild (pods are deleted after success, so a list would miss them). */
const seenPods = new Map<string, Set<string>>();

beforeAll(async () => {
  h = await startImageBuildHarness({
    namespacePrefix: 'e2e-ibforce',
    kanikoImage: env.kanikoImage,
    helperImage: env.testImage,
    workers: 2,
    // (b) points a registry at loopback port 9, which the operator refuses unless allowed.
    allowInternalHosts: ['127.0.0.1'],
    onBuildPod: (type, pod) => {
      const ibName = pod.metadata?.labels?.[LABELS.imageBuild];
      if (!ibName || type === 'DELETED') return;
      seenPods.set(ibName, (seenPods.get(ibName) ?? new Set()).add(pod.metadata!.name!));
    },
  });
});

afterAll(async () => {
  await h?.stop();
  await h?.ns.cleanup();
});

describe('forced ImageBuild rebuilds on a real cluster', () => {
  test('(a) requested-at rebuilds an already built tag in a second pod, once', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-force-'));
    try {
      await writeFile(path.join(dir, 'Dockerfile'), DOCKERFILE);
      await writeFile(path.join(dir, 'hello.txt'), `forced ${run}\n`);
      const prepared = await prepareContext(dir);
      const spec: ImageBuild['spec'] = { image: repo, context: { upload: { digest: prepared.digest } }, buildArgs: { BASE: env.testImage }, registry: { insecure: true } };
      await h.createIb('force', spec);

      const first = await waitForUploadSlot(h.kc, { namespace: h.ns.name, name: 'force' }, { timeoutMs: 120_000, expected: { digest: prepared.digest } });
      if (first.kind !== 'upload') throw new Error(`expected an upload slot, got ${JSON.stringify(first)}`);
      await uploadContext(h.kc, first.target, prepared.open());
      const built = await waitSucceeded('force');
      expect(built.status!.lastRequestedAt).toBeUndefined();
      await waitFor('first build pod deleted', async () => (await h.buildPods('force')).length === 0, { timeoutMs: 30_000 });

      // Without a request the tag in the registry short-cuts a second ImageBuild: the premise of -b.
      await h.createIb('force-same', spec);
      expect((await waitSucceeded('force-same')).status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ reason: 'AlreadyBuilt' });

      const requestedAt = new Date().toISOString();
      await requestBuild('force', requestedAt);
      // The agent must not take the old Succeeded for this request: it waits for the new pod.
      const second = await waitForUploadSlot(h.kc, { namespace: h.ns.name, name: 'force' }, { timeoutMs: 120_000, expected: { digest: prepared.digest, requestedAt } });
      if (second.kind !== 'upload') throw new Error(`expected an upload slot for the forced build, got ${JSON.stringify(second)}`);
      expect(second.target.pod).not.toBe(first.target.pod);
      const pod = await h.core.readNamespacedPod({ namespace: h.ns.name, name: second.target.pod });
      expect(pod.metadata!.annotations![ANNOTATIONS.requestedAt]).toBe(requestedAt);
      await uploadContext(h.kc, second.target, prepared.open());

      const rebuilt = await waitSucceeded('force', requestedAt);
      expect(rebuilt.status!.image).toBe(built.status!.image); // same content-addressed tag, pushed again
      expect(rebuilt.status!.tag).toBe(built.status!.tag);
      expect(rebuilt.status!.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(rebuilt.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Succeeded' });
      expect(rebuilt.status!.message).toMatch(/^built /); // a real build, not "exists in the registry"
      expect([...(seenPods.get('force') ?? [])].sort()).toEqual([first.target.pod, second.target.pod].sort());

      // Honoured once: the same annotation (any later event) builds nothing more.
      await waitFor('forced build pod deleted', async () => (await h.buildPods('force')).length === 0, { timeoutMs: 30_000 });
      await requestBuild('force', requestedAt);
      await sleep(5_000);
      expect(seenPods.get('force')?.size).toBe(2);
      expect((await h.getIb('force')).status).toMatchObject({ phase: 'Succeeded', lastRequestedAt: requestedAt });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('(b) an unreachable registry is retried with a message that says so', async () => {
    // Port 9 (discard) on loopback: refused at once, from the operator process.
    await h.createIb('unreachable', { image: '127.0.0.1:9/e2e/nowhere', context: { upload: { digest: `sha256:${'0'.repeat(64)}` } }, registry: { insecure: true } });
    const ib = await waitFor(
      'ImageBuild unreachable to report RegistryUnreachable',
      async () => {
        const o = await h.getIb('unreachable');
        return o.status?.conditions?.some((c) => c.type === 'Reconciling' && c.status === 'True' && c.reason === 'RegistryUnreachable') ? o : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(ib.status!.phase).toBe('Pending');
    expect(ib.status!.message).toMatch(/^cannot check whether 127\.0\.0\.1:9\/e2e\/nowhere:dsa-[0-9a-f]{12} exists, the registry is unreachable: .+; retrying$/);
    expect(ib.status!.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'RegistryUnreachable' });
    expect(await h.buildPods('unreachable')).toHaveLength(0);
  });
});
