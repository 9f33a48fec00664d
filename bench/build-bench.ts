// Local docker vs in-cluster kaniko (issue 9): the same image, built both ways, side by side in one run.
//
// The image: a small Node service — FROM the harness's node image, COPY package.json, a RUN that writes
// ~2 MiB of "dependencies" (an npm install stand-in: the harness has no network), COPY 50 source files.
// Each builder gets its own repository in the harness registry, so neither reuses the other's layers.
//
//   cold       nothing cached: docker without the base image, the built images or its build cache;
//              kaniko with an empty cache repository (it always pulls the base image)
//   warm       one source file changed: docker's layer cache; kaniko `--cache` (RUN layer from the cache repo)
//   unchanged  the same inputs again: docker finds image:tag in the daemon and pushes (no-op layers);
//              the operator finds the tag in the registry (AlreadyBuilt, no pod)
//
// docker = what `dsa deploy` does for build.docker (agent/src/build: canonical context tar → dockerode
// build → push). kaniko = what it does for an in-cluster build: ImageBuild → build pod → upload of the same
// tar → kaniko → push, with the ImageBuild controller in this process (test-e2e/lib/imagebuild-harness).
// Both timed from "start" to "pushed". Prints one table; asserts nothing.
//
//   make bench-build     # = eval "$(make -s cluster-env)" && node --import tsx bench/build-bench.ts [--runs 2] [--kaniko-args a,b]
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImageBuild } from '../api/src/index.js';
import { buildTag } from '../api/src/hash.js';
import { prepareContext, uploadContext, waitForUploadSlot } from '../api/src/build-context/index.js';
import { dockerodeApi } from '../agent/src/build/docker-api.js';
import { dockerBuildAndPush } from '../agent/src/build/docker-builder.js';
import { dockerEndpoint } from '../agent/src/build/docker-host.js';
import { startImageBuildHarness, type ImageBuildHarness } from '../test-e2e/lib/imagebuild-harness.js';
import { requireEnv } from '../test-e2e/lib/env.js';
import { waitFor } from '../test-e2e/lib/wait.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    files: { type: 'string', default: '50' },
    /** Extra kaniko executor args (what a project sets as kaniko.args), comma-separated. */
    'kaniko-args': { type: 'string', default: '' },
  },
});
const KANIKO_ARGS = (args['kaniko-args'] ?? '').split(',').filter(Boolean);
const RUNS = Math.max(1, Number(args.runs));
const env = requireEnv('registry', 'nodeImage', 'kanikoImage', 'testImage');
if (!process.env.DOCKER_HOST) throw new Error('DOCKER_HOST is not set: eval "$(make -s cluster-env)" (the node tier starts a dockerd)');

const DOCKERFILE = `ARG BASE
FROM \${BASE}
WORKDIR /app
COPY package.json .
RUN mkdir -p node_modules/dep && i=0 && while [ $i -lt 200 ]; do head -c 10240 /dev/urandom > node_modules/dep/f$i; i=$((i+1)); done
COPY src ./src
CMD ["node", "src/index.js"]
`;

async function makeContext(dir: string, files: number): Promise<void> {
  await mkdir(path.join(dir, 'src'), { recursive: true });
  await writeFile(path.join(dir, 'Dockerfile'), DOCKERFILE);
  await writeFile(path.join(dir, 'package.json'), '{"name":"bench","version":"1.0.0"}\n');
  for (let i = 0; i < files; i++) await writeFile(path.join(dir, 'src', `m${i}.js`), `export const v${i} = ${JSON.stringify('x'.repeat(2000))};\n`);
  await writeFile(path.join(dir, 'src/index.js'), 'console.log("bench");\n');
}

const secs = (ms: number) => (ms / 1000).toFixed(1);
const run = randomBytes(3).toString('hex');
const buildArgs = { BASE: env.nodeImage };

interface KanikoTimes {
  total: number;
  /** ImageBuild created → the build pod waits for the upload (scheduling, init container). */
  slot: number;
  upload: number;
  /** Upload done → Succeeded (kaniko: base pull, build, push; the operator noticing). */
  build: number;
}

interface Row {
  scenario: string;
  docker: number;
  kaniko: KanikoTimes;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dsa-build-bench-'));
  await makeContext(dir, Number(args.files));
  const api = await dockerodeApi(dockerEndpoint(process.env));
  await api.ping(5_000);
  const { default: Docker } = await import('dockerode');
  const docker = new Docker({ socketPath: process.env.DOCKER_HOST!.replace(/^unix:\/\//, '') });
  const h: ImageBuildHarness = await startImageBuildHarness({ namespacePrefix: 'dsa-bench-build', kanikoImage: env.kanikoImage, helperImage: env.testImage, workers: 2, onBuildPod: () => undefined });
  const rows: Row[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      const repoDocker = `${env.registry}/bench-${run}-${r}/docker`;
      const repoKaniko = `${env.registry}/bench-${run}-${r}/kaniko`;
      await writeFile(path.join(dir, 'src/index.js'), `console.log("bench ${run} ${r}");\n`);

      // docker cold: no base image, no earlier builds, no build cache in the daemon.
      for (const img of (await docker.listImages()) as Array<{ RepoTags?: string[]; Id: string }>) {
        if ((img.RepoTags ?? []).some((t) => t.startsWith(env.nodeImage) || t.includes('/bench-'))) await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
      }
      await docker.pruneBuilder().catch(() => undefined);

      const dockerOnce = async (): Promise<number> => {
        const prepared = await prepareContext(dir, 'Dockerfile');
        const tag = buildTag({ contextDigest: prepared.digest, dockerfile: 'Dockerfile', buildArgs });
        const inDaemon = await api.hasImage(`${repoDocker}:${tag}`);
        const t0 = Date.now();
        await dockerBuildAndPush(
          { name: 'bench', image: repoDocker, tags: [tag], contextDir: dir, dockerfile: 'Dockerfile', buildArgs, skipPush: false },
          { api, prepare: (c, d) => prepareContext(c, d), log: () => undefined, output: () => undefined, signal: new AbortController().signal, timeoutMs: 600_000 },
          { build: !inDaemon },
        );
        return Date.now() - t0;
      };
      let ibCount = 0;
      const kanikoOnce = async (): Promise<KanikoTimes> => {
        const name = `b${r}-${ibCount++}`;
        const t0 = Date.now();
        let tSlot = t0;
        let tUp = t0;
        const prepared = await prepareContext(dir, 'Dockerfile');
        const spec: ImageBuild['spec'] = {
          image: repoKaniko,
          tag: buildTag({ contextDigest: prepared.digest, dockerfile: 'Dockerfile', buildArgs }),
          context: { upload: { digest: prepared.digest } },
          buildArgs,
          registry: { insecure: true },
          builder: { cache: true, ...(KANIKO_ARGS.length ? { args: KANIKO_ARGS } : {}) },
        };
        await h.createIb(name, spec);
        const slot = await waitForUploadSlot(h.kc, { namespace: h.ns.name, name }, { timeoutMs: 300_000, expected: { digest: prepared.digest } });
        tSlot = Date.now();
        if (slot.kind === 'upload') await uploadContext(h.kc, slot.target, prepared.open());
        tUp = Date.now();
        const done = await waitFor(`ImageBuild ${name}`, async () => {
          const ib = await h.getIb(name);
          if (ib.status?.phase === 'Failed') throw new Error(`kaniko build failed: ${ib.status.message}\n${ib.status.logTail ?? ''}`);
          return ib.status?.phase === 'Succeeded' ? ib : undefined;
        }, { timeoutMs: 600_000, intervalMs: 100 });
        if (!done) throw new Error('unreachable');
        const end = Date.now();
        return { total: end - t0, slot: tSlot - t0, upload: tUp - tSlot, build: end - tUp };
      };

      rows.push({ scenario: `cold (run ${r + 1})`, docker: await dockerOnce(), kaniko: await kanikoOnce() });
      await writeFile(path.join(dir, 'src/m0.js'), `export const v0 = "changed ${run} ${r}";\n`);
      rows.push({ scenario: `warm: one source file changed (run ${r + 1})`, docker: await dockerOnce(), kaniko: await kanikoOnce() });
      rows.push({ scenario: `unchanged (run ${r + 1})`, docker: await dockerOnce(), kaniko: await kanikoOnce() });
    }
  } finally {
    await h.stop();
    await h.ns.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`\nbuild benchmark (${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; image FROM ${env.nodeImage}, ${args.files} source files${KANIKO_ARGS.length ? `; kaniko args ${KANIKO_ARGS.join(' ')}` : ''})\n`);
  console.log('| scenario | local docker (dockerode) | in-cluster kaniko | kaniko / docker | kaniko: to upload slot / upload / build+push |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    const k = row.kaniko;
    console.log(`| ${row.scenario} | ${secs(row.docker)} s | ${secs(k.total)} s | ${(k.total / Math.max(row.docker, 1)).toFixed(2)}× | ${secs(k.slot)} / ${secs(k.upload)} / ${secs(k.build)} s |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
