import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DevSession } from '@dsa/api';
import { testEnv, type TestEnv } from '../devloop/dev-loop.test-util.js';
import { FakeKube, session } from '../session/fake-kube.test-util.js';
import { actionDeps, project } from './actions.test-util.js';
import { downProject } from './down.js';

const envs: TestEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.abort();
});

/** examples/two-services renders the backend (a dependency) and the frontend; both exist in the cluster. */
function cluster(): FakeKube {
  const kube = new FakeKube();
  const inventory = [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'dev', name: 'x', deployment: 'x' }];
  for (const name of ['frontend-backend', 'frontend']) kube.sessions.set(`dev/${name}`, { ...session(name), status: { phase: 'Ready', inventory } } as DevSession);
  // The operator's finalizer: a deleted session is gone at the next read.
  kube.onGetSession = (_ref, s) => (s?.metadata.deletionTimestamp ? undefined : s);
  return kube;
}

describe('downProject', () => {
  it('deletes the root session only, and says how many dependency sessions it kept', async () => {
    const kube = cluster();
    const e = testEnv();
    envs.push(e);
    const r = await downProject(e, actionDeps(e, kube), { project: project('two-services'), timeoutMs: 60_000 });
    expect(kube.calls).toEqual(['delete dev/frontend']);
    expect(r.removed.map((x) => `${x.ref.name} ${x.inventory.length} ${x.kept}`)).toEqual(['frontend 1 false']);
    expect(r.keptDependencies).toBe(1);
  }, 30_000);

  it('with dependencies: the root first, then what it uses; keepDeployments marks them before deleting', async () => {
    const kube = cluster();
    const e = testEnv();
    envs.push(e);
    const r = await downProject(e, actionDeps(e, kube), { project: project('two-services'), dependencies: true, keepDeployments: true, timeoutMs: 60_000 });
    expect(kube.calls).toEqual(['keep dev/frontend true', 'delete dev/frontend', 'keep dev/frontend-backend true', 'delete dev/frontend-backend']);
    expect(r.removed.map((x) => x.kept)).toEqual([true, true]);
    expect(r.keptDependencies).toBe(0);
  }, 30_000);

  it('runs the purge hooks around the deletion, per deployment in reverse order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsa-down-'));
    const cm = (n: string) => `  ${n}:\n    kubectl:\n      inlineManifest: |-\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {name: ${n}}\n`;
    writeFileSync(
      path.join(dir, 'devspace.yaml'),
      `version: v2beta1\nname: purged\ndeployments:\n${cm('a')}${cm('b')}hooks:\n  - events: [before:purge, "before:purge:*", "after:purge:b", after:purge]\n    command: echo "$DEVSPACE_HOOK_EVENT $DEVSPACE_HOOK_DEPLOY_NAME" >> purge.log\n`,
    );
    const kube = new FakeKube();
    kube.sessions.set('dev/purged', { ...session('purged'), status: { phase: 'Ready' } } as DevSession);
    kube.onGetSession = (_ref, s) => (s?.metadata.deletionTimestamp ? undefined : s);
    const e = testEnv();
    envs.push(e);
    await downProject(e, actionDeps(e, kube), { project: { ...project('two-services'), configPath: path.join(dir, 'devspace.yaml'), processEnv: { PATH: process.env.PATH } }, timeoutMs: 60_000 });
    expect(readFileSync(path.join(dir, 'purge.log'), 'utf8')).toBe('before:purge \nbefore:purge:* b\nbefore:purge:* a\nafter:purge:b b\nafter:purge \n');
    expect(kube.calls).toEqual(['delete dev/purged']);
  }, 30_000);

  it('a failed deletion fires error:purge with the error, not after:purge, and fails the command', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsa-down-'));
    writeFileSync(
      path.join(dir, 'devspace.yaml'),
      `version: v2beta1\nname: purged\ndeployments:\n  a:\n    kubectl:\n      inlineManifest: |-\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {name: a}\nhooks:\n  - events: [error:purge, after:purge]\n    command: echo "$DEVSPACE_HOOK_EVENT $DEVSPACE_HOOK_ERROR" >> purge.log\n`,
    );
    const kube = new FakeKube();
    kube.sessions.set('dev/purged', { ...session('purged'), status: { phase: 'Ready' } } as DevSession);
    kube.deleteSession = async () => {
      throw new Error('devsessions "purged" is forbidden');
    };
    const e = testEnv();
    envs.push(e);
    const run = downProject(e, actionDeps(e, kube), { project: { ...project('two-services'), configPath: path.join(dir, 'devspace.yaml'), processEnv: { PATH: process.env.PATH } }, timeoutMs: 60_000 });
    await expect(run).rejects.toThrow('devsessions "purged" is forbidden');
    expect(readFileSync(path.join(dir, 'purge.log'), 'utf8')).toBe('error:purge devsessions "purged" is forbidden\n');
  }, 30_000);
});
