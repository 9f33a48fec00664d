import { afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { LABELS, type DevSession } from '@dsa/api';
import { UsageError } from '../errors.js';
import { testEnv, type TestEnv } from '../devloop/dev-loop.test-util.js';
import type { ExecLike } from '../devloop/exec.js';
import type { LogLike } from '../devloop/logs.js';
import { FakeKube, pod, session } from '../session/fake-kube.test-util.js';
import { actionDeps, project } from './actions.test-util.js';
import { enterContainer, logTargets, pickTarget, printLogs } from './containers.js';

const envs: TestEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.abort();
});
const env = (over: Parameters<typeof testEnv>[0] = {}) => {
  const e = testEnv(over);
  envs.push(e);
  return e;
};

function root(): DevSession {
  const s = session('web', {
    dev: {
      pods: [
        { name: 'api', selector: { imageName: 'api' }, terminal: { command: ['bash'], workDir: '/app' } },
        { name: 'worker', selector: { imageName: 'worker' } },
        { name: 'quiet', selector: { imageName: 'quiet' }, logs: { enabled: false } },
      ],
    },
  });
  s.status = {
    pods: [
      { devPod: 'api', pod: 'api-1', container: 'api', namespace: 'dev' },
      { devPod: 'worker', pod: 'worker-1', container: 'main', namespace: 'dev' },
      { devPod: 'quiet', pod: 'quiet-1', container: 'q', namespace: 'dev' },
    ],
  };
  return s;
}

describe('logTargets', () => {
  const kube = new FakeKube();
  kube.pods = [pod('web-7', { labels: { [LABELS.session]: 'web' }, containers: [{ name: 'app' }] }), pod('other', { containers: [{ name: 'x' }] })];

  it('every published dev pod with logs; with selection flags, the one pod they name', async () => {
    const ps = { kube, namespace: 'dev', root: root() };
    expect((await logTargets(ps, {})).map((t) => `${t.pod}/${t.container}`)).toEqual(['api-1/api', 'worker-1/main']);
    expect(await logTargets(ps, { pod: 'other' })).toEqual([{ namespace: 'dev', pod: 'other', container: 'x' }]);
  });

  it('a session without dev pods: every running pod it deployed', async () => {
    expect(await logTargets({ kube, namespace: 'dev', root: session('web') }, {})).toEqual([{ namespace: 'dev', pod: 'web-7', container: 'app' }]);
  });
});

describe('pickTarget', () => {
  const kube = new FakeKube();
  kube.pods = [pod('web-7', { labels: { [LABELS.session]: 'web' }, containers: [{ name: 'app' }, { name: 'proxy' }] })];

  it('offers the session\'s containers to the chooser; without one (no terminal) it is a usage error', async () => {
    const offered: string[] = [];
    const t = await pickTarget({ kube, namespace: 'dev', root: session('web') }, async (choices) => {
      offered.push(...choices.map((c) => `${c.pod}/${c.container}`));
      return choices[1]!;
    });
    expect(offered).toEqual(['web-7/app', 'web-7/proxy']);
    expect(t.container).toBe('proxy');
    await expect(pickTarget({ kube, namespace: 'dev', root: undefined }, undefined)).rejects.toThrow(new UsageError('--pick needs an interactive terminal (or pass --pod/-l/-c)'));
  });
});

describe('enterContainer', () => {
  it('runs the dev pod\'s terminal command in its workDir by default, the given command otherwise, and returns its exit code', async () => {
    const kube = new FakeKube();
    // examples/node-kubectl renders the session node-kubectl; the cluster has it with a terminal dev pod.
    const live = { ...root(), metadata: { name: 'node-kubectl', namespace: 'dev' } };
    kube.sessions.set('dev/node-kubectl', live);
    const ran: string[][] = [];
    const exec: ExecLike = {
      async exec(_ns, podName, c, command, _o, _e, _i, _tty, cb) {
        ran.push([`${podName}/${c}`, ...command]);
        const ws = Object.assign(new EventEmitter(), { close: () => ws.emit('close') });
        setTimeout(() => {
          cb?.({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '4' }] } });
          ws.emit('close');
        }, 1);
        return ws;
      },
    };
    const terminal = { stdin: Object.assign(new PassThrough(), { isTTY: false }), stdout: new PassThrough(), stderr: new PassThrough() };
    const e = env();
    const deps = actionDeps(e, kube, { clients: { exec: async () => exec, terminal } });
    expect(await enterContainer(e, deps, { project: project('node-kubectl'), selection: {}, command: [] })).toBe(4);
    expect(await enterContainer(e, deps, { project: project('node-kubectl'), selection: { container: 'api' }, command: ['cat', '/etc/hostname'] })).toBe(4);
    expect(ran).toEqual([
      ['api-1/api', 'sh', '-c', 'cd "$0" && exec "$@"', '/app', 'bash'],
      ['api-1/api', 'cat', '/etc/hostname'],
    ]);
  }, 30_000);
});

describe('printLogs', () => {
  it('prefixes lines with [pod/container] only when there are several containers', async () => {
    const kube = new FakeKube();
    kube.sessions.set('dev/node-kubectl', { ...root(), metadata: { name: 'node-kubectl', namespace: 'dev' } });
    const log: LogLike = {
      async log(_ns, p, _c, stream: Writable) {
        const body = new PassThrough();
        body.pipe(stream);
        body.end(`line of ${p}\n`);
        return new AbortController();
      },
    };
    const e = env();
    const deps = actionDeps(e, kube, { clients: { log: async () => log } });
    await printLogs(e, deps, { project: project('node-kubectl'), selection: {}, follow: false, lines: 10 });
    expect(e.out.toString()).toBe('[api-1/api] line of api-1\n[worker-1/main] line of worker-1\n');
    const one = env();
    await printLogs(one, actionDeps(one, kube, { clients: { log: async () => log } }), { project: project('node-kubectl'), selection: { pod: 'x' }, follow: false, lines: 10 }).catch((err: unknown) => err);
    kube.pods = [pod('x', { containers: [{ name: 'c' }] })];
    await printLogs(one, actionDeps(one, kube, { clients: { log: async () => log } }), { project: project('node-kubectl'), selection: { pod: 'x' }, follow: false, lines: 10 });
    expect(one.out.toString()).toBe('line of x\n');
  }, 30_000);
});
