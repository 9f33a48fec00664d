// deployProject with the real loader, renderer and build-context tar over examples/node-kubectl, and
// an in-memory cluster whose operator wants the upload and then reports Ready.
import { afterEach, describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, type ImageBuild } from '@dsa/api';
import { InterruptedError, ValidationError } from '../errors.js';
import { testEnv, until, type TestEnv } from '../devloop/dev-loop.test-util.js';
import { FakeKube } from '../session/fake-kube.test-util.js';
import { actionDeps, fakeOperator, project, type Uploads } from './actions.test-util.js';
import { deployProject } from './deploy.js';

const envs: TestEnv[] = [];
afterEach(() => {
  for (const e of envs.splice(0)) e.abort();
});
const env = (over: Parameters<typeof testEnv>[0] = {}) => {
  const e = testEnv(over);
  envs.push(e);
  return e;
};

describe('deployProject', () => {
  it('applies the session, uploads the build context the digest was computed from, and waits for Ready', async () => {
    const kube = new FakeKube();
    const uploads: Uploads = { done: [] };
    fakeOperator(kube, uploads);
    const e = env();
    const result = await deployProject(e, actionDeps(e, kube, { uploads, namespace: 'team-a' }), { project: project('node-kubectl'), timeoutMs: 60_000 });
    expect(kube.calls.filter((c) => !c.startsWith('request'))).toEqual(['ns team-a', 'apply team-a/node-kubectl']);
    // The real tar of examples/node-kubectl hashed to the digest the renderer put in the spec (else: "the build context changed").
    expect(uploads.done).toEqual([expect.stringMatching(/^node-kubectl-app-build \d+$/)]);
    expect(result.root.status?.phase).toBe('Ready');
    expect(result.sessions.map((s) => s.metadata.name)).toEqual(['node-kubectl']);
    expect(result.project.name).toBe('node-kubectl');
    expect(e.lines).toEqual(
      expect.arrayContaining(['info: applied DevSession node-kubectl in namespace team-a', expect.stringMatching(/^info: uploading build context of app \(/), 'info: ready: 2/2 deployments']),
    );
    // Owner and spec come from the project the action was given.
    expect(kube.sessions.get('team-a/node-kubectl')?.spec.owner).toEqual({ user: 'alice', host: 'laptop' });
  }, 30_000);

  it('--skip-build deploys the last built tag and uploads nothing; -d stamps requested-at with the clock', async () => {
    const kube = new FakeKube();
    const uploads: Uploads = { done: [] };
    fakeOperator(kube, uploads);
    const built: ImageBuild = {
      apiVersion: 'dsa.dev/v1alpha1',
      kind: 'ImageBuild',
      metadata: { name: 'node-kubectl-app', namespace: 'dev', generation: 1 },
      spec: { image: 'localhost:5000/dsa-examples/node-kubectl', tag: 'dsa-0123456789ab' },
      status: { observedGeneration: 1, phase: 'Succeeded', tag: 'dsa-0123456789ab' },
    } as ImageBuild;
    kube.builds.set('dev/node-kubectl-app', built);
    const e = env({ now: () => new Date('2026-05-06T07:08:09Z') });
    const r = await deployProject(e, actionDeps(e, kube, { uploads }), { project: project('node-kubectl'), skipBuild: true, forceDeploy: true, timeoutMs: 60_000, wait: { settleMs: 0, pollMs: 20 } });
    const image = r.root.spec.images?.[0];
    expect(image).toMatchObject({ skip: true, tags: ['dsa-0123456789ab'] });
    expect(image?.context).toBeUndefined();
    expect(r.root.metadata.annotations?.[ANNOTATIONS.requestedAt]).toBe('2026-05-06T07:08:09.000Z');
    expect(uploads.done).toEqual([]);
    expect(e.lines).toContain('info: --skip-build: using localhost:5000/dsa-examples/node-kubectl:dsa-0123456789ab for app');
  }, 30_000);

  it('--build-sequential: the next image\'s context goes up only once the previous image is built', async () => {
    const kube = new FakeKube();
    const uploads: Uploads = { done: [] };
    fakeOperator(kube, uploads);
    const e = env();
    await deployProject(e, actionDeps(e, kube, { uploads }), { project: project('two-services'), buildSequential: true, timeoutMs: 60_000, wait: { pollMs: 20 } });
    const steps = e.lines.filter((l) => /uploading build context|: built .*--build-sequential/.test(l)).map((l) => l.replace(/ \(.*$/, '').replace(/ built .*/, ' built'));
    expect(steps).toEqual(['info: uploading build context of backend', 'info: image backend: built', 'info: uploading build context of frontend', 'info: image frontend: built']);
  }, 30_000);

  it('a rendered session the CRD schema refuses is a ValidationError, before anything is applied', async () => {
    const kube = new FakeKube();
    const e = env();
    const deps = actionDeps(e, kube, { services: (real) => ({ ...real, validateObject: () => [{ path: 'spec.images[0].image', message: 'is required' }] }) });
    const err = await deployProject(e, deps, { project: project('node-kubectl'), timeoutMs: 60_000 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe('rendered DevSession node-kubectl is invalid: spec.images[0].image: is required');
    expect(kube.calls).toEqual([]);
  }, 30_000);

  it('Ctrl-C while waiting is an InterruptedError', async () => {
    const kube = new FakeKube();
    const uploads: Uploads = { done: [] };
    fakeOperator(kube, uploads, { never: true });
    const e = env();
    const p = deployProject(e, actionDeps(e, kube, { uploads }), { project: project('node-kubectl'), timeoutMs: 60_000 });
    await until('the upload', () => uploads.done.length === 1, 100_000);
    e.abort();
    await expect(p).rejects.toBeInstanceOf(InterruptedError);
  }, 30_000);
});
