// Hook events from the session's status, and the runner: real local processes, container hooks
// through an in-memory exec.
import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1Pod, V1Status } from '@kubernetes/client-node';
import type { DevSession, ProjectConfig } from '@dsa/api';
import type { HookSpec } from '../config/hooks.js';
import type { ExecLike } from '../devloop/exec.js';
import { testEnv } from '../devloop/dev-loop.test-util.js';
import { InterruptedError } from '../errors.js';
import { eventsForSingle, hookEnv, SessionEventTracker } from './events.js';
import { hookArgv, hookName, HookRunner } from './runner.js';

const hook = (over: Partial<HookSpec> & { command: string; events: string[] }): HookSpec => ({ args: [], shell: true, os: [], background: false, silent: false, ...over });
const project = (dir: string, hooks: HookSpec[]): Pick<ProjectConfig, 'hooks' | 'dir' | 'vars' | 'name' | 'images'> => ({ hooks, dir, vars: { APP_PORT: '3000', 'not-an-env': 'x' }, name: 'p', images: [] });

describe('events', () => {
  it('per-item events fire as DevSpace\'s EventsForSingle; extras become DEVSPACE_HOOK_* (objects as JSON)', () => {
    expect(eventsForSingle('after:deploy', 'api')).toEqual(['after:deploy:*', 'after:deploy:api']);
    expect(hookEnv('after:build:app', { IMAGE_CONFIG_NAME: 'app', image_tags: ['a', 'b'], ERROR: new Error('boom'), none: undefined })).toEqual({
      DEVSPACE_HOOK_EVENT: 'after:build:app',
      DEVSPACE_HOOK_IMAGE_CONFIG_NAME: 'app',
      DEVSPACE_HOOK_IMAGE_TAGS: '["a","b"]',
      DEVSPACE_HOOK_ERROR: 'boom',
    });
  });

  const session = (status: DevSession['status'], images = ['my-app']): DevSession => ({
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'DevSession',
    metadata: { name: 's', namespace: 'dev', generation: 2 },
    spec: { project: 's', images: images.map((name) => ({ name, image: `r/${name}`, context: { upload: { digest: `sha256:${'a'.repeat(64)}` } } })) },
    ...(status ? { status } : {}),
  });

  it('the tracker fires each after-event once, in the user\'s names, and ignores carried-over parts', () => {
    const t = new SessionEventTracker({ images: new Map([['my-app', 'My_App']]), deployments: new Map([['web', 'web']]) }, 2);
    // The previous generation's status: nothing.
    expect(t.next(session({ observedGeneration: 1, phase: 'Ready', images: [{ name: 'my-app', phase: 'Succeeded' }] }))).toEqual([]);
    // Waiting for dependencies: images and deployments are carried over, not this pass's.
    expect(t.next(session({ observedGeneration: 2, phase: 'Pending', images: [{ name: 'my-app', phase: 'Succeeded' }], deployments: [{ name: 'web', ready: true }] }))).toEqual([]);
    // Building: deployments are still the previous pass's.
    expect(t.next(session({ observedGeneration: 2, phase: 'Building', images: [{ name: 'my-app', phase: 'Building' }], deployments: [{ name: 'web', ready: true }] }))).toEqual([]);
    const built = t.next(session({ observedGeneration: 2, phase: 'Deploying', images: [{ name: 'my-app', phase: 'Succeeded', image: 'r/my-app:dsa-1' }], deployments: [{ name: 'web', ready: false }] }));
    expect(built).toEqual([
      { events: ['after:build:*', 'after:build:My_App'], extra: { IMAGE_CONFIG_NAME: 'My_App', IMAGE_NAME: 'r/my-app:dsa-1' } },
      { events: ['after:build'], extra: {} },
    ]);
    expect(t.next(session({ observedGeneration: 2, phase: 'Ready', images: [{ name: 'my-app', phase: 'Succeeded' }], deployments: [{ name: 'web', ready: true }] }))).toEqual([
      { events: ['after:deploy:*', 'after:deploy:web'], extra: { DEPLOY_NAME: 'web' } },
    ]);
    expect(t.next(session({ observedGeneration: 2, phase: 'Ready', images: [{ name: 'my-app', phase: 'Succeeded' }], deployments: [{ name: 'web', ready: true }] }))).toEqual([]);
  });

  it('a failed build fires error:build for the image', () => {
    const t = new SessionEventTracker({ images: new Map(), deployments: new Map() }, 2);
    expect(t.next(session({ observedGeneration: 2, phase: 'Failed', message: 'image my-app failed', images: [{ name: 'my-app', phase: 'Failed' }] }))).toEqual([
      { events: ['error:build:*', 'error:build:my-app'], extra: { IMAGE_CONFIG_NAME: 'my-app', ERROR: 'image my-app failed' } },
    ]);
  });
});

describe('local hooks', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'dsa-hooks-'));

  it('without args a shell line, with args argv (no shell); the config\'s variables and DevSpace\'s env; output on stderr', async () => {
    const d = dir();
    const e = testEnv();
    const runner = new HookRunner({ env: e, processEnv: { PATH: process.env.PATH }, namespace: 'dev', kubeContext: 'kind' });
    await runner.fire(
      project(d, [
        hook({ command: 'echo "$DEVSPACE_HOOK_EVENT $APP_PORT $DEVSPACE_HOOK_KUBE_CONTEXT/$DEVSPACE_HOOK_KUBE_NAMESPACE $DEVSPACE_HOOK_DEPLOY_NAME" > env.txt; echo visible', events: ['after:deploy:web'] }),
        hook({ command: 'printf', args: ['%s|', '$HOME', 'a b'], shell: false, events: ['after:deploy:web'] }),
      ]),
      eventsForSingle('after:deploy', 'web'),
      { DEPLOY_NAME: 'web' },
    );
    expect(readFileSync(path.join(d, 'env.txt'), 'utf8')).toBe('after:deploy:web 3000 kind/dev web\n');
    expect(e.stderr.toString()).toBe('visible\n$HOME|a b|');
    expect(e.lines).toEqual(["info: hook 'echo \"$DEVSPACE_HOOK_EVENT $APP_PORT $DEVSPACE_HOOK_KUBE_CONTEXT/$DEVSPACE_HOOK_KUBE_NAMESPACE $DEVSPACE_HOOK_DEPLOY_NAME\" > env.txt; echo visible' at after:deploy:web", "info: hook 'printf %s| $HOME a b' at after:deploy:web"]);
  });

  it('silent hooks show their output only when they fail; os filters; a missing command says so', async () => {
    const e = testEnv();
    const runner = new HookRunner({ env: e, processEnv: { PATH: process.env.PATH }, namespace: 'dev', goos: 'linux' });
    await runner.fire(project(dir(), [hook({ command: 'echo quiet', silent: true, events: ['x'] }), hook({ command: 'echo mac-only', os: ['darwin'], events: ['x'] })]), ['x']);
    expect(e.stderr.toString()).toBe('');
    await expect(runner.fire(project(dir(), [hook({ name: 'migrate', command: 'echo why; exit 3', silent: true, events: ['x'] })]), ['x'])).rejects.toThrow("hook 'migrate' at x failed: exit code 3");
    expect(e.stderr.toString()).toBe('why\n');
    await expect(runner.fire(project(dir(), [hook({ command: 'no-such-cmd-dsa', shell: false, events: ['x'] })]), ['x'])).rejects.toThrow("hook 'no-such-cmd-dsa' at x could not start: no-such-cmd-dsa: command not found");
  });

  it('a background hook does not hold the command; a failure is a warning; stopBackground ends it', async () => {
    const d = dir();
    const e = testEnv();
    const runner = new HookRunner({ env: e, processEnv: { PATH: process.env.PATH }, namespace: 'dev' });
    const t0 = Date.now();
    await runner.fire(project(d, [hook({ command: 'sleep 30', background: true, events: ['x'] }), hook({ name: 'bad', command: 'exit 2', background: true, events: ['x'] })]), ['x']);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(e.lines).toContain("warn: background hook 'bad' at x: hook 'bad' at x failed: exit code 2");
    runner.stopBackground();
  });

  it('Ctrl-C stops a running hook', async () => {
    const e = testEnv();
    const runner = new HookRunner({ env: e, processEnv: { PATH: process.env.PATH }, namespace: 'dev' });
    const p = runner.fire(project(dir(), [hook({ command: 'sleep 30', events: ['x'] })]), ['x']);
    setTimeout(() => e.abort(), 200);
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
  });

  it('names and argv', () => {
    expect(hookName({ command: 'line1\nline2', args: [] })).toBe('line1...');
    expect(hookArgv({ command: 'echo hi', args: [], shell: true })).toEqual(['sh', '-c', 'echo hi']);
    expect(hookArgv({ command: 'echo', args: ['hi'], shell: false })).toEqual(['echo', 'hi']);
  });
});

describe('container hooks', () => {
  const pod = (name: string, image: string, running = true): V1Pod => ({
    metadata: { name, namespace: 'dev', labels: { app: 'api' }, creationTimestamp: new Date('2026-01-01T00:00:00Z') },
    spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }, { name: 'api', image }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'api', image, imageID: '', ready: true, restartCount: 0, state: running ? { running: {} } : { waiting: { reason: 'ContainerCreating' } } }, { name: 'sidecar', image: 'envoy:1', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] },
  });

  function fakeExec(codes: (cmd: string[]) => number, ran: string[]): ExecLike {
    return {
      async exec(ns, podName, container, command, stdout, _stderr, _stdin, _tty, status) {
        ran.push(`${ns}/${podName}/${container}: ${command.join(' ')}`);
        const ws = new EventEmitter();
        setImmediate(() => {
          if (command[0] === 'sh' && command[2]?.includes('echo')) stdout?.write('from the container\n');
          const code = codes(command);
          status?.(code === 0 ? ({ status: 'Success' } as V1Status) : ({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } } as V1Status));
          ws.emit('close');
        });
        return { on: (ev: 'close', l: () => void) => ws.on(ev, l), close: () => undefined };
      },
    };
  }

  it('exec in the container the image selects (waiting for it to run), output on stderr; once marks it', async () => {
    const ran: string[] = [];
    const markers = new Set<string>();
    let listed = 0;
    const e = testEnv();
    const runner = new HookRunner({
      env: e,
      processEnv: {},
      namespace: 'dev',
      pollMs: 1,
      cluster: async () => ({
        listPods: async (_ns, sel) => {
          expect(sel).toBe('app=api');
          return [pod('api-1', 'reg/api:dsa-1', ++listed > 2)];
        },
        exec: async () =>
          fakeExec((cmd) => {
            if (cmd[0] === 'test') return markers.has(cmd[2]!) ? 0 : 1;
            if (cmd[0] === 'sh' && cmd[1] === '-c' && cmd[2]?.startsWith('mkdir')) markers.add(cmd[3]!);
            return 0;
          }, ran),
      }),
    });
    const h = hook({ command: 'echo migrated', events: ['after:deploy'], container: { labelSelector: { app: 'api' }, imageSelector: 'reg/api', wait: true, timeoutSeconds: 5, once: true } });
    await runner.fire(project('/x', [h]), ['after:deploy']);
    expect(listed).toBe(3);
    expect(ran.map((r) => r.replace(/\/tmp\/dsa-hooks\/[0-9a-f]+/, 'MARK'))).toEqual(['dev/api-1/api: test -e MARK', 'dev/api-1/api: sh -c echo migrated', 'dev/api-1/api: sh -c mkdir -p "$(dirname "$0")" && touch "$0" MARK']);
    expect(e.stderr.toString()).toBe('from the container\n');
    ran.length = 0;
    await runner.fire(project('/x', [h]), ['after:deploy']);
    expect(ran).toHaveLength(1);
    expect(e.lines).toContain("info: hook 'echo migrated' already ran in api-1/api (once)");
  });

  it('container.namespace: the pods are looked up and the command runs in that namespace, not the session\'s', async () => {
    const ran: string[] = [];
    const listedIn: string[] = [];
    const runner = new HookRunner({
      env: testEnv(),
      processEnv: {},
      namespace: 'dev',
      pollMs: 1,
      cluster: async () => ({
        listPods: async (ns) => {
          listedIn.push(ns);
          return [pod('api-1', 'reg/api:1')];
        },
        exec: async () => fakeExec(() => 0, ran),
      }),
    });
    await runner.fire(project('/x', [hook({ command: 'true', events: ['x'], container: { namespace: 'other', pod: 'api-1', containerName: 'api', wait: true, timeoutSeconds: 1, once: false } })]), ['x']);
    expect(listedIn).toEqual(['other']);
    expect(ran).toEqual(['other/api-1/api: sh -c true']);
  });

  it('no matching container within the timeout: a one-line error naming the selection; a non-zero exit fails', async () => {
    const e = testEnv();
    const runner = new HookRunner({ env: e, processEnv: {}, namespace: 'dev', pollMs: 1, cluster: async () => ({ listPods: async () => [pod('api-1', 'reg/api:1')], exec: async () => fakeExec(() => 5, []) }) });
    await expect(runner.fire(project('/x', [hook({ command: 'true', events: ['x'], container: { imageSelector: 'other/img', wait: false, timeoutSeconds: 1, once: false } })]), ['x'])).rejects.toThrow(
      "hook 'true' at x: no running container in namespace dev matches image other/img",
    );
    await expect(runner.fire(project('/x', [hook({ command: 'false', events: ['x'], container: { pod: 'api-1', wait: true, timeoutSeconds: 1, once: false } })]), ['x'])).rejects.toThrow("hook 'false' at x failed in api-1/sidecar: exit code 5");
  });
});
