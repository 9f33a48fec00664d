// Full-node tier, `dsa up` on DevSpace 4.14's example v4.14.0-hot-reload-container-restart.yaml
// (v1beta9, /work/shared/devspace-examples), adapted to this cluster (harness registry, insecure kaniko,
// a free local port, a Node app instead of Go): the image's ENTRYPOINT is the only command there is, so
// onUpload.restartContainer must take it from the image config; onUpload.execRemote.onBatch (v1beta);
// dev.autoReload.paths and a changed Dockerfile → rebuild and redeploy, with the sync following.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GROUP, IMAGEBUILD, VERSION, type ImageBuild } from '@dsa/api';
import { DSA_RESOURCES, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, waitFor, type TestNamespace } from '../../lib/index.js';
import { freePort } from '../../lib/process.js';
import { DsaProcess, startSyncOperator, syncColumn } from '../../lib/sync-cli.js';
import { put } from '../../lib/sync-harness.js';

jest.setTimeout(300_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'nodeImage', 'sidecarImage');

const CONFIG = (port: number) => `# DevSpace 4.14's examples/hot-reload-container-restart (v1beta9), adapted: registry and base image
# from vars, insecure kaniko, a free local port, execRemote.onBatch, autoReload.
version: v1beta9
vars:
- name: DSA_REGISTRY
  source: env
  default: localhost:5000
- name: BASE_IMAGE
  source: env
  default: node:20-alpine
images:
  default:
    image: \${DSA_REGISTRY}/e2e-sync/restart-helper
    # DevSpace wraps the ENTRYPOINT with its restart helper; dsa's supervisor does it from the image config
    injectRestartHelper: true
    build:
      kaniko:
        insecure: true
        options:
          buildArgs:
            BASE_IMAGE: \${BASE_IMAGE}
deployments:
- name: quickstart
  helm:
    componentChart: true
    values:
      containers:
      - image: \${DSA_REGISTRY}/e2e-sync/restart-helper
      service:
        ports:
        - port: 8080
dev:
  ports:
  - imageName: default
    forward:
    - port: ${port}
      remotePort: 8080
  sync:
  - imageName: default
    excludePaths: [config/, Dockerfile]
    onUpload:
      restartContainer: true
      execRemote:
        onBatch:
          command: sh
          args: [-c, "echo batch >> /tmp/batches.log"]
  autoReload:
    paths: [./config/*.yaml]
`;

const SERVER = `const http = require('http');
const fs = require('fs');
const greeting = fs.readFileSync('config/greeting.yaml', 'utf8').trim();
const version = fs.readFileSync('version.txt', 'utf8').trim();
http.createServer((req, res) => res.end(JSON.stringify({ greeting, version, mark: process.env.BUILD_MARK ?? '', pid: process.pid }))).listen(8080, () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
`;
const DOCKERFILE = (mark: string) => `ARG BASE_IMAGE=node:20-alpine
FROM \${BASE_IMAGE}
WORKDIR /app
ENV BUILD_MARK=${mark}
COPY . .
ENTRYPOINT ["node", "server.js"]
`;

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ns: TestNamespace;
let stopOperator: (() => Promise<void>) | undefined;
let work: string;
let project: string;
let port: number;
let up: DsaProcess | undefined;
let session = '';

type Reply = { greeting: string; version: string; mark: string; pid: number };
const get = async () => (await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) })).json()) as Reply;
const serving = (what: string, ok: (r: Reply) => boolean, timeoutMs = 90_000) =>
  waitFor(`the app to serve ${what}`, async () => {
    const r = await get().catch(() => undefined);
    return r && ok(r) ? r : undefined;
  }, { timeoutMs, intervalMs: 400 });
const appPod = async (not?: string) =>
  waitFor(
    'the app pod',
    async () => {
      const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app.kubernetes.io/component=quickstart' });
      return pods.items.find((x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp && x.metadata?.name !== not)?.metadata?.name;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
const inPod = async (pod: string, script: string) => (await run(path.join(process.env.DSA_KUBE_BIN ?? '', 'kubectl'), ['exec', '-n', ns.name, pod, '-c', 'container-0', '--', 'sh', '-c', script], { allowFailure: true })).stdout;
const images = async () => ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: ns.name })) as { items: ImageBuild[] }).items;

beforeAll(async () => {
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-sync-v1');
  stopOperator = startSyncOperator(kc, ns.name, env);
  work = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-sync-v1-'));
  project = path.join(work, 'project');
  port = await freePort();
  put(project, 'devspace.yaml', CONFIG(port));
  put(project, 'Dockerfile', DOCKERFILE('1'));
  put(project, 'server.js', SERVER);
  put(project, 'version.txt', 'v1\n');
  put(project, 'config/greeting.yaml', 'hello\n');
});

afterAll(async () => {
  await up?.stop('SIGKILL');
  await stopOperator?.();
  // No operator runs any more to remove the finalizers: without this the namespace stays Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('dsa up on DevSpace 4.14\'s hot-reload-container-restart example (v1beta9)', () => {
  it('syncs into the image WORKDIR and restarts the ENTRYPOINT process after an upload; execRemote.onBatch runs', async () => {
    up = new DsaProcess(['--config', path.join(project, 'devspace.yaml'), '-n', ns.name, '--var', `DSA_REGISTRY=${env.registry}`, '--var', `BASE_IMAGE=${env.nodeImage}`, '--no-color', 'up'], { cwd: work, env: { KUBECONFIG: env.kubeconfig } });
    await up.waitLine('the initial sync', /sync: initial sync done in /, { stream: 'err', timeoutMs: 240_000 });
    session = (/applied DevSession (\S+)/.exec(up.stderr) ?? [])[1] ?? '';
    expect(session).not.toBe('');
    const pod = await appPod();
    const p = await core.readNamespacedPod({ namespace: ns.name, name: pod });
    // the image's ENTRYPOINT, under the supervisor (the pod spec names no command)
    expect(p.spec?.containers[0]?.command?.slice(-3)).toEqual(['--', 'node', 'server.js']);
    const first = await serving('v1', (r) => r.version === 'v1' && r.greeting === 'hello' && r.mark === '1');
    await waitFor('SYNC 1/1 synced', async () => ((await syncColumn(ns.name, session)) === '1/1 synced' ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    const batches0 = Number((await inPod(pod, 'cat /tmp/batches.log 2>/dev/null | wc -l')).trim());

    put(project, 'version.txt', 'v2\n');
    const after = await serving('v2', (r) => r.version === 'v2');
    expect(after.pid).not.toBe(first.pid);
    expect(await appPod()).toBe(pod);
    await waitFor('execRemote.onBatch after the batch', async () => (Number((await inPod(pod, 'cat /tmp/batches.log 2>/dev/null | wc -l')).trim()) > batches0 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
  });

  it('dev.autoReload.paths: a changed file → rebuild and redeploy; the sync follows the new pod', async () => {
    const old = await appPod();
    const builds0 = (await images()).map((i) => i.status?.image).join(',');
    const from = up!.mark;
    put(project, 'config/greeting.yaml', 'hello again\n');
    // config/ is excluded from the sync: only a new image brings it
    const r = await serving('the rebuilt greeting', (x) => x.greeting === 'hello again', 240_000);
    expect(r.version).toBe('v2'); // the synced file came along to the new pod (initial sync)
    expect((await images()).map((i) => i.status?.image).join(',')).not.toBe(builds0);
    const next = await appPod(old);
    expect(next).not.toBe(old);
    await up!.waitLine('the sync in the new pod', /sync: initial sync done in /, { stream: 'err', from, timeoutMs: 120_000 });
  });

  it('a changed Dockerfile → rebuild and redeploy', async () => {
    const old = await appPod();
    put(project, 'Dockerfile', DOCKERFILE('2'));
    const r = await serving('the rebuilt image', (x) => x.mark === '2', 240_000);
    expect(r.version).toBe('v2');
    expect(await appPod(old)).not.toBe(old);
  });
});
