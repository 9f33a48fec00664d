import { afterEach, describe, expect, it } from '@jest/globals';
import type { DevSession } from '@dsa/api';
import { RuntimeError } from '../errors.js';
import { FakeKube, session } from '../session/fake-kube.test-util.js';
import { deferred, testEnv, tick, until, unusedClients, type TestEnv } from './dev-loop.test-util.js';
import { runDevServices, waitGraph } from './runner.js';
import type { DevService, DevServiceContext, DevServiceDefinition } from './service.js';

const envs: TestEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.abort();
});

interface Probe {
  /** `start a`, `ready a`, `update a 102`, `stop a`, in the order they happened. */
  events: string[];
  ctx: Map<string, DevServiceContext>;
}

/** A service that records what the runner does to it; each hook may be replaced. */
function svc(probe: Probe, name: string, opts: Partial<Omit<DevServiceDefinition, 'create'>> & { hooks?: Partial<DevService>; skip?: boolean } = {}): DevServiceDefinition {
  return {
    name,
    ...(opts.after ? { after: opts.after } : {}),
    ...(opts.before ? { before: opts.before } : {}),
    create(ctx) {
      if (opts.skip) return undefined;
      probe.ctx.set(name, ctx);
      return {
        async start(s) {
          probe.events.push(`start ${name}`);
          await opts.hooks?.start?.(s);
        },
        ...(opts.hooks?.ready ? { ready: opts.hooks.ready } : {}),
        async update(s) {
          probe.events.push(`update ${name} ${s.metadata.resourceVersion}`);
          await opts.hooks?.update?.(s);
        },
        async stop() {
          probe.events.push(`stop ${name}`);
          await opts.hooks?.stop?.();
        },
      };
    },
  };
}

function setup(defs: (probe: Probe) => DevServiceDefinition[], over: { stopTimeoutMs?: number } = {}) {
  const probe: Probe = { events: [], ctx: new Map() };
  const kube = new FakeKube();
  const initial: DevSession = kube.push(session('web'));
  const env = testEnv();
  envs.push(env);
  let started: readonly string[] | undefined;
  const done = runDevServices(defs(probe), {
    env,
    kube,
    clients: unusedClients(),
    initial,
    projectDir: '/p',
    onStarted: (r) => (started = r),
    ...over,
  });
  done.catch(() => undefined);
  return { probe, kube, env, done, initial, started: () => started };
}

describe('waitGraph', () => {
  it('merges after and before, ignoring names that are not there', () => {
    const g = waitGraph([{ name: 'ports' }, { name: 'sync', before: ['logs', 'terminal', 'nope'] }, { name: 'logs', after: ['ports'] }]);
    expect(Object.fromEntries(g)).toEqual({ ports: [], sync: [], logs: ['ports', 'sync'] });
  });

  it('refuses duplicate names and cycles, naming the cycle', () => {
    expect(() => waitGraph([{ name: 'a' }, { name: 'a' }])).toThrow('two dev services are named a');
    expect(() => waitGraph([{ name: 'a', after: ['b'] }, { name: 'b', after: ['c'] }, { name: 'c', before: ['b'], after: ['a'] }])).toThrow(/dev services wait for each other: (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });
});

describe('runDevServices', () => {
  it('starts a service only when what it waits for is ready; independent ones at once', async () => {
    const syncReady = deferred();
    const t = setup((p) => [
      svc(p, 'heartbeat'),
      svc(p, 'sync', { before: ['logs', 'terminal'], hooks: { ready: () => syncReady.promise } }),
      svc(p, 'ports'),
      svc(p, 'logs'),
      svc(p, 'terminal', { after: ['ports'] }),
    ]);
    await until('the first services', () => t.probe.events.length >= 3);
    for (let i = 0; i < 50; i++) await tick();
    expect(t.probe.events).toEqual(['start heartbeat', 'start sync', 'start ports']);
    expect(t.started()).toBeUndefined();
    syncReady.resolve();
    await until('logs and terminal', () => t.started() !== undefined);
    expect(t.probe.events.slice(3).sort()).toEqual(['start logs', 'start terminal']);
    expect(t.started()).toEqual(['heartbeat', 'sync', 'ports', 'logs', 'terminal']);
    t.env.abort();
    expect(await t.done).toBeUndefined();
    expect(t.probe.events.slice(5)).toEqual(['stop terminal', 'stop logs', 'stop ports', 'stop sync', 'stop heartbeat']);
  });

  it('feeds each new session version to the running services, in definition order', async () => {
    const t = setup((p) => [svc(p, 'a'), svc(p, 'b', { hooks: { update: () => Promise.reject(new Error('cannot follow')) } }), svc(p, 'c')]);
    await until('the watch', () => t.kube.watchers.length === 1 && t.started() !== undefined);
    const next = t.kube.push({ ...t.initial, status: { pods: [{ devPod: 'api', pod: 'api-2' }] } });
    await until('the update', () => t.probe.events.includes(`update c ${next.metadata.resourceVersion}`));
    expect(t.probe.events.filter((e) => e.startsWith('update'))).toEqual(['update a 102', 'update b 102', 'update c 102']);
    expect(t.probe.ctx.get('a')!.session().metadata.resourceVersion).toBe('102');
    // A failing update is reported, not fatal; a pod change is announced.
    expect(t.env.lines).toContain('warn: b: cannot follow');
    expect(t.env.lines).toContain('info: dev pod api: api-2');
    t.env.abort();
    await t.done;
  });

  it('exit(code) ends the loop with that code; fail(err) with that error', async () => {
    const t = setup((p) => [svc(p, 'a'), svc(p, 'terminal')]);
    await until('started', () => t.started() !== undefined);
    t.probe.ctx.get('terminal')!.exit(7);
    expect(await t.done).toBe(7);
    expect(t.probe.events.slice(-2)).toEqual(['stop terminal', 'stop a']);

    const u = setup((p) => [svc(p, 'a'), svc(p, 'b')]);
    await until('started', () => u.started() !== undefined);
    const boom = new RuntimeError('the sidecar is older than this agent');
    u.probe.ctx.get('b')!.fail(boom);
    u.probe.ctx.get('a')!.exit(0); // the first outcome wins
    await expect(u.done).rejects.toBe(boom);
  });

  it('a start that fails ends the loop: later services never start, started ones are stopped', async () => {
    const t = setup((p) => [svc(p, 'a'), svc(p, 'b', { hooks: { start: () => Promise.reject(new RuntimeError('port 3000 taken')) } }), svc(p, 'c', { after: ['b'] })]);
    await expect(t.done).rejects.toThrow('port 3000 taken');
    expect(t.probe.events).toEqual(['start a', 'start b', 'stop b', 'stop a']);
  });

  it('a service with nothing to do never runs; waiting for it is no wait', async () => {
    const t = setup((p) => [svc(p, 'sync', { skip: true, before: ['logs'] }), svc(p, 'logs')]);
    await until('started', () => t.started() !== undefined);
    expect(t.started()).toEqual(['logs']);
    t.env.abort();
    await t.done;
    expect(t.probe.events).toEqual(['start logs', 'stop logs']);
  });

  it('stops when the session is deleted', async () => {
    const t = setup((p) => [svc(p, 'a')]);
    await until('the watch', () => t.kube.watchers.length === 1);
    t.kube.remove({ namespace: 'dev', name: 'web' });
    expect(await t.done).toBeUndefined();
    expect(t.env.lines).toContain('warn: DevSession web was deleted; stopping');
    expect(t.probe.events).toEqual(['start a', 'stop a']);
  });

  it('does not wait for ever on a service that does not stop', async () => {
    const t = setup((p) => [svc(p, 'a'), svc(p, 'stuck', { hooks: { stop: () => new Promise<void>(() => undefined) } })], { stopTimeoutMs: 50 });
    await until('started', () => t.started() !== undefined);
    t.env.abort();
    await t.done;
    expect(t.env.lines).toContain('debug: stopping stuck: stuck did not stop within 50 ms');
    expect(t.probe.events.at(-1)).toBe('stop a');
  });

  it('status parts are merged in definition order and announced', async () => {
    const t = setup((p) => [svc(p, 'heartbeat'), svc(p, 'sync'), svc(p, 'other')]);
    await until('started', () => t.started() !== undefined);
    const hb = t.probe.ctx.get('heartbeat')!;
    let changes = 0;
    hb.statusParts.subscribe(() => changes++);
    t.probe.ctx.get('other')!.setStatus({ sync: 'other text' });
    t.probe.ctx.get('sync')!.setStatus({ sync: '1 path watching', syncPaths: [{ devPod: 'api', localPath: '/p/src', containerPath: '/app', state: 'watching' }] });
    expect(hb.statusParts.current()).toEqual([{ sync: '1 path watching', syncPaths: [{ devPod: 'api', localPath: '/p/src', containerPath: '/app', state: 'watching' }] }, { sync: 'other text' }]);
    t.probe.ctx.get('other')!.setStatus(undefined);
    expect(hb.statusParts.current()).toHaveLength(1);
    expect(changes).toBe(3);
    t.env.abort();
    await t.done;
  });
});
