// Full-node tier, file sync as `dsa up` shows it (issue 7, "What people see"), on DevSpace 6's own
// example v6.3.21-hot-reload-container-restart.yaml (/work/shared/devspace-examples), adapted to this
// cluster: the image goes to the harness registry (kaniko, insecure), a free local port, and a Node app
// instead of Go. The real `dsa` CLI, the operator in this process with the dev sidecar image.
//
//   waitInitialSync (logs held until the initial sync is done), one line per batch on stderr, the SYNC
//   column (`1/1 synced`, `initial NN%`, `error: …`, `agent gone`), status.syncPaths,
//   onUpload.restartContainer with the dev command, onUpload.exec[] with onChange and local (v2beta1),
//   printLogs (a line per synced file),
//   following the pod (deleted; `dsa deploy -d` rolls it out), --quiet.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEVSESSION, GROUP, VERSION, type DevSession } from '@dsa/api';
import { AgentPresenceReconciler, ClientNodeAgentGoneWriter } from '../../../operator/src/controllers/devsession/agent-presence.js';
import { DSA_RESOURCES, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, waitFor, type TestNamespace } from '../../lib/index.js';
import { freePort } from '../../lib/process.js';
import { DSA_BIN, DsaProcess, startSyncOperator, syncColumn } from '../../lib/sync-cli.js';
import { put } from '../../lib/sync-harness.js';

jest.setTimeout(300_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'nodeImage', 'sidecarImage');
const SESSION = 'hot-reload-container-restart';

const CONFIG = (port: number) => `# DevSpace 6.3.21's examples/hot-reload-container-restart, adapted: registry and base image from vars,
# insecure kaniko (the harness registry speaks HTTP), a free local port, onUpload.exec commands.
version: v2beta1
name: ${SESSION}

vars:
  DSA_REGISTRY: {source: env, default: localhost:5000}
  BASE_IMAGE: {source: env, default: node:20-alpine}
  IMAGE: \${DSA_REGISTRY}/e2e-sync/hot-reload

images:
  my-image:
    image: \${IMAGE}
    rebuildStrategy: ignoreContextChanges
    buildArgs:
      BASE_IMAGE: \${BASE_IMAGE}
    kaniko:
      insecure: true

deployments:
  my-deployment:
    helm:
      values:
        containers:
        - image: \${IMAGE}

dev:
  my-dev:
    imageSelector: \${IMAGE}
    command: ["node", "main.js"] # Needed so that DevSpace knows which command to restart
    logs: {}
    ports:
    - port: "${port}:8080"
    sync:
    - path: ./
      printLogs: true
      onUpload:
        restartContainer: true
        exec:
        - command: echo "js changed" >> /tmp/onchange-js.log
          onChange: ["**/*.js"]
        - command: echo "uploaded" >> ../local-commands.log
          local: true
`;

const MAIN = `const http = require('http');
const fs = require('fs');
// read once at start: a change shows only after a restart
const message = fs.readFileSync(__dirname + '/message.txt', 'utf8').trim();
http.createServer((req, res) => res.end(JSON.stringify({ message, pid: process.pid }))).listen(8080, () => console.log('listening on :8080 with ' + message));
process.on('SIGTERM', () => process.exit(0));
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

const dsaArgs = (args: string[]) => ['--config', path.join(project, 'devspace.yaml'), '-n', ns.name, '--var', `DSA_REGISTRY=${env.registry}`, '--var', `BASE_IMAGE=${env.nodeImage}`, '--no-color', ...args];
const startUp = (extra: string[] = []) => new DsaProcess(dsaArgs(['up', ...extra]), { cwd: work, env: { KUBECONFIG: env.kubeconfig } });
const getSession = async () => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns.name, name: SESSION })) as DevSession;
const appPod = async (not?: string) =>
  waitFor(
    'the app pod',
    async () => {
      const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app.kubernetes.io/component=my-deployment' });
      const p = pods.items.find((x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp && x.metadata?.name !== not);
      return p?.metadata?.name;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
const get = async () => (await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) })).json()) as { message: string; pid: number };
const serving = (message: string) => waitFor(`the app to serve ${message}`, async () => ((await get().catch(() => undefined))?.message === message ? true : undefined), { timeoutMs: 60_000, intervalMs: 300 });
const inPod = async (pod: string, script: string) => {
  const r = await run(path.join(process.env.DSA_KUBE_BIN ?? '', 'kubectl'), ['exec', '-n', ns.name, pod, '-c', 'container-0', '--', 'sh', '-c', script], { allowFailure: true });
  return r.stdout;
};

beforeAll(async () => {
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-sync-cli');
  stopOperator = startSyncOperator(kc, ns.name, env);
  work = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-sync-cli-'));
  project = path.join(work, 'project');
  port = await freePort();
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'devspace.yaml'), CONFIG(port));
  fs.writeFileSync(path.join(project, 'Dockerfile'), 'ARG BASE_IMAGE=node:20-alpine\nFROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY main.js message.txt ./\nCMD ["node", "main.js"]\n');
  fs.writeFileSync(path.join(project, 'main.js'), MAIN);
  fs.writeFileSync(path.join(project, 'message.txt'), 'v1\n');
});

afterAll(async () => {
  await up?.stop('SIGKILL');
  await stopOperator?.();
  // No operator runs any more to remove the finalizers: without this the namespace stays Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('dsa up on DevSpace 6\'s hot-reload-container-restart example', () => {
  it('holds the logs until the initial sync is done, then shows the synced pod in the SYNC column', async () => {
    put(project, 'notes/readme.txt', 'only on the laptop before the first sync');
    up = startUp();
    const done = await up.waitLine('the initial sync', /sync: initial sync done in /, { stream: 'err', timeoutMs: 240_000 });
    expect(up.stderr).toMatch(/sync: connected to pod \S+ \(dsa-sidecar [\d.]+\): \.\/? ↔ \.\//);
    const log = await up.waitLine('the app log', /listening on :8080 with v1/, { stream: 'out' });
    // waitInitialSync: no log line came before the initial sync finished
    const firstLog = up.lines.find((l) => l.stream === 'out');
    expect(firstLog!.at).toBeGreaterThanOrEqual(done.at);
    expect(log.at).toBeGreaterThanOrEqual(done.at);
    const pod = await appPod();
    expect(await inPod(pod, 'cat /app/notes/readme.txt')).toBe('only on the laptop before the first sync');
    // the agent's own state folder (<project>/.dsa, inside the synced folder here) never crosses
    expect(fs.existsSync(path.join(project, '.dsa/sync'))).toBe(true);
    expect(await inPod(pod, 'ls -a /app')).not.toMatch(/^\.dsa$/m);
    await waitFor('SYNC 1/1 synced', async () => ((await syncColumn(ns.name, SESSION)) === '1/1 synced' ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
    const st = (await getSession()).status;
    expect(st?.syncPaths).toEqual([expect.objectContaining({ devPod: 'my-dev', pod, state: 'watching', conflicts: 0 })]);
    expect(st?.syncPaths?.[0]?.containerPath).toMatch(/^(\.\/|\/app)$/);
    expect(st?.syncPaths?.[0]?.uploadedFiles).toBeGreaterThanOrEqual(1);
  });

  it('an edit: one line on stderr, the onUpload commands, and the app restarted (the process, not the pod)', async () => {
    const pod = await appPod();
    const before = await get();
    expect(before.message).toBe('v1');
    const from = up!.mark;
    put(project, 'message.txt', 'v2\n');
    await up!.waitLine('the batch line', /^↑ 1 file \d+ B \d+(\.\d+)? (ms|s)$/, { stream: 'err', from });
    // printLogs: a line per synced file
    await up!.waitLine('the per-file line', /^↑ message\.txt$/, { stream: 'err', from });
    await serving('v2');
    const after = await get();
    expect(after.pid).not.toBe(before.pid);
    expect(await appPod()).toBe(pod);
    const p = await core.readNamespacedPod({ namespace: ns.name, name: pod });
    expect(p.status?.containerStatuses?.find((c) => c.name === 'container-0')?.restartCount).toBe(0);
    // exec with onChange ["**/*.js"]: not for message.txt; the local command: yes
    await waitFor('the local onUpload command', () => (fs.existsSync(path.join(work, 'local-commands.log')) ? true : undefined), { timeoutMs: 20_000 });
    expect(await inPod(pod, 'cat /tmp/onchange-js.log 2>/dev/null | wc -l')).toMatch(/^\s*[01]\s*$/);
    const jsBefore = Number((await inPod(pod, 'cat /tmp/onchange-js.log 2>/dev/null | wc -l')).trim());
    fs.appendFileSync(path.join(project, 'main.js'), '// touched\n');
    await waitFor('the onChange command for a .js file', async () => (Number((await inPod(pod, 'cat /tmp/onchange-js.log 2>/dev/null | wc -l')).trim()) > jsBefore ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 });
  });

  it('follows the pod when it is deleted, and when `dsa deploy -d` rolls it out; the initial sync runs again', async () => {
    const old = await appPod();
    let from = up!.mark;
    await core.deleteNamespacedPod({ namespace: ns.name, name: old, gracePeriodSeconds: 0 });
    const next = await appPod(old);
    await up!.waitLine('following the new pod', new RegExp(`sync: following dev pod my-dev to pod ${next}|sync: (re)?connected to pod ${next}`), { stream: 'err', from, timeoutMs: 120_000 });
    await up!.waitLine('the initial sync with it', /sync: initial sync done in /, { stream: 'err', from, timeoutMs: 120_000 });
    expect(await inPod(next, 'cat /app/message.txt')).toBe('v2\n');
    await serving('v2');

    from = up!.mark;
    const r = await run(process.execPath, [DSA_BIN, ...dsaArgs(['deploy', '-d'])], { cwd: work, env: { KUBECONFIG: env.kubeconfig }, timeoutMs: 240_000, allowFailure: true });
    if (r.code !== 0) throw new Error(`dsa deploy -d exited ${r.code}: ${r.stderr}`);
    const rolled = await appPod(next);
    await up!.waitLine('following the rolled-out pod', new RegExp(`pod ${rolled}`), { stream: 'err', from, timeoutMs: 120_000 });
    await up!.waitLine('the initial sync with it', /sync: initial sync done in /, { stream: 'err', from, timeoutMs: 120_000 });
    put(project, 'message.txt', 'v3\n');
    await serving('v3');
  });

  it('--quiet: no line per batch; SYNC shows `initial NN%` during a big initial sync', async () => {
    expect(await up!.stop('SIGINT')).toBe(130);
    await waitFor('the agent fields removed', async () => ((await getSession()).status?.sync === undefined ? true : undefined), { timeoutMs: 30_000 });
    // a bigger tree for the next initial sync: 1,500 files, 45 MB
    for (let d = 0; d < 15; d++) for (let i = 0; i < 100; i++) put(project, `bulk/d${d}/f${i}.bin`, Buffer.alloc(30_000, (d * 100 + i) % 251));
    up = startUp(['--quiet']);
    const seen = new Set<string>();
    await waitFor(
      'the initial sync done and SYNC 1/1 synced',
      async () => {
        const c = await syncColumn(ns.name, SESSION);
        seen.add(c);
        return c === '1/1 synced' && up!.stderr.includes('initial sync done') ? true : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 200 },
    );
    expect({ seen: [...seen].filter((x) => /^initial \d+%$/.test(x)).length > 0, all: [...seen] }).toMatchObject({ seen: true });
    // --quiet prints no progress either; the summary line stays
    expect(up.stderr).not.toMatch(/initial sync \d+%/);
    const from = up.mark;
    put(project, 'message.txt', 'v4 quietly\n');
    await serving('v4 quietly');
    expect(up.lines.slice(from).filter((l) => l.stream === 'err' && /↑|↓/.test(l.text))).toEqual([]);
  });

  it('`agent gone` once the heartbeat of a killed agent expires', async () => {
    expect(await syncColumn(ns.name, SESSION)).toBe('1/1 synced');
    await up!.stop('SIGKILL'); // no detach: the fields stay as they were
    const s = await getSession();
    expect(s.status?.sync).toBe('1/1 synced');
    // The operator's agent-presence decision with a clock 2 minutes ahead: the heartbeat (≤ 30 s old) has expired.
    const presence = new AgentPresenceReconciler({
      session: () => s,
      writer: new ClientNodeAgentGoneWriter(kc),
      clock: { now: () => Date.now() + 120_000, setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    });
    await presence.reconcile({ namespace: ns.name, name: SESSION });
    expect(await syncColumn(ns.name, SESSION)).toBe('agent gone');
  });

  it('`error: …` in SYNC when a sync path cannot work', async () => {
    // a second sync path whose local folder is a file
    fs.writeFileSync(path.join(project, 'not-a-folder'), 'a file');
    fs.writeFileSync(path.join(project, 'devspace.yaml'), CONFIG(port).replace('    - path: ./\n', '    - path: ./not-a-folder/sub:/elsewhere\n    - path: ./\n'));
    up = startUp();
    await waitFor('SYNC error', async () => (/^error: /.test(await syncColumn(ns.name, SESSION)) ? true : undefined), { timeoutMs: 240_000, intervalMs: 500 });
    const st = (await getSession()).status;
    expect(st?.syncPaths?.some((p) => p.state === 'error' && /not-a-folder/.test(p.lastError ?? ''))).toBe(true);
  });
});
