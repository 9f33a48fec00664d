// Full-node tier, the sync options no other suite drives on the cluster (issue 7), each from a real
// devspace.yaml run by the real `dsa up` (the operator in this process, the dev sidecar image), with no
// image build (the node image, or one derived from it by registry-image.ts):
//
//   v1beta11: onUpload.exec[] as DevSpace 5 spells it (onChange, local, failOnError), v1beta
//   onUpload.execRemote per file and directory (command/args, onFileChange, onDirCreate, onBatch; `{}`),
//   onDownload.execLocal, throttleChangeDetection, dev.logs.sync, waitInitialSync: false,
//   dev.autoReload.deployments and .images; one broken local sync path failing alone (the others keep
//   syncing, it says why, retries and recovers once fixed); container names that cannot be synced
//   (one warning each).
//   v2beta1: file: true (the operator mounts and seeds the file's folder), exec[].once.
//   v1beta6: downloadOnInitialSync (DevSpace's upgrade makes it initialSync: preferLocal).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEVSESSION, GROUP, VERSION, type DevSession } from '@dsa/api';
import { DSA_RESOURCES, applyCrds, createTestNamespace, kubeFromEnv, kubectlPath, requireEnv, run, waitFor, type TestNamespace } from '../../lib/index.js';
import { deriveImage } from '../../lib/registry-image.js';
import { DsaProcess, startSyncOperator, syncColumn } from '../../lib/sync-cli.js';
import { put } from '../../lib/sync-harness.js';

jest.setTimeout(300_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'nodeImage', 'sidecarImage');

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ns: TestNamespace;
let stopOperator: (() => Promise<void>) | undefined;
let work: string;
/** Image with files under /srv/cfg and /src (seeded into the sync folders), no build. */
let seededImage: string;
const ups: DsaProcess[] = [];

/** A Deployment whose app logs one line at start (MARK tells manifests apart) and idles. */
const deployment = (app: string, image: string, mark = '1') =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: {
          terminationGracePeriodSeconds: 1,
          enableServiceLinks: false,
          containers: [{ name: 'app', image, env: [{ name: 'MARK', value: mark }], command: ['node', '-e', 'console.log("app started " + process.env.MARK); setInterval(() => {}, 1 << 30)'] }],
        },
      },
    },
  });

const upIn = (project: string, extra: string[] = []) => {
  const p = new DsaProcess(['--config', path.join(project, 'devspace.yaml'), '-n', ns.name, '--no-color', 'up', ...extra], { cwd: project, env: { KUBECONFIG: env.kubeconfig } });
  ups.push(p);
  return p;
};
const sessionOf = (up: DsaProcess) => (/applied DevSession (\S+)/.exec(up.stderr) ?? [])[1] ?? '';
const getSession = async (name: string) => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns.name, name })) as DevSession;
/** The running pod of `app` (every container ready, not terminating), other than `not`. */
const appPod = (app: string, not?: string) =>
  waitFor(
    `a running pod of ${app}${not ? ` other than ${not}` : ''}`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: `app=${app}` });
      const p = pods.items.find((x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp && x.metadata?.name !== not && (x.status?.containerStatuses ?? []).every((c) => c.ready));
      return p?.metadata?.name;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
/** `sh -c script` in the app container; stdout. */
const inPod = async (pod: string, script: string) => (await run(kubectlPath(), ['exec', '-n', ns.name, pod, '-c', 'app', '--', 'sh', '-c', script], { allowFailure: true, timeoutMs: 60_000 })).stdout;
const lines = async (pod: string, file: string) => (await inPod(pod, `cat ${file} 2>/dev/null`)).split('\n').filter(Boolean);
const readLocal = (file: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const localLines = (file: string) => (readLocal(file) ?? '').split('\n').filter(Boolean);
const countLines = (up: DsaProcess, re: RegExp) => up.lines.filter((l) => l.stream === 'err' && re.test(l.text)).length;

beforeAll(async () => {
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-sync-gaps');
  stopOperator = startSyncOperator(kc, ns.name, env);
  work = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-sync-gaps-'));
  seededImage = await deriveImage(env.nodeImage, {
    files: {
      '/srv/cfg/app.json': { content: '{"from":"the image"}\n' },
      '/srv/cfg/other.json': { content: 'another file of the folder, from the image\n' },
      '/src/remote-only.txt': { content: 'only in the container\n' },
      '/src/differ.txt': { content: 'the container\'s version\n' },
    },
  });
});

afterAll(async () => {
  for (const up of ups) await up.stop('SIGKILL');
  await stopOperator?.();
  // No operator runs any more to remove the finalizers: without this the namespace stays Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('v1beta11 (DevSpace 5): commands after sync, throttleChangeDetection, logs, auto-reload, a broken path', () => {
  const APP = 'gaps-v11';
  let project: string;
  let up: DsaProcess;
  let session: string;
  const P = (rel: string) => path.join(project, rel);

  const config = () => `version: v1beta11
images:
  # never built (build.disabled): auto-reload watches its Dockerfile only because autoReload.images names it
  tools:
    image: localhost:5000/e2e-sync-gaps/tools
    dockerfile: ./tools.Dockerfile
    build:
      disabled: true
deployments:
- name: ${APP}
  kubectl:
    manifests: [deployment.yaml]
dev:
  logs:
    sync: true
  autoReload:
    deployments: [${APP}]
    images: [tools]
  sync:
${[
  ['./exec', '/exec', `    onUpload:
      exec:
      - command: echo batch >> /tmp/exec-batch.log
        onChange: ["**/*.js"]
      - command: echo local >> ../exec-local.log
        local: true
      - command: sh
        args: [-c, "test ! -e /exec/fail.txt"]
        failOnError: true`],
  ['./rc1', '/rc1', `    onUpload:
      execRemote:
        command: sh
        args: [-c, "echo changed {} >> /tmp/rc1.log"]`],
  ['./rc2', '/rc2', `    onUpload:
      execRemote:
        onFileChange: {command: sh, args: [-c, "echo file {} >> /tmp/rc2.log"]}
        onDirCreate: {command: sh, args: [-c, "echo dir {} >> /tmp/rc2.log"]}
        onBatch: {command: sh, args: [-c, "echo batch >> /tmp/rc2.log"]}`],
  ['./down', '/down', `    onDownload:
      execLocal:
        onFileChange: {command: sh, args: [-c, "echo file {} >> ../down.log"]}
        onDirCreate: {command: sh, args: [-c, "echo dir {} >> ../down.log"]}
        onBatch: {command: sh, args: [-c, "echo batch >> ../down.log"]}`],
  ['./polled', '/polled', `    polling: true
    throttleChangeDetection: 400`],
  // 600 KiB at 64 KiB/s: an initial sync of several seconds, which waitInitialSync: false does not wait for
  ['./slow', '/slow', '    bandwidthLimits: {upload: 64}'],
  // its local folder cannot exist while `blocked` is a file
  ['./blocked/sub', '/blocked', ''],
]
  .map(([local, remote, extra]) => `  - labelSelector: {app: ${APP}}
    containerName: app
    localSubPath: ${local}
    containerPath: ${remote}
    waitInitialSync: false
${extra}`)
  .join('\n')}
`;

  beforeAll(async () => {
    project = path.join(work, 'v11');
    put(project, 'devspace.yaml', config());
    put(project, 'deployment.yaml', deployment(APP, env.nodeImage));
    put(project, 'tools.Dockerfile', 'FROM scratch\n');
    put(project, 'exec/start.txt', 'initial');
    put(project, 'rc1/initial.txt', 'initial');
    put(project, 'rc2/initial.txt', 'initial');
    fs.mkdirSync(P('down'));
    for (let i = 0; i < 1000; i++) put(project, `polled/zz/f${i}.txt`, `${i}`);
    put(project, 'polled/a.txt', 'v1\n');
    put(project, 'slow/big.bin', randomBytes(600 * 1024));
    put(project, 'blocked', 'a file where a sync folder should be');
    up = upIn(project);
    await up.waitLine('the deploy', /applied DevSession /, { stream: 'err', timeoutMs: 120_000 });
    session = sessionOf(up);
  });

  afterAll(async () => {
    await up?.stop('SIGINT');
  });

  it('waitInitialSync: false: the logs start before the initial sync is done', async () => {
    const started = await up.waitLine('the app log', /app started 1/, { stream: 'out', timeoutMs: 180_000 });
    const slowDone = await up.waitLine('the slow initial sync', / \.\/slow: initial sync done in /, { stream: 'err', timeoutMs: 120_000 });
    expect(started.at).toBeLessThan(slowDone.at);
    for (const p of ['exec', 'rc1', 'rc2', 'down', 'polled']) await up.waitLine(`the initial sync of ./${p}`, new RegExp(` \\./${p}: initial sync done in `), { stream: 'err' });
  });

  it('one broken local sync path fails alone: it says why (once), the others sync, and it recovers by itself once fixed', async () => {
    await waitFor('SYNC error', async () => (/^error: local sync path /.test(await syncColumn(ns.name, session)) ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
    const st = (await getSession(session)).status?.syncPaths ?? [];
    expect(st.map((p) => [p.localPath, p.state])).toEqual([
      ['./exec', 'watching'],
      ['./rc1', 'watching'],
      ['./rc2', 'watching'],
      ['./down', 'watching'],
      ['./polled', 'watching'],
      ['./slow', 'watching'],
      ['./blocked/sub', 'error'],
    ]);
    expect(st.at(-1)?.lastError).toMatch(/^local sync path .*blocked\/sub: .*(ENOTDIR|not a directory)/);
    // the other paths keep syncing
    const pod = await appPod(APP);
    put(project, 'exec/while-broken.txt', 'up');
    await waitFor('the upload', async () => ((await inPod(pod, 'cat /exec/while-broken.txt')) === 'up' ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
    // it retried meanwhile (1 s, 2 s, 4 s …), and said so once
    expect(countLines(up, /sync \.\/blocked\/sub: local sync path/)).toBe(1);
    expect(up.stderr).not.toMatch(/sync of dev pod \S+ stopped/);
    fs.rmSync(P('blocked'));
    await up.waitLine('the recovery', /sync \.\/blocked\/sub: syncing again/, { stream: 'err', timeoutMs: 60_000 });
    await waitFor('SYNC 7/7 synced', async () => ((await syncColumn(ns.name, session)) === '7/7 synced' ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    put(project, 'blocked/sub/now.txt', 'works');
    await waitFor('the repaired path live', async () => ((await inPod(pod, 'cat /blocked/now.txt')) === 'works' ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
  });

  it('onUpload.exec[] as v1beta11 spells it: onChange, local, failOnError; dev.logs.sync prints each synced file', async () => {
    const pod = await appPod(APP);
    // after the initial sync: the batch commands ran once (onChange matched nothing yet)
    expect(await lines(pod, '/tmp/exec-batch.log')).toEqual([]);
    const local0 = localLines(P('exec-local.log')).length;
    expect(local0).toBeGreaterThanOrEqual(1);
    const from = up.mark;
    put(project, 'exec/lib/a.js', 'module.exports = 1;\n');
    await waitFor('the onChange command', async () => ((await lines(pod, '/tmp/exec-batch.log')).length === 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
    await waitFor('the local command', () => (localLines(P('exec-local.log')).length > local0 ? true : undefined), { timeoutMs: 30_000 });
    // dev.logs.sync: a line per synced file
    await up.waitLine('the per-file line', /^↑ exec\/lib\/a\.js$/, { stream: 'err', from });
    put(project, 'exec/notes.txt', 'no js here');
    await waitFor('the local command again', () => (localLines(P('exec-local.log')).length > local0 + 1 ? true : undefined), { timeoutMs: 30_000 });
    expect(await lines(pod, '/tmp/exec-batch.log')).toHaveLength(1);

    // failOnError: the failing command restarts that path's sync (it says why, then syncs again)
    const mark = up.mark;
    put(project, 'exec/fail.txt', 'makes the check fail');
    await up.waitLine('the failure', /sync \.\/exec: onUpload command sh -c test ! -e \/exec\/fail\.txt failed in pod \S+: exit code 1/, { stream: 'err', from: mark });
    await up.waitLine('the restart of that path', / \.\/exec: initial sync done in /, { stream: 'err', from: mark });
    await up.waitLine('back', /sync \.\/exec: syncing again/, { stream: 'err', from: mark });
    // the file was applied before the command failed: the restarted sync had nothing to redo, no loop
    expect(await inPod(pod, 'cat /exec/fail.txt')).toBe('makes the check fail');
    fs.rmSync(P('exec/fail.txt'));
    await waitFor('the deletion', async () => ((await inPod(pod, 'test -e /exec/fail.txt || echo gone')).trim() === 'gone' ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(countLines(up, /onUpload command sh -c test/)).toBe(1);
  });

  it('onUpload.execRemote per file and created directory (command/args, onFileChange, onDirCreate) and per batch; {} is the path in the container', async () => {
    const pod = await appPod(APP);
    const rc2Batches = (await lines(pod, '/tmp/rc2.log')).filter((l) => l === 'batch').length;
    expect(rc2Batches).toBe(1); // onBatch ran once after the initial sync
    put(project, 'rc1/a.txt', 'a');
    fs.mkdirSync(P('rc1/d'));
    put(project, 'rc2/f.txt', 'f');
    put(project, 'rc2/sub/g.txt', 'g');
    await waitFor(
      'the per-file and per-directory commands',
      async () => {
        const rc1 = await lines(pod, '/tmp/rc1.log');
        const rc2 = await lines(pod, '/tmp/rc2.log');
        return ['changed /rc1/a.txt', 'changed /rc1/d'].every((l) => rc1.includes(l)) && ['file /rc2/f.txt', 'file /rc2/sub/g.txt', 'dir /rc2/sub'].every((l) => rc2.includes(l)) && rc2.filter((l) => l === 'batch').length > rc2Batches;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // per file only for what changed: the initial files never ran a per-file command
    expect((await lines(pod, '/tmp/rc1.log')).filter((l) => l.includes('initial'))).toEqual([]);
  });

  it('onDownload.execLocal after downloads: per file and created directory ({} is the local path), and per batch', async () => {
    const pod = await appPod(APP);
    await inPod(pod, 'mkdir -p /down/gen && echo made > /down/gen/out.txt');
    await waitFor(
      'the local commands',
      () => {
        const got = localLines(P('down.log'));
        return [`file ${P('down/gen/out.txt')}`, `dir ${P('down/gen')}`, 'batch'].every((l) => got.includes(l)) ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(readLocal(P('down/gen/out.txt'))).toBe('made\n');
  });

  it('throttleChangeDetection: the container side\'s polling walk pauses 400 ms after every 100 files', async () => {
    const pod = await appPod(APP);
    const t0 = Date.now();
    await inPod(pod, 'echo v2 > /polled/a.txt');
    await waitFor('the change on the laptop', () => (readLocal(P('polled/a.txt')) === 'v2\n' ? true : undefined), { timeoutMs: 30_000, intervalMs: 50 });
    const took = Date.now() - t0;
    console.log(`throttleChangeDetection 400 ms, 1,002 entries: a container change reached the laptop in ${took} ms`);
    // a walk of the 1,002 entries holds 10 pauses; unthrottled the change arrives within a poll period (1 s) and a walk of a few ms
    expect(took).toBeGreaterThanOrEqual(4_000);
  });

  it('a container name that cannot be synced is skipped with one warning', async () => {
    const pod = await appPod(APP);
    await inPod(pod, `printf x > "/exec/$(printf 'bad\\001name')" && printf y > "/exec/$(printf 'bad\\001name')" && echo ok > /exec/after-bad.txt`);
    await waitFor('the file after it', () => (readLocal(P('exec/after-bad.txt')) === 'ok\n' ? true : undefined), { timeoutMs: 30_000 });
    await up.waitLine('the warning', /sync \.\/exec: container: skipped "bad\\u0001name": contains a control character/, { stream: 'err', timeoutMs: 10_000 });
    expect(countLines(up, /container: skipped "bad\\u0001name"/)).toBe(1);
    expect(fs.readdirSync(P('exec')).filter((n) => n.startsWith('bad'))).toEqual([]);
  });

  it('dev.autoReload.images: a changed Dockerfile of a named image (never built) redeploys', async () => {
    const from = up.mark;
    put(project, 'tools.Dockerfile', 'FROM scratch\n# changed\n');
    await up.waitLine('the auto-reload', /auto-reload: tools\.Dockerfile changed; building and deploying again/, { stream: 'err', from, timeoutMs: 30_000 });
    await up.waitLine('the redeploy', /auto-reload: deployed/, { stream: 'err', from, timeoutMs: 120_000 });
  });

  it('dev.autoReload.deployments: a changed manifest redeploys; the sync follows the new pod', async () => {
    const old = await appPod(APP);
    const from = up.mark;
    put(project, 'deployment.yaml', deployment(APP, env.nodeImage, '2'));
    await up.waitLine('the auto-reload', /auto-reload: deployment\.yaml changed; building and deploying again/, { stream: 'err', from, timeoutMs: 30_000 });
    await up.waitLine('the new app', /app started 2/, { stream: 'out', from, timeoutMs: 180_000 });
    const next = await appPod(APP, old);
    await up.waitLine('the sync with the new pod', / \.\/exec: initial sync done in /, { stream: 'err', from, timeoutMs: 120_000 });
    expect(await inPod(next, 'cat /exec/lib/a.js')).toBe('module.exports = 1;\n');
    put(project, 'exec/after-reload.txt', 'live');
    await waitFor('live sync to the new pod', async () => ((await inPod(next, 'cat /exec/after-reload.txt')) === 'live' ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
  });
});

describe('v2beta1 (DevSpace 6): file: true and exec[].once', () => {
  const APP = 'gaps-v2';
  let project: string;
  let up: DsaProcess;
  const config = `version: v2beta1
name: ${APP}
deployments:
  ${APP}:
    kubectl:
      manifests: [deployment.yaml]
dev:
  files:
    labelSelector: {app: ${APP}}
    container: app
    sync:
    - path: ./app.json:/srv/cfg/app.json
      file: true
    - path: ./src:/src
      onUpload:
        exec:
        - command: echo once >> /tmp/once.log
          once: true
        - command: echo every >> /tmp/every.log
`;

  beforeAll(() => {
    project = path.join(work, 'v2');
    put(project, 'devspace.yaml', config);
    put(project, 'deployment.yaml', deployment(APP, seededImage));
    put(project, 'app.json', '{"from":"the laptop"}\n');
    put(project, 'other.json', 'a neighbour on the laptop: not synced\n');
    put(project, 'src/a.txt', 'a');
  });

  afterAll(async () => {
    await up?.stop('SIGINT');
  });

  it('file: true syncs one file both ways; the rest of its folder (seeded from the image) stays as it is', async () => {
    up = upIn(project);
    await up.waitLine('the initial sync', / \.\/app\.json: initial sync done in /, { stream: 'err', timeoutMs: 180_000 });
    const pod = await appPod(APP);
    const spec = (await core.readNamespacedPod({ namespace: ns.name, name: pod })).spec;
    // the folder is the volume (a volume on the file's own path would make it a directory)
    expect(spec?.containers[0]?.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ mountPath: '/srv/cfg' })]));
    expect(await inPod(pod, 'test -f /srv/cfg/app.json && cat /srv/cfg/app.json')).toBe('{"from":"the laptop"}\n');
    expect(await inPod(pod, 'cat /srv/cfg/other.json')).toBe('another file of the folder, from the image\n');
    expect(await inPod(pod, 'ls /srv/cfg')).toBe('app.json\nother.json\n');

    put(project, 'app.json', '{"from":"the laptop","v":2}\n');
    await waitFor('the edit in the container', async () => ((await inPod(pod, 'cat /srv/cfg/app.json')) === '{"from":"the laptop","v":2}\n' ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
    await inPod(pod, 'echo made-in-the-pod > /srv/cfg/new.json && echo \'{"from":"the container"}\' > /srv/cfg/app.json');
    await waitFor('the container edit on the laptop', () => (readLocal(path.join(project, 'app.json')) === '{"from":"the container"}\n' ? true : undefined), { timeoutMs: 30_000 });
    // only that one name crosses, either way
    expect(fs.existsSync(path.join(project, 'new.json'))).toBe(false);
    expect(fs.readdirSync(project).filter((n) => n.includes('.dsa-conflict-'))).toEqual([]);
    expect(readLocal(path.join(project, 'other.json'))).toBe('a neighbour on the laptop: not synced\n');
    expect(await inPod(pod, 'ls /srv/cfg')).toBe('app.json\nnew.json\nother.json\n');
  });

  it('exec[].once runs once in the container\'s life: not on later batches, not after dsa up restarts; again in a new pod', async () => {
    const pod = await appPod(APP);
    await waitFor('the commands after the initial sync', async () => ((await lines(pod, '/tmp/every.log')).length === 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
    expect(await lines(pod, '/tmp/once.log')).toEqual(['once']);
    put(project, 'src/b.txt', 'b');
    await waitFor('a live batch', async () => ((await lines(pod, '/tmp/every.log')).length === 2 ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
    expect(await lines(pod, '/tmp/once.log')).toEqual(['once']);

    // dsa up again (same pod), with an edit made while it was gone: its initial sync runs the batch commands
    expect(await up.stop('SIGINT')).toBe(130);
    put(project, 'src/c.txt', 'c');
    up = upIn(project);
    await waitFor('the batch after the restart', async () => ((await lines(pod, '/tmp/every.log')).length === 3 ? true : undefined), { timeoutMs: 120_000, intervalMs: 500 });
    expect(await lines(pod, '/tmp/once.log')).toEqual(['once']);

    // a new pod is a new container life
    const from = up.mark;
    await core.deleteNamespacedPod({ namespace: ns.name, name: pod, gracePeriodSeconds: 0 });
    const next = await appPod(APP, pod);
    await up.waitLine('the sync with the new pod', / \.\/src: initial sync done in /, { stream: 'err', from, timeoutMs: 120_000 });
    await waitFor('once in the new pod', async () => ((await lines(next, '/tmp/once.log')).length === 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 300 });
    expect(await lines(next, '/tmp/every.log')).toEqual(['every']);
  });
});

describe('v1beta6 (DevSpace 4): downloadOnInitialSync', () => {
  const APP = 'gaps-v6';

  it('true is initialSync: preferLocal: the container\'s own files come down, the laptop\'s go up, and the laptop wins where both differ', async () => {
    const project = path.join(work, 'v6');
    put(
      project,
      'devspace.yaml',
      `version: v1beta6
deployments:
- name: ${APP}
  kubectl:
    manifests: [deployment.yaml]
dev:
  sync:
  - labelSelector: {app: ${APP}}
    containerName: app
    localSubPath: ./src
    containerPath: /src
    downloadOnInitialSync: true
`,
    );
    put(project, 'deployment.yaml', deployment(APP, seededImage));
    put(project, 'src/local-only.txt', 'only on the laptop\n');
    put(project, 'src/differ.txt', 'the laptop\'s version\n');
    const up = upIn(project);
    await up.waitLine('the initial sync', /sync: initial sync done in .*↑ 2 files.*↓ 1 file/, { stream: 'err', timeoutMs: 180_000 });
    const pod = await appPod(APP);
    // mirrorLocal (what the option would be if ignored) deletes the container's own file instead
    expect(readLocal(path.join(project, 'src/remote-only.txt'))).toBe('only in the container\n');
    expect(await inPod(pod, 'cat /src/remote-only.txt /src/local-only.txt /src/differ.txt')).toBe('only in the container\nonly on the laptop\nthe laptop\'s version\n');
    expect(readLocal(path.join(project, 'src/differ.txt'))).toBe('the laptop\'s version\n');
    expect(await up.stop('SIGINT')).toBe(130);
  });
});
