// Full-node tier: the real `dsa` CLI (node agent/bin/dsa.js) against the real cluster, with the operator
// (both controllers, wired by buildOperator as operator/src/main.ts does) running IN this process and
// watching only the test namespace. Walks the dev workflow on examples/node-kubectl:
//
//   deploy (cold, then warm) → enter (output + exit code) → logs → up (port-forward carries HTTP) → down
//
// The example's devspace.yaml is used through a derived copy in a temp folder that points at the
// example's own files (same build context, same digest) and adds what this cluster needs and a var
// cannot express: `kaniko.insecure` (the harness registry speaks plain HTTP), a free local port for
// the forward (3000 may be taken on a shared machine), and no dev terminal (see deriveConfig). The base
// image comes in through --var.
//
// Env contract: eval "$(test-e2e/cluster/ensure.sh node)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { DEVSESSION, GROUP, IMAGEBUILD, LABELS, VERSION, type DevSession, type ImageBuild } from '@dsa/api';
import { buildOperator, createLogger, loadConfig } from '@dsa/operator';
import { REPO_ROOT, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, e2eOperatorArgs, waitFor, type RunResult, type TestNamespace } from '../../lib/index.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'nodeImage');
const EXAMPLE = path.join(REPO_ROOT, 'examples/node-kubectl');
const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');
const SESSION = 'node-kubectl';

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let custom: k8s.CustomObjectsApi;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let stopOperator: () => Promise<void>;
let workDir: string;
let configFile: string;
let localPort: number;
const timings: Record<string, number> = {};

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The example's config, made absolute (same files, same digest), plus insecure registry and our port. */
async function deriveConfig(dir: string, port: number): Promise<string> {
  const doc = YAML.parse(await readFile(path.join(EXAMPLE, 'devspace.yaml'), 'utf8')) as Record<string, any>;
  doc.images.app.context = EXAMPLE;
  doc.images.app.dockerfile = path.join(EXAMPLE, 'Dockerfile');
  doc.images.app.kaniko = { ...(doc.images.app.kaniko ?? {}), insecure: true };
  doc.deployments['node-kubectl-service'].kubectl.manifests = [path.join(EXAMPLE, 'k8s/service.yaml')];
  doc.dev.app.ports = [{ port: `${port}:3000` }];
  // A dev terminal means DevSpace's terminal mode: the container's command becomes `sleep` and the
  // developer starts the app by hand. This suite needs the app itself serving, so no terminal here.
  delete doc.dev.app.terminal;
  // The example syncs ./ (the folder of this derived config: only devspace.yaml) over /app; mirrorLocal
  // would empty the app's folder. File sync has its own suites (sync-*.test.ts); this one is about
  // deploy/enter/logs/up/down.
  delete doc.dev.app.sync;
  const file = path.join(dir, 'devspace.yaml');
  await writeFile(file, YAML.stringify(doc));
  return file;
}

/** The CLI as a user runs it: cwd = a folder with no devspace.yaml, KUBECONFIG from the harness. */
// Global flags first: after `--` (enter's command) they would belong to the remote command.
const dsaArgs = (args: string[]) => [DSA, '--config', configFile, '-n', ns.name, '--var', `DSA_REGISTRY=${env.registry}`, '--var', `BASE_IMAGE=${env.nodeImage}`, '--no-color', ...args];
function dsa(args: string[], timeoutMs = 540_000): Promise<RunResult> {
  return run(process.execPath, dsaArgs(args), { cwd: workDir, env: { KUBECONFIG: env.kubeconfig }, timeoutMs, allowFailure: true });
}

/** Exit code check that shows the CLI's output when it fails. */
function expectExit(r: RunResult, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
}

async function getSession(): Promise<DevSession | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns.name, name: SESSION })) as DevSession;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

async function appPods(): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=node-kubectl' })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
}

beforeAll(async () => {
  kc = kubeFromEnv();
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-agent');
  workDir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-agent-'));
  localPort = await freePort();
  configFile = await deriveConfig(workDir, localPort);

  const cfg = loadConfig({
    // The namespace carries this file's scope (test-e2e/lib/scope.ts): the sessions the CLI creates there are
    // this operator's, never an installed one's.
    argv: e2eOperatorArgs(ns.name, env),
    env: {},
  });
  const log = createLogger({ level: 'warn' });
  const { manager } = buildOperator(cfg, { kc, log, env: { POD_NAME: `e2e-agent-${ns.name}` } });
  const exited = manager.start();
  stopOperator = async () => {
    await manager.stop();
    await exited;
  };
});

afterAll(async () => {
  console.log(`agent e2e timings (s): ${JSON.stringify(timings)}`);
  await stopOperator?.();
  await ns?.cleanup();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('dsa CLI against a real cluster with the operator running', () => {
  test('deploy builds in-cluster, deploys, and reports the Ready session', async () => {
    const t0 = Date.now();
    const r = await dsa(['deploy', '--timeout', '8m']);
    timings.deployFirst = (Date.now() - t0) / 1000;
    expectExit(r, 0);
    // Table: the session row with its phase and deployments.
    expect(r.stdout).toMatch(new RegExp(`^SESSION\\s+NAMESPACE\\s+PHASE\\s+IMAGES\\s+DEPLOYMENTS`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${SESSION}\\s+${ns.name}\\s+Ready\\s+app=dsa-[0-9a-f]{12}\\s+2/2`, 'm'));
    expect(r.stderr).toContain('ready: 2/2 deployments');

    const s = await getSession();
    const ready = s?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'True', observedGeneration: s?.metadata.generation });
    // The app runs the image the operator built for this session.
    const ib = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: ns.name, name: `${SESSION}-app` })) as ImageBuild;
    expect(ib.status?.phase).toBe('Succeeded');
    timings.firstBuildWasCold = /^built /.test(ib.status?.message ?? '') ? 1 : 0;
    const deploy = await apps.readNamespacedDeployment({ namespace: ns.name, name: 'node-kubectl' });
    expect(deploy.spec?.template.spec?.containers[0]?.image).toBe(ib.status?.image);
    expect(deploy.metadata?.labels?.[LABELS.session]).toBe(SESSION);
    const pods = await appPods();
    expect(pods.length).toBeGreaterThan(0);
    expect(pods[0]?.spec?.containers[0]?.image).toBe(ib.status?.image);
    expect(s?.status?.pods?.[0]).toMatchObject({ devPod: 'app', container: 'app', pod: pods[0]?.metadata?.name });
  });

  test('a second deploy with nothing changed is quick and uploads nothing', async () => {
    const t0 = Date.now();
    const r = await dsa(['deploy', '-o', 'json']);
    timings.deployWarm = (Date.now() - t0) / 1000;
    expectExit(r, 0);
    expect(r.stderr).not.toContain('uploading');
    expect(r.stderr).toMatch(/image app: .*:dsa-[0-9a-f]{12} is up to date/);
    const list = JSON.parse(r.stdout) as { kind: string; items: DevSession[] };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => [i.metadata.name, i.status?.phase])).toEqual([[SESSION, 'Ready']]);
  });

  test('enter runs a command in the dev container and returns its exit code', async () => {
    const pods = await appPods();
    const r = await dsa(['enter', '--', 'cat', '/etc/hostname'], 60_000);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(pods[0]?.metadata?.name);
    const failing = await dsa(['enter', '--', 'sh', '-c', 'echo out; echo err >&2; exit 7'], 60_000);
    expectExit(failing, 7);
    expect(failing.stdout).toBe('out\n');
    expect(failing.stderr).toContain('err\n');
    // The dev pod's terminal workDir applies to the default command; an explicit --workdir too.
    const pwd = await dsa(['enter', '--workdir', '/tmp', '--', 'pwd'], 60_000);
    expectExit(pwd, 0);
    expect(pwd.stdout).toBe('/tmp\n');
  });

  test('logs prints the app log', async () => {
    const r = await dsa(['logs', '--lines', '20'], 60_000);
    expectExit(r, 0);
    expect(r.stdout).toContain('listening on :3000');
  });

  test('up forwards the dev port to the app, and Ctrl-C leaves the session running', async () => {
    const child = spawn(process.execPath, dsaArgs(['up', '--exit-after-deploy=false']), { cwd: workDir, env: { ...process.env, KUBECONFIG: env.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const early = exited.then((code) => Promise.reject(new Error(`dsa up exited ${code} early:\n${stderr}`)));
      early.catch(() => undefined); // it rejects later anyway, when we stop dsa up
      await Promise.race([waitFor('dsa up to forward the port', () => stderr.includes(`forwarding 127.0.0.1:${localPort} → app:3000`), { timeoutMs: 180_000, intervalMs: 250 }), early]);
      const res = await fetch(`http://127.0.0.1:${localPort}/via-forward`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { greeting: string; path: string; hostname: string };
      expect(body).toMatchObject({ greeting: 'Hello from dsa', path: '/via-forward' });
      expect((await appPods()).map((p) => p.metadata?.name)).toContain(body.hostname);
      // Several connections in a row each get their own tunnel.
      for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${localPort}/n${i}`)).status).toBe(200);
      // Logs of the dev pod stream to stdout with the [pod/container] prefix.
      await waitFor('log lines from dsa up', async () => /\[node-kubectl-[^/]+\/app\] listening on :3000/.test(stdout), { timeoutMs: 30_000, intervalMs: 250 });
      // The team's view shows the attached agent (SYNC column) with a fresh heartbeat.
      const attached = (await getSession())?.status;
      expect(attached?.sync).toMatch(/^agent up, /);
      expect(Date.now() - Date.parse(attached?.agentHeartbeatTime ?? '')).toBeLessThan(60_000);
    } finally {
      child.kill('SIGINT');
    }
    expectExit({ code: (await exited) ?? -1, stdout, stderr }, 130);
    const detached = (await getSession())?.status;
    expect(detached?.phase).toBe('Ready');
    // Detached: the agent's status fields are gone; the operator's are untouched.
    expect(detached?.sync).toBeUndefined();
    expect(detached?.agentHeartbeatTime).toBeUndefined();
    // The forward is gone with the process.
    await expect(fetch(`http://127.0.0.1:${localPort}/`)).rejects.toThrow();
  });

  test('down deletes the session and everything it deployed', async () => {
    const r = await dsa(['down'], 180_000);
    expectExit(r, 0);
    expect(r.stdout).toBe(`deleted DevSession ${ns.name}/${SESSION} (2 objects deleted: Deployment node-kubectl, Service node-kubectl)\n`);
    expect(await getSession()).toBeUndefined();
    await expect(apps.readNamespacedDeployment({ namespace: ns.name, name: 'node-kubectl' })).rejects.toMatchObject({ code: 404 });
    await expect(core.readNamespacedService({ namespace: ns.name, name: 'node-kubectl' })).rejects.toMatchObject({ code: 404 });
    await waitFor('app pods gone', async () => (await appPods()).length === 0, { timeoutMs: 60_000, intervalMs: 500 });
    // A second down has nothing to do.
    const again = await dsa(['down'], 60_000);
    expectExit(again, 0);
    expect(again.stdout).toBe('nothing to delete\n');
  });
});
