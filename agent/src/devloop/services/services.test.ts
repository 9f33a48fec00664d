// The dev-loop services, each run by the real runner on the in-memory kube.
import { afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { PassThrough, type Writable } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import type { DevSession } from '@dsa/api';
import { FakeKube, session } from '../../session/fake-kube.test-util.js';
import { testEnv, until, unusedClients, type TestEnv } from '../dev-loop.test-util.js';
import type { ExecLike } from '../exec.js';
import type { LogLike } from '../logs.js';
import type { PortForwardLike } from '../port-forward.js';
import { runDevServices } from '../runner.js';
import type { DevClients, DevServiceDefinition } from '../service.js';
import { heartbeatService } from './heartbeat.js';
import { logsService } from './logs.js';
import { portsService } from './ports.js';
import { terminalService } from './terminal.js';

const envs: TestEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.abort();
});

function run(defs: DevServiceDefinition[], initial: DevSession, opts: { kube?: FakeKube; clients?: Partial<DevClients>; env?: Partial<TestEnv> } = {}) {
  const kube = opts.kube ?? new FakeKube();
  const stored = kube.push(initial);
  const env = testEnv(opts.env);
  envs.push(env);
  const done = runDevServices(defs, { env, kube, clients: unusedClients(opts.clients), initial: stored, projectDir: '/p' });
  done.catch(() => undefined);
  return { kube, env, done, stored };
}

const withPods = (s: DevSession, pods: Record<string, string>): DevSession => ({
  ...s,
  status: { ...s.status, pods: Object.entries(pods).map(([devPod, pod]) => ({ devPod, pod, container: devPod, namespace: 'dev' })) },
});

describe('heartbeat', () => {
  const dev = session('web', { dev: { pods: [{ name: 'api', selector: { imageName: 'api' }, sync: [{ localPath: '/p/src', containerPath: '/app' }] }] } });
  const other = (ctx: { setStatus: (p: { sync: string }) => void }[]): DevServiceDefinition => ({
    name: 'sync',
    create: (c) => {
      ctx.push(c);
      return { start: async () => undefined, stop: async () => undefined };
    },
  });

  it('attaches at start, detaches at stop, and refreshes on an interval', async () => {
    const t = run([heartbeatService({ intervalMs: 20, minGapMs: 0 })], dev);
    await until('a few beats', () => t.kube.agentStatus.length >= 3, 20_000);
    expect(t.kube.agentStatus[0]).toEqual({ sync: 'agent up, sync off (1 path)', agentHeartbeatTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    t.env.abort();
    await t.done;
    expect(t.kube.agentStatus.at(-1)).toBeUndefined();
  });

  it('writes what the services report, throttled, the last change always; its own writes cause no more writes', async () => {
    const kube = new FakeKube();
    // The apiserver: each status write is a new version of the session, which the watch delivers.
    const write = kube.applyAgentStatus.bind(kube);
    kube.applyAgentStatus = async (ref, status) => {
      await write(ref, status);
      const s = kube.sessions.get(`${ref.namespace}/${ref.name}`);
      if (s && status) kube.push({ ...s, status: { ...s.status, ...status } });
    };
    const ctxs: { setStatus: (p: { sync: string }) => void }[] = [];
    const t = run([heartbeatService({ intervalMs: 60_000, minGapMs: 40 }), other(ctxs)], dev, { kube });
    await until('the first write', () => kube.agentStatus.length === 1 && ctxs.length === 1);
    for (let i = 1; i <= 5; i++) ctxs[0]!.setStatus({ sync: `initial sync ${i * 20}%` });
    await until('the last change', () => kube.agentStatus.at(-1)?.sync === 'initial sync 100%', 20_000);
    await new Promise((r) => setTimeout(r, 150));
    // 1 at start, then at most 2: the first change after the gap, and the last one.
    expect(kube.agentStatus.length).toBeLessThanOrEqual(3);
    expect(kube.agentStatus.at(-1)?.sync).toBe('initial sync 100%');
    t.env.abort();
    await t.done;
  });

  it('a user who may not write the status still gets a dev loop', async () => {
    const kube = new FakeKube();
    kube.applyAgentStatus = async () => Promise.reject(Object.assign(new Error('forbidden'), { code: 403 }));
    const t = run([heartbeatService()], dev, { kube });
    await until('the attempt', () => t.env.lines.some((l) => l === 'debug: agent status: forbidden'));
    t.env.abort();
    expect(await t.done).toBeUndefined();
  });
});

/** A Log client whose streams the test ends or watches. */
function fakeLog() {
  const streams: Array<{ pod: string; tail?: number; out: PassThrough; aborted: boolean }> = [];
  const log: LogLike = {
    async log(_ns, pod, _c, stream: Writable, options) {
      const out = new PassThrough();
      out.pipe(stream);
      const entry = { pod, ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}), out, aborted: false };
      streams.push(entry);
      out.write(`hello from ${pod}\n`);
      const ac = new AbortController();
      ac.signal.addEventListener('abort', () => {
        entry.aborted = true;
        out.end();
      });
      return ac;
    },
  };
  return { log, streams };
}

describe('logs', () => {
  const dev = session('web', {
    dev: {
      pods: [
        { name: 'api', selector: { imageName: 'api' }, logs: { lastLines: 5 } },
        { name: 'worker', selector: { imageName: 'worker' }, logs: { enabled: false } },
      ],
    },
  });

  it('follows the dev pod: a new pod gets a new stream, a stream that ended is followed again', async () => {
    const f = fakeLog();
    const t = run([logsService({ restartDelayMs: 10 })], withPods(dev, { api: 'api-1', worker: 'worker-1' }), { clients: { log: async () => f.log } });
    await until('the stream', () => f.streams.length === 1);
    expect(f.streams[0]).toMatchObject({ pod: 'api-1', tail: 5 });
    t.kube.push(withPods(t.stored, { api: 'api-2', worker: 'worker-1' }));
    await until('the new pod', () => f.streams.length === 2);
    expect(f.streams.map((s) => [s.pod, s.aborted])).toEqual([
      ['api-1', true],
      ['api-2', false],
    ]);
    // The container restarted: its log ended, the session did not change.
    f.streams[1]!.out.end();
    await until('the stream again', () => f.streams.length === 3, 20_000);
    expect(f.streams[2]!.pod).toBe('api-2');
    expect(t.env.out.toString()).toContain('[api-2/api] hello from api-2\n');
    t.env.abort();
    await t.done;
    expect(f.streams.every((s) => s.aborted || s.out.writableEnded)).toBe(true);
  });

  it('does not run when no dev pod has logs', () => {
    const quiet = session('q', { dev: { pods: [{ name: 'a', selector: { imageName: 'a' }, logs: { enabled: false } }] } });
    expect(logsService().create({ env: testEnv() } as never, quiet)).toBeUndefined();
  });
});

describe('terminal', () => {
  const dev = session('web', { dev: { pods: [{ name: 'api', selector: { imageName: 'api' }, terminal: { command: ['bash'], workDir: '/app' } }] } });
  const tty = { stdin: true, stdout: true, stderr: true };

  it('waits for the dev pod, opens the terminal there, and ends the loop with the shell\'s exit code', async () => {
    const calls: unknown[] = [];
    const exec: ExecLike = {
      async exec(ns, pod, container, command, _o, _e, _i, isTTY, cb) {
        calls.push({ ns, pod, container, command, isTTY });
        const ws = Object.assign(new EventEmitter(), { close: () => ws.emit('close') });
        setTimeout(() => {
          cb?.({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '3' }] } } as V1Status);
          ws.emit('close');
        }, 5);
        return ws;
      },
    };
    const stdin = Object.assign(new PassThrough(), { isTTY: false });
    const t = run([terminalService], dev, { env: { isTTY: tty }, clients: { exec: async () => exec, terminal: { stdin, stdout: new PassThrough(), stderr: new PassThrough() } } });
    await until('the watch', () => t.kube.watchers.length === 1);
    expect(calls).toEqual([]); // no pod yet
    t.kube.push(withPods(t.stored, { api: 'api-1' }));
    expect(await t.done).toBe(3);
    expect(calls).toEqual([{ ns: 'dev', pod: 'api-1', container: 'api', command: ['sh', '-c', 'cd "$0" && exec "$@"', '/app', 'bash'], isTTY: true }]);
    expect(t.env.lines).toContain('info: terminal: api-1/api (exit the shell to stop dsa up; the session keeps running)');
  });

  it('does not run without a terminal on both ends', () => {
    const ctx = { env: testEnv() } as never;
    expect(terminalService.create(ctx, dev)).toBeUndefined();
  });
});

describe('ports', () => {
  async function freePort(): Promise<number> {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    return port;
  }
  const request = (port: number) =>
    new Promise<string>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.end('ping'));
      let got = '';
      c.on('data', (b) => (got += b.toString()));
      c.on('close', () => resolve(got));
      c.on('error', reject);
    });

  it('forwards each connection to the pod the session names at that moment, and closes the port at stop', async () => {
    const port = await freePort();
    const dev = session('web', { dev: { pods: [{ name: 'api', selector: { imageName: 'api' }, ports: [{ localPort: port, remotePort: 80 }] }] } });
    const pf: PortForwardLike = {
      async portForward(_ns, pod, ports, output: Writable, _err, input) {
        const ws = Object.assign(new EventEmitter(), { close: () => ws.emit('close') });
        input.on('data', (b: Buffer) => output.write(`${pod}:${ports[0]} got ${b.toString()}`));
        input.on('end', () => ws.close());
        return ws;
      },
    };
    const t = run([portsService], withPods(dev, { api: 'api-1' }), { clients: { portForward: async () => pf } });
    await until('the forward', () => t.env.lines.includes(`info: forwarding 127.0.0.1:${port} → api:80`));
    expect(await request(port)).toBe('api-1:80 got ping');
    t.kube.push(withPods(t.stored, { api: 'api-2' }));
    await until('the new pod', () => t.env.lines.includes('info: dev pod api: api-2'));
    expect(await request(port)).toBe('api-2:80 got ping');
    t.env.abort();
    await t.done;
    await expect(request(port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
