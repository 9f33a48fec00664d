// The dev action's auto-reload wiring: a copy of examples/node-kubectl deployed with the real loader,
// renderer and build-context tar to the in-memory cluster; editing its Dockerfile during the dev loop
// deploys again, with the first deploy's options minus -b/-d.
import { afterEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ANNOTATIONS } from '@dsa/api';
import { testEnv, type TestEnv } from '../devloop/dev-loop.test-util.js';
import { FakeKube } from '../session/fake-kube.test-util.js';
import { EXAMPLES, actionDeps, fakeOperator, project, type Uploads } from './actions.test-util.js';
import { deployProject, type DeployOptions } from './deploy.js';
import { devLoopServices, runDevLoop } from './dev.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function waitFor(what: string, cond: () => boolean, lines: readonly string[], timeoutMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; dsa up said:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('dsa up auto-reload', () => {
  it('a changed Dockerfile builds and deploys again (without -b/-d), and the dev loop keeps running', async () => {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'dsa-dev-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.cpSync(path.join(EXAMPLES, 'node-kubectl'), dir, { recursive: true });
    const kube = new FakeKube();
    const uploads: Uploads = { done: [] };
    fakeOperator(kube, uploads);
    const env: TestEnv = testEnv();
    cleanups.push(() => env.abort());
    const deps = actionDeps(env, kube, { uploads });
    const first: DeployOptions = { project: project('node-kubectl', { configPath: path.join(dir, 'devspace.yaml') }), forceDeploy: true, timeoutMs: 60_000, wait: { pollMs: 20, settleMs: 0 } };
    const deployed = await deployProject(env, deps, first);
    const digest = () => kube.sessions.get('dev/node-kubectl')?.spec.images?.[0]?.context?.upload?.digest;
    const before = digest();
    expect(before).toMatch(/^sha256:/);
    const applies = () => kube.calls.filter((c) => c.startsWith('apply ')).length;
    const requested = () => kube.sessions.get('dev/node-kubectl')?.metadata.annotations?.[ANNOTATIONS.requestedAt];
    expect(applies()).toBe(1);
    expect(requested()).toBeDefined(); // -d

    const stops: Array<() => void> = [];
    const opts = { deployed, deploy: first, autoReloadPollMs: 30 };
    const services = devLoopServices(env, deps, opts, stops);
    expect(services.map((s) => s.name)).toEqual(['heartbeat', 'ports', 'sync', 'logs', 'terminal', 'autoreload']);
    // Only auto-reload (and the heartbeat): the other services would need a cluster.
    const loop = runDevLoop(env, deps, { ...opts, services: services.filter((s) => s.name === 'autoreload' || s.name === 'heartbeat') });
    loop.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    // The in-memory operator knows one build per image; the new Dockerfile makes a new one.
    kube.builds.clear();
    fs.appendFileSync(path.join(dir, 'Dockerfile'), '\nENV RELOADED=1\n');
    await waitFor('the second deploy', () => env.lines.includes('info: auto-reload: deployed; the dev loop follows the new pods'), env.lines);
    expect(env.lines).toContain('info: auto-reload: Dockerfile changed; building and deploying again');
    expect(applies()).toBe(2);
    expect(requested()).toBeUndefined(); // -d asked for the first deploy only
    expect(digest()).not.toBe(before); // the new Dockerfile is in the build context
    env.abort();
    expect(await loop).toBeUndefined();
  }, 60_000);
});
