// The sync service in the real runner, on the in-memory kube, with the real engine against real
// `dsa-sidecar serve` child processes (one per "pod", each with its own container folder and control
// folder) and real local folders: start, waitInitialSync, live batches, status, output, following the
// pod, a pod without the sidecar, and the commands after sync.
import { afterEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { DevSession, SyncPath } from '@dsa/api';
import { FakeKube, session } from '../session/fake-kube.test-util.js';
import { testEnv, unusedClients, type TestEnv } from '../devloop/dev-loop.test-util.js';
import { runDevServices } from '../devloop/runner.js';
import type { DevServiceDefinition } from '../devloop/service.js';
import { heartbeatService } from '../devloop/services/heartbeat.js';
import type { AgentStatus } from '../session/kube.js';
import { sidecarProcesses, type SidecarProcesses } from './sidecar-process.test-util.js';
import type { CommandRunner } from './sync-commands.js';
import { commandRunner } from './sync-commands.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, noSidecarMessage, syncService, syncSpecs, type SyncServiceOptions } from './sync-service.js';

/** Each test starts `dsa-sidecar serve` children under tsx: seconds, not milliseconds. */
const SLOW = 60_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  lines = [];
}, SLOW);

/** The lines of the runs of the current test, for a timeout's message. */
let lines: string[][] = [];

async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; dsa up said:\n${lines.map((l) => l.join('\n')).join('\n---\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const read = (p: string) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};
const put = (root: string, rel: string, content = rel) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
};

/** A pod as the apiserver returns it; `sidecar: false` is a pod from an operator without --sidecar-image. */
const kpod = (name: string, sidecar = true): V1Pod => ({
  metadata: { name, namespace: 'dev' },
  spec: { ...(sidecar ? { initContainers: [{ name: 'dsa-sync', image: 'dsa/sidecar' }] } : {}), containers: [{ name: 'api', image: 'reg/api:1' }] },
  status: { phase: 'Running' },
});

interface World {
  root: string;
  project: string;
  local: string;
  /** Per pod name: its container folder, control folder and sidecar processes. */
  pods: Map<string, { remote: string; ctl: string; procs: SidecarProcesses }>;
  /** Pods that refuse connections (unreachable). */
  down: Set<string>;
  /** Every connection attempt: pod and time. */
  connects: Array<{ pod: string; at: number }>;
  connect: NonNullable<SyncServiceOptions['connect']>;
}

function world(podNames: string[]): World {
  const root = fs.mkdtempSync(path.join(tmpdir(), 'dsa-sync-svc-'));
  const project = path.join(root, 'project');
  const local = path.join(project, 'src');
  fs.mkdirSync(local, { recursive: true });
  const pods = new Map<string, { remote: string; ctl: string; procs: SidecarProcesses }>();
  for (const name of podNames) {
    const remote = path.join(root, `${name}-app`);
    const ctl = path.join(root, `${name}-ctl`);
    fs.mkdirSync(remote);
    fs.mkdirSync(ctl);
    pods.set(name, { remote, ctl, procs: sidecarProcesses([remote], ctl) });
  }
  const w: World = {
    root,
    project,
    local,
    pods,
    down: new Set(),
    connects: [],
    connect: async (t, signal) => {
      w.connects.push({ pod: t.pod, at: Date.now() });
      if (w.down.has(t.pod)) throw new Error(`pod ${t.pod} is not reachable`);
      const p = pods.get(t.pod);
      if (!p) throw new Error(`no pod ${t.pod}`);
      return p.procs.connect(signal);
    },
  };
  cleanups.push(() => {
    for (const p of pods.values()) for (const c of p.procs.all) c.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });
  return w;
}

const withPod = (s: DevSession, pod: string): DevSession => ({ ...s, status: { ...s.status, phase: 'Ready', pods: [{ devPod: 'api', pod, container: 'api', namespace: 'dev' }] } });

function devSession(sync: Partial<SyncPath> = {}, pod = 'api-1'): DevSession {
  return withPod(session('web', { dev: { pods: [{ name: 'api', selector: { imageName: 'api' }, sync: [{ localPath: './src', containerPath: '/app0', ...sync }] }] } }), pod);
}

/** Stands for logs: it starts only once sync is ready (sync runs before: ['logs']). */
function logsProbe() {
  const probe = { startedAt: 0 };
  const def: DevServiceDefinition = { name: 'logs', create: () => ({ start: async () => void (probe.startedAt = Date.now()), stop: async () => undefined }) };
  return { probe, def };
}

interface Run {
  kube: FakeKube;
  env: TestEnv;
  done: Promise<number | undefined>;
  stored: DevSession;
  probe: { startedAt: number };
  status(): AgentStatus | undefined;
  stop(): Promise<void>;
}

function run(w: World, initial: DevSession, opts: SyncServiceOptions = {}, kubePods: V1Pod[] = [kpod('api-1'), kpod('api-2')], envOver: Parameters<typeof testEnv>[0] = {}): Run {
  const kube = new FakeKube();
  kube.pods = kubePods;
  const stored = kube.push(initial);
  const env = testEnv(envOver);
  lines.push(env.lines);
  const { probe, def } = logsProbe();
  const done = runDevServices([heartbeatService({ minGapMs: 0 }), syncService({ connect: w.connect, ...opts }), def], {
    env,
    kube,
    clients: unusedClients(),
    initial: stored,
    projectDir: w.project,
    follow: { pollMs: 50 },
  });
  done.catch(() => undefined);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    env.abort();
    await done;
  };
  cleanups.push(stop);
  return { kube, env, done, stored, probe, status: () => kube.agentStatus.at(-1), stop };
}

describe('syncSpecs', () => {
  it('dev pods with sync paths or reverse ports, local paths made absolute', () => {
    const s = session('web', {
      dev: {
        pods: [
          { name: 'api', selector: { imageName: 'api' }, sync: [{ localPath: './src', containerPath: '/app' }] },
          { name: 'db', selector: { imageName: 'db' } },
          { name: 'dbg', selector: { imageName: 'api' }, reversePorts: [{ localPort: 9000, remotePort: 9229 }] },
        ],
      },
    });
    expect(syncSpecs(s, '/p')).toEqual([
      { devPod: 'api', paths: [{ localPath: '/p/src', containerPath: '/app', devPod: 'api', sync: 0 }], shown: ['./src'], reversePorts: [] },
      { devPod: 'dbg', paths: [], shown: [], reversePorts: [{ localPort: 9000, remotePort: 9229 }] },
    ]);
    expect(syncService().create({} as never, session('none', { dev: { pods: [{ name: 'db', selector: { imageName: 'db' } }] } }))).toBeUndefined();
  });
});

describe('sync service', () => {
  it('syncs before logs start, then both ways live; reports status and one line per batch; nothing on stdout', async () => {
    const w = world(['api-1']);
    const remote = w.pods.get('api-1')!.remote;
    put(w.local, 'app.js', 'v1');
    put(w.local, 'lib/x.js');
    put(remote, 'old.txt', 'only in the container: mirrorLocal deletes it');
    const r = run(w, devSession());
    await waitFor('logs to start', () => r.probe.startedAt > 0);
    // waitInitialSync: by the time logs start, the initial sync is done.
    expect(read(path.join(remote, 'app.js'))).toBe('v1');
    expect(read(path.join(remote, 'lib/x.js'))).toBe('lib/x.js');
    expect(fs.existsSync(path.join(remote, 'old.txt'))).toBe(false);
    expect(r.env.lines).toContainEqual(expect.stringMatching(/^info: sync: connected to pod api-1 \(dsa-sidecar [^)]+\): \.\/src ↔ \/app0$/));
    expect(r.env.lines).toContainEqual(expect.stringMatching(/^info: sync: initial sync \d+%: \d\/4 files, \d+ B\/\d+ B, \d+ (B|KiB)\/s$/));
    expect(r.env.lines).toContainEqual(expect.stringMatching(/^info: sync: initial sync done in \d+(\.\d)? m?s: ↑ 3 files, 1 deleted, \d+ B$/));
    expect(r.env.stderr.toString()).toBe(''); // not a terminal: no updating line

    put(w.local, 'app.js', 'v2');
    await waitFor('the upload', () => read(path.join(remote, 'app.js')) === 'v2');
    await waitFor('its line', () => r.env.lines.some((l) => /^info: ↑ 1 file 2 B \d+ ms$/.test(l)));
    put(remote, 'gen.txt', 'made in the container');
    await waitFor('the download', () => read(path.join(w.local, 'gen.txt')) === 'made in the container');
    await waitFor('its line', () => r.env.lines.some((l) => /^info: ↓ 1 file 21 B \d+ ms$/.test(l)));

    await waitFor('the status', () => r.status()?.syncPaths?.[0]?.downloadedFiles === 1 && r.status()?.syncPaths?.[0]?.uploadedFiles === 4);
    expect(r.status()).toMatchObject({
      sync: '1/1 synced',
      syncPaths: [{ devPod: 'api', pod: 'api-1', localPath: './src', containerPath: '/app0', state: 'watching', uploadedFiles: 4, downloadedFiles: 1, downloadedBytes: 21, conflicts: 0 }],
    });
    expect(r.status()?.syncPaths?.[0]?.lastSyncTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(r.env.out.toString()).toBe('');

    await r.stop();
    expect(r.status()).toBeUndefined(); // detached: the SYNC column goes blank
    // The sidecar ends when the agent closes the connection.
    await waitFor('the sidecar to exit', () => w.pods.get('api-1')!.procs.all.every((c) => c.exitCode !== null || c.signalCode !== null));
  }, SLOW);

  it('on a terminal, initial progress is one updating line, cleared before the next line', async () => {
    const w = world(['api-1']);
    for (let i = 0; i < 50; i++) put(w.local, `f${i}.txt`, 'x'.repeat(1000));
    const r = run(w, devSession(), {}, undefined, { isTTY: { stdin: false, stdout: false, stderr: true } });
    await waitFor('the sync', () => r.probe.startedAt > 0);
    // `\r` + erase-line before each update and once at the end: shown here as `|`.
    const tty = r.env.stderr.toString().split('\r\x1b[K').join('|');
    expect(tty).toMatch(/^(\|sync: initial sync \d+%: \d+\/50 files, [^|\n]+)+\|$/);
    expect(tty).toContain('|sync: initial sync 100%: 50/50 files, 49 KiB/49 KiB');
    expect(r.env.lines.filter((l) => l.includes('initial sync') && !l.includes('done'))).toEqual([]);
  }, SLOW);

  it('--quiet: no batch lines, but conflicts still warn, naming both files', async () => {
    const w = world(['api-1']);
    const remote = w.pods.get('api-1')!.remote;
    put(w.local, 'a.txt', 'base');
    const first = run(w, devSession(), { quiet: true });
    await waitFor('the first sync', () => first.probe.startedAt > 0);
    await first.stop();
    // Both sides change the file while no agent runs.
    put(w.local, 'a.txt', 'laptop edit');
    put(remote, 'a.txt', 'container edit');
    const r = run(w, devSession(), { quiet: true });
    await waitFor('the sync', () => r.probe.startedAt > 0);
    const warning = r.env.lines.find((l) => l.startsWith('warn: sync conflict'));
    const copy = fs.readdirSync(w.local).find((n) => n.startsWith('a.dsa-conflict-remote-'));
    expect(copy).toBeDefined();
    expect(warning).toBe(`warn: sync conflict: src/a.txt changed here and in the container; yours is kept, the container's version is in src/${copy}`);
    expect(read(path.join(remote, 'a.txt'))).toBe('laptop edit');
    expect(read(path.join(w.local, copy!))).toBe('container edit');
    put(w.local, 'b.txt', 'new');
    await waitFor('the upload', () => read(path.join(remote, 'b.txt')) === 'new');
    await waitFor('the debug line', () => r.env.lines.some((l) => /^debug: ↑ 1 file/.test(l)));
    expect(r.env.lines.filter((l) => /^info: [↑↓]/.test(l))).toEqual([]);
    await waitFor('the conflict in the status', () => r.status()?.syncPaths?.[0]?.conflicts === 1);
  }, SLOW);

  it('follows the dev pod to a new pod, and resumes a dropped connection within 2 s of the pod being reachable', async () => {
    const w = world(['api-1', 'api-2']);
    put(w.local, 'app.js', 'v1');
    const r = run(w, devSession());
    await waitFor('the first pod', () => r.probe.startedAt > 0);
    expect(w.connects.map((c) => c.pod)).toEqual(['api-1']);

    // A rollout: the session names another pod.
    r.kube.push(withPod(r.stored, 'api-2'));
    await waitFor('the new pod', () => r.env.lines.includes('info: sync: following dev pod api to pod api-2'));
    const remote2 = w.pods.get('api-2')!.remote;
    await waitFor('the initial sync to it', () => read(path.join(remote2, 'app.js')) === 'v1');
    put(w.local, 'app.js', 'v2');
    await waitFor('live sync to the new pod', () => read(path.join(remote2, 'app.js')) === 'v2');
    expect(read(path.join(w.pods.get('api-1')!.remote, 'app.js'))).toBe('v1');
    await waitFor('the status', () => r.status()?.syncPaths?.[0]?.pod === 'api-2' && r.status()?.sync === '1/1 synced');

    // The connection drops and the pod is unreachable for a while (a node hiccup).
    w.down.add('api-2');
    w.pods.get('api-2')!.procs.current()!.kill('SIGKILL');
    await waitFor('the warning', () => r.env.lines.some((l) => /^warn: sync: lost the connection to pod api-2 \(.*\); reconnecting$/.test(l)));
    await waitFor('the status', () => r.status()?.sync === 'connecting');
    await new Promise((res) => setTimeout(res, 1500));
    const attempts = w.connects.length;
    w.down.delete('api-2');
    const back = Date.now();
    await waitFor('the reconnect', () => r.env.lines.includes('info: sync: reconnected to pod api-2'));
    const tried = w.connects.slice(attempts).find((c) => c.pod === 'api-2')!.at;
    // The engine tries at least once a second (plus timer lag on a busy machine); the rest is the
    // sidecar process starting and the handshake.
    expect(tried - back).toBeLessThan(1500);
    put(w.local, 'app.js', 'v3');
    await waitFor('sync after the reconnect', () => read(path.join(remote2, 'app.js')) === 'v3');
    expect(r.env.lines.filter((l) => l.includes('lost the connection'))).toHaveLength(1);
  }, SLOW);

  it('no pod yet: waits for the session to name one (SYNC connecting), without trying to connect meanwhile', async () => {
    const w = world(['api-1']);
    put(w.local, 'app.js', 'v1');
    const noPod = devSession();
    const r = run(w, { ...noPod, status: { ...noPod.status, pods: [] } });
    await waitFor('the status', () => r.status()?.sync === 'connecting');
    await new Promise((res) => setTimeout(res, 1000));
    expect(w.connects).toEqual([]);
    expect(r.env.lines.filter((l) => /^(warn|error): /.test(l))).toEqual([]);
    expect(r.status()?.sync).toBe('connecting');
    const named = Date.now();
    r.kube.push(withPod(r.stored, 'api-1'));
    await waitFor('the sync', () => read(path.join(w.pods.get('api-1')!.remote, 'app.js')) === 'v1');
    expect(w.connects.map((c) => c.pod)).toEqual(['api-1']);
    expect(w.connects[0]!.at - named).toBeLessThan(500);
  }, SLOW);

  it('says once that a pod has no sidecar, lets logs start, and syncs once the dev pod has a pod with one', async () => {
    const w = world(['api-2']);
    put(w.local, 'app.js', 'v1');
    const r = run(w, devSession(), {}, [kpod('api-1', false), kpod('api-2')]);
    await waitFor('logs to start anyway', () => r.probe.startedAt > 0);
    expect(r.env.lines.filter((l) => l.startsWith('warn: '))).toEqual([`warn: ${noSidecarMessage('api-1', 'api')}`]);
    expect(noSidecarMessage('api-1', 'api')).toMatch(/--sidecar-image/);
    expect(w.connects).toEqual([]);
    await waitFor('the status', () => r.status()?.sync === 'error: no dsa-sync sidecar in pod api-1');
    expect(r.status()?.syncPaths?.[0]).toMatchObject({ state: 'error', lastError: 'no dsa-sync sidecar in pod api-1', pod: 'api-1' });
    // Another session update for the same pod: not said again.
    r.kube.push({ ...withPod(r.stored, 'api-1'), metadata: { ...r.stored.metadata, labels: { x: 'y' } } });
    await new Promise((res) => setTimeout(res, 200));
    expect(r.env.lines.filter((l) => l.includes('has no dsa-sync sidecar'))).toHaveLength(1);

    // The operator got --sidecar-image: the rollout brings a pod that has it.
    r.kube.push(withPod(r.stored, 'api-2'));
    await waitFor('the sync', () => read(path.join(w.pods.get('api-2')!.remote, 'app.js')) === 'v1');
    await waitFor('the status', () => r.status()?.sync === '1/1 synced');
    expect(w.connects.map((c) => c.pod)).toEqual(['api-2']);
  }, SLOW);
});

describe('commands after sync', () => {
  /** Records container commands; `npm` takes a while, `fail` and `check` fail; local ones really run. */
  function recorder() {
    const runs: Array<{ pod: string; container: string; argv: string[]; start: number; end: number }> = [];
    const real = commandRunner(async () => Promise.reject(new Error('no cluster')));
    const runner: CommandRunner = {
      local: (line, cwd, signal) => real.local(line, cwd, signal),
      async container(t, argv) {
        const start = Date.now();
        if (argv[0] === 'npm') await new Promise((r) => setTimeout(r, 400));
        const code = argv[0] === 'fail' ? 3 : argv[0] === 'check' ? 1 : 0;
        runs.push({ pod: t.pod, container: t.container, argv, start, end: Date.now() });
        return { code, output: code ? `${argv[0]}: it went wrong\n` : '' };
      },
    };
    return { runs, runner };
  }

  it('run in the container and locally, in order, before the restart and the start signal; once per pod; on: file with {}; onDownload; printLogs', async () => {
    const w = world(['api-1', 'api-2']);
    const logs = path.join(w.root, 'logs');
    fs.mkdirSync(logs);
    put(w.local, 'index.js', 'v1');
    const rec = recorder();
    const sync: Partial<SyncPath> = {
      printLogs: true,
      onUpload: {
        restartContainer: true,
        exec: [
          { command: 'npm', args: ['install'], once: true },
          { command: 'touch', args: ['{}'], trigger: 'file', onChange: ['**/*.js'] },
          { command: `echo "$PWD" >> ${logs}/local.log`, shell: true, where: 'local' },
          { command: 'fail' },
        ],
      },
      onDownload: { exec: [{ command: `echo {} >> ${logs}/down.log`, shell: true, where: 'local', trigger: 'file' }] },
    };
    const r = run(w, devSession(sync), { commands: rec.runner });
    await waitFor('the initial sync', () => r.probe.startedAt > 0);
    const ctl = w.pods.get('api-1')!.ctl;
    // After the initial sync: the batch commands once (not the per-file one), then the start signal.
    expect(rec.runs.map((x) => [x.pod, x.container, x.argv.join(' ')])).toEqual([
      ['api-1', 'api', 'npm install'],
      ['api-1', 'api', 'fail'],
    ]);
    expect(read(path.join(logs, 'local.log'))).toBe(`${w.local}\n`);
    await waitFor('the start signal', () => fs.existsSync(path.join(ctl, 'start')));
    expect(fs.statSync(path.join(ctl, 'start')).mtimeMs).toBeGreaterThanOrEqual(rec.runs[0]!.end - 5);
    expect(r.env.lines).toContain('warn: sync ./src: onUpload command fail failed in pod api-1: exit code 3: fail: it went wrong');

    // A live batch: the per-file command with the container path, not npm again (once), then the restart.
    // The initial sync changed the container: it restarted the app once already (debounced).
    await waitFor('the first restart', () => read(path.join(ctl, 'restart')) !== undefined);
    const restartsBefore = read(path.join(ctl, 'restart'));
    put(w.local, 'lib/a.js', 'a');
    await waitFor('the commands', () => rec.runs.filter((x) => x.argv[0] === 'fail').length === 2);
    expect(rec.runs.slice(2).map((x) => x.argv.join(' '))).toEqual(['touch /app0/lib/a.js', 'fail']);
    await waitFor('the restart', () => read(path.join(ctl, 'restart')) !== restartsBefore);
    expect(fs.statSync(path.join(ctl, 'restart')).mtimeMs).toBeGreaterThanOrEqual(rec.runs.at(-1)!.end - 5);
    expect(read(path.join(logs, 'local.log'))).toBe(`${w.local}\n${w.local}\n`);
    await waitFor('printLogs', () => r.env.lines.includes('info: ↑ src/lib/a.js'));
    expect(r.env.lines).toContain('info: ↑ src/lib/');
    fs.rmSync(path.join(w.local, 'lib/a.js'));
    await waitFor('printLogs of a deletion', () => r.env.lines.includes('info: ↑ deleted src/lib/a.js'));

    // A download: the local per-file command gets the local path.
    put(w.pods.get('api-1')!.remote, 'out/gen.txt', 'generated');
    await waitFor('the download command', () => read(path.join(logs, 'down.log')) === `${path.join(w.local, 'out/gen.txt')}\n`);
    expect(r.env.lines).toContain('info: ↓ src/out/gen.txt');

    // Another pod is another container life: `once` runs again there.
    r.kube.push(withPod(r.stored, 'api-2'));
    await waitFor('npm in the new pod', () => rec.runs.some((x) => x.pod === 'api-2' && x.argv[0] === 'npm'));
  }, SLOW);

  it('file: true: `{}` names the synced file in the container (the sync root is its folder)', async () => {
    const w = world(['api-1']);
    put(w.local, 'app.json', '{"v":1}');
    put(w.local, 'other.json', 'not synced');
    const rec = recorder();
    const sync: Partial<SyncPath> = { localPath: './src/app.json', containerPath: '/app0/app.json', file: true, onUpload: { exec: [{ command: 'touch', args: ['{}'], trigger: 'file' }] } };
    const r = run(w, devSession(sync), { commands: rec.runner });
    await waitFor('the initial sync', () => r.probe.startedAt > 0);
    const remote = w.pods.get('api-1')!.remote;
    expect(fs.readdirSync(remote)).toEqual(['app.json']);
    put(w.local, 'app.json', '{"v":2}');
    await waitFor('the command', () => rec.runs.length === 1);
    expect(rec.runs[0]!.argv).toEqual(['touch', '/app0/app.json']);
  }, SLOW);

  it('a command that runs too long is stopped (commandTimeoutMs, 10 minutes by default): a warning, and the sync goes on', async () => {
    expect(DEFAULT_COMMAND_TIMEOUT_MS).toBe(10 * 60_000);
    const w = world(['api-1']);
    put(w.local, 'index.js', 'v1');
    const r = run(w, devSession({ onUpload: { exec: [{ command: 'sleep 30', shell: true, where: 'local' }] } }), { commandTimeoutMs: 300 });
    const t0 = Date.now();
    await waitFor('the initial sync', () => r.probe.startedAt > 0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.env.lines).toContain('warn: sync ./src: onUpload command sleep 30 failed locally: timed out');
    await waitFor('synced', () => r.status()?.sync === '1/1 synced');
  }, SLOW);

  it('failOnError: a failing command restarts the sync of that path', async () => {
    const w = world(['api-1']);
    put(w.local, 'index.js', 'v1');
    const rec = recorder();
    const r = run(w, devSession({ onUpload: { exec: [{ command: 'check', failOnError: true, onChange: ['boom.txt'] }] } }), { commands: rec.runner, engine: { pathRetryDelaysMs: [200] } });
    await waitFor('the initial sync', () => r.probe.startedAt > 0);
    expect(rec.runs).toEqual([]); // onChange did not match
    put(w.local, 'boom.txt', 'x');
    await waitFor('the error', () => r.env.lines.includes('error: sync ./src: onUpload command check failed in pod api-1: exit code 1: check: it went wrong'));
    await waitFor('the error in the status', () => /^error: onUpload command check failed/.test(r.status()?.sync ?? ''));
    await waitFor('its initial sync', () => r.env.lines.filter((l) => l.startsWith('info: sync: initial sync done')).length === 2);
    await waitFor('the line saying so', () => r.env.lines.includes('info: sync ./src: syncing again'));
    // Only that path started over, on the same connection.
    expect(w.connects).toHaveLength(1);
    // The file was applied before the command failed: the new initial sync has nothing to do, so no loop.
    await new Promise((res) => setTimeout(res, 300));
    expect(rec.runs).toHaveLength(1);
    expect(read(path.join(w.pods.get('api-1')!.remote, 'boom.txt'))).toBe('x');
    await waitFor('synced again', () => r.status()?.sync === '1/1 synced');
  }, SLOW);
});
