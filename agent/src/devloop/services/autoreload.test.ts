// Auto-reload: what it watches (pure), and the service on a real folder in the real runner: a burst
// of edits is one redeploy, a change during a redeploy is another one after it, a failed redeploy
// leaves the loop running.
import { afterEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ProjectConfig } from '@dsa/api';
import { FakeKube, session } from '../../session/fake-kube.test-util.js';
import { deferred, testEnv, unusedClients, type TestEnv } from '../dev-loop.test-util.js';
import { runDevServices } from '../runner.js';
import { autoReloadService, autoReloadWatchList, changedPaths, snapshot } from './autoreload.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(tmpdir(), 'dsa-autoreload-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
};

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('autoReloadWatchList', () => {
  const image = (name: string, dockerfile: string, disabled = false) => ({ name, dockerfile, disabled }) as ProjectConfig['images'][number];

  it('autoReload paths, the named deployments\' manifests and charts, the named images\' Dockerfiles and every built image\'s Dockerfile', () => {
    const project = {
      dev: { pods: [], interactive: false, open: [], autoReload: { paths: ['/p/config/**', '/p/.env'], deployments: ['web', 'chart', 'packed', 'remote', 'missing'], images: ['old'] } },
      deployments: [
        { kind: 'kubectl', name: 'web', manifests: ['/p/k8s/deploy.yaml', '/p/k8s/svc.yaml'], kustomize: false, updateImageTags: true },
        { kind: 'helm', name: 'chart', chart: { path: '/p/chart' }, valuesFiles: ['/p/values.yaml'], values: {}, updateImageTags: true },
        { kind: 'helm', name: 'packed', chart: { path: '/p/c-1.0.0.tgz' }, valuesFiles: [], values: {}, updateImageTags: true },
        { kind: 'helm', name: 'remote', chart: { name: 'nginx', repo: 'https://charts' }, valuesFiles: [], values: {}, updateImageTags: true },
        { kind: 'kubectl', name: 'other', manifests: ['/p/other.yaml'], kustomize: false, updateImageTags: true },
      ],
      images: [image('api', '/p/Dockerfile'), image('old', '/p/old/Dockerfile', true), image('web', '/p/web/Dockerfile')],
    } as unknown as ProjectConfig;
    expect(autoReloadWatchList(project)).toEqual([
      '/p/config/**',
      '/p/.env',
      '/p/k8s/deploy.yaml',
      '/p/k8s/svc.yaml',
      '/p/chart/**',
      '/p/values.yaml',
      '/p/c-1.0.0.tgz',
      '/p/old/Dockerfile',
      '/p/Dockerfile',
      '/p/web/Dockerfile',
    ]);
    expect(autoReloadWatchList({ ...project, dev: { ...project.dev, autoReload: undefined }, images: [] })).toEqual([]);
  });

  it('changedPaths: created, changed and deleted', () => {
    const a = new Map([
      ['/a', '1:1'],
      ['/b', '1:1'],
    ]);
    const b = new Map([
      ['/a', '1:1'],
      ['/b', '2:1'],
      ['/c', '1:1'],
    ]);
    expect(changedPaths(a, b)).toEqual(['/b', '/c']);
    expect(changedPaths(b, a)).toEqual(['/b', '/c']);
    expect(changedPaths(a, a)).toEqual([]);
  });

  it('snapshot expands globs on the real file system', async () => {
    const d = tmp();
    fs.mkdirSync(path.join(d, 'config/deep'), { recursive: true });
    fs.writeFileSync(path.join(d, 'config/deep/a.yaml'), 'a');
    fs.writeFileSync(path.join(d, 'Dockerfile'), 'FROM x');
    const s = await snapshot([path.join(d, 'config/**'), path.join(d, 'Dockerfile'), path.join(d, 'missing')]);
    expect([...s.keys()].map((k) => path.relative(d, k)).sort()).toEqual(['Dockerfile', 'config', 'config/deep', 'config/deep/a.yaml']);
  });
});

describe('autoreload service', () => {
  const envs: TestEnv[] = [];
  afterEach(() => {
    for (const e of envs.splice(0)) e.abort();
  });

  function start(watch: string[], redeploy: (signal: AbortSignal) => Promise<void>, projectDir: string) {
    const kube = new FakeKube();
    const stored = kube.push(session('web'));
    const env = testEnv();
    envs.push(env);
    const done = runDevServices([autoReloadService({ watch, redeploy, pollMs: 25 })], { env, kube, clients: unusedClients(), initial: stored, projectDir });
    done.catch(() => undefined);
    return { env, done };
  }

  it('a changed Dockerfile redeploys once per burst; a change during a redeploy redeploys again after it; a failure leaves the loop running', async () => {
    const d = tmp();
    const dockerfile = path.join(d, 'Dockerfile');
    fs.writeFileSync(dockerfile, 'FROM node:20\n');
    const calls: Array<ReturnType<typeof deferred<void>>> = [];
    const t = start(
      [dockerfile, path.join(d, 'config/**')],
      (signal) => {
        const c = deferred<void>();
        signal.addEventListener('abort', () => c.reject(new Error('interrupted')), { once: true });
        calls.push(c);
        return c.promise;
      },
      d,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toHaveLength(0); // nothing changed yet

    // An editor saving in a few writes.
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(dockerfile, `FROM node:20\nRUN echo ${i}\n`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor('the redeploy', () => calls.length === 1);
    expect(t.env.lines).toContain('info: auto-reload: Dockerfile changed; building and deploying again');
    // A new file under a watched glob while that redeploy runs: one more redeploy, after it.
    fs.mkdirSync(path.join(d, 'config'));
    fs.writeFileSync(path.join(d, 'config/app.yaml'), 'x: 1');
    await new Promise((r) => setTimeout(r, 150));
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await waitFor('the second redeploy', () => calls.length === 2);
    expect(t.env.lines).toContain('info: auto-reload: config, config/app.yaml changed; building and deploying again');
    calls[1]!.reject(new Error('the build of image api failed'));
    await waitFor('the error', () => t.env.lines.includes('error: auto-reload: the build of image api failed'));

    // Still watching.
    fs.writeFileSync(dockerfile, 'FROM node:22\n');
    await waitFor('a third redeploy', () => calls.length === 3);
    // Ctrl-C during a redeploy interrupts it and ends the loop without an error line.
    t.env.abort();
    expect(await t.done).toBeUndefined();
    expect(t.env.lines.filter((l) => l.startsWith('error:'))).toHaveLength(1);
  }, 30_000);

  it('does not run with nothing to watch', () => {
    expect(autoReloadService({ watch: [], redeploy: async () => undefined }).create({} as never, session('web'))).toBeUndefined();
  });
});
