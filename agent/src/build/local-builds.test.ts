// Local builds end to end without a cluster: the real loader and renderer on a project in a temp folder,
// a real custom build script (a shell script recording its arguments), the real .dsa cache, and the
// real dockerode client pointed at a socket where no daemon listens (the kaniko fallback).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DevSession, ProjectConfig } from '@dsa/api';
import { testEnv } from '../devloop/dev-loop.test-util.js';
import { defaultServices } from '../project/project-services.js';
import { readBuildCache } from './build-cache.js';
import { runCustomBuild } from './custom-builder.js';
import { LocalBuildError } from './errors.js';
import { buildLocalImages, planLocalBuilds } from './index.js';

let dir: string;
let NOWHERE: Record<string, string>;

const CONFIG = `version: v2beta1
name: lb
images:
  app:
    image: reg.local:5000/lb/app
    tags: [dev]
    custom:
      command: ./build.sh
      args: [--context, .]
      imageFlag: --image
      skipImageArg: false
      appendArgs: ["--tag-only=\${runtime.images.app.tag}"]
      onChange: [src/**]
  script:
    image: reg.local:5000/lb/script
    custom:
      command: |-
        echo "script \${runtime.images.script.image}:\${runtime.images.script.tag}" >> calls.log
  web:
    image: reg.local:5000/lb/web
    docker: {}
  off:
    image: reg.local:5000/lb/off
    tags: ["1.0"]
deployments:
  k:
    kubectl:
      manifests: [kube]
`;

async function load(text = CONFIG): Promise<{ project: ProjectConfig; sessions: DevSession[] }> {
  await writeFile(path.join(dir, 'devspace.yaml'), text);
  const services = await defaultServices();
  const project = await services.loadProject({ configPath: path.join(dir, 'devspace.yaml'), profiles: [], vars: {}, env: {}, isTTY: false, checkFiles: true });
  const r = await services.renderProject(project, { namespace: 'ns', owner: { user: 'u', host: 'h' }, checkFiles: true });
  return { project, sessions: r.sessions as unknown as DevSession[] };
}

const calls = async () => (await readFile(path.join(dir, 'calls.log'), 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-local-builds-'));
  // A daemon nobody runs, and a build cache of this test's own.
  NOWHERE = { DOCKER_HOST: 'unix:///nonexistent/dsa-test/docker.sock', DSA_CACHE: path.join(dir, '.cache') };
  await mkdir(path.join(dir, 'src'));
  await mkdir(path.join(dir, 'kube'));
  await writeFile(path.join(dir, 'src/main.go'), 'package main\n');
  await writeFile(path.join(dir, 'kube/d.yaml'), 'kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n');
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  // No Dockerfile needed for custom builds: `app` and `script` use none (the one above is web's).
  await writeFile(path.join(dir, 'build.sh'), '#!/bin/sh\necho "build.sh $*" >> calls.log\necho "building…"\n');
  await chmod(path.join(dir, 'build.sh'), 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local builds', () => {
  it('plans docker and custom images only; custom images are rendered as built by the agent with a content tag', async () => {
    const { project, sessions } = await load();
    const jobs = planLocalBuilds(project, 'ns', sessions);
    expect(jobs.map((j) => [j.specName, j.engine, j.userTags])).toEqual([
      ['app', 'custom', ['dev']],
      ['script', 'custom', []],
      ['web', 'docker', []],
    ]);
    const images = sessions[0]!.spec.images!;
    expect(images.find((i) => i.name === 'app')).toMatchObject({ skip: true, tags: [jobs[0]!.tag, 'dev'] });
    expect(images.find((i) => i.name === 'web')).toMatchObject({ context: { upload: {} } });
    expect(images.find((i) => i.name === 'off')!.skip).toBeUndefined();
  });

  it('custom builds run with DevSpace\'s arguments; docker without a daemon falls back to kaniko; results recorded', async () => {
    const { project, sessions } = await load();
    const env = testEnv();
    const out = await buildLocalImages(env, project, 'ns', sessions, { timeoutMs: 30_000, processEnv: { ...process.env, ...NOWHERE } });
    const tag = planLocalBuilds(project, 'ns', sessions)[0]!.tag;
    const scriptTag = planLocalBuilds(project, 'ns', sessions)[1]!.tag;
    expect((await calls()).sort()).toEqual(
      [`build.sh --context . --image reg.local:5000/lb/app:${tag} --image reg.local:5000/lb/app:dev --tag-only=${tag}`, `script reg.local:5000/lb/script:${scriptTag}`].sort(),
    );
    expect(env.lines).toContain('info:   app | building…');
    expect(env.lines.some((l) => /image web: no Docker daemon answers at unix:\/\/\/nonexistent\/dsa-test\/docker\.sock .*; building it in the cluster with kaniko/.test(l))).toBe(true);
    const images = out[0]!.spec.images!;
    expect(images.find((i) => i.name === 'app')).toMatchObject({ skip: true, tags: [tag, 'dev'] });
    expect(images.find((i) => i.name === 'app')!.context).toBeUndefined();
    // The fallback: web stays an in-cluster build.
    expect(images.find((i) => i.name === 'web')).toMatchObject({ context: { upload: {} } });
    const cache = await readBuildCache(dir, NOWHERE.DSA_CACHE!);
    expect(cache.images['devspace.yaml##app']).toMatchObject({ image: 'reg.local:5000/lb/app', tag, engine: 'custom' });
  });

  it('onChange: unchanged files → not built again; a changed file → a new tag and a build; without onChange always built', async () => {
    await rm(path.join(dir, 'calls.log'), { force: true });
    const first = await load();
    await buildLocalImages(testEnv(), first.project, 'ns', first.sessions, { timeoutMs: 30_000, processEnv: NOWHERE });
    expect((await calls()).map((c) => c.split(' ')[0])).toEqual(['script']);

    await writeFile(path.join(dir, 'src/main.go'), 'package main // changed\n');
    await rm(path.join(dir, 'calls.log'), { force: true });
    const second = await load();
    const oldTag = planLocalBuilds(first.project, 'ns', first.sessions)[0]!.tag;
    const newTag = planLocalBuilds(second.project, 'ns', second.sessions)[0]!.tag;
    expect(newTag).not.toBe(oldTag);
    await buildLocalImages(testEnv(), second.project, 'ns', second.sessions, { timeoutMs: 30_000, processEnv: NOWHERE });
    expect((await calls()).some((c) => c.includes(`app:${newTag}`))).toBe(true);

    // --skip-build references the last local build; -b builds even when unchanged.
    await rm(path.join(dir, 'calls.log'), { force: true });
    const skipped = await buildLocalImages(testEnv(), second.project, 'ns', second.sessions, { timeoutMs: 30_000, processEnv: NOWHERE, skipBuild: true });
    expect(await calls()).toEqual([]);
    expect(skipped[0]!.spec.images!.find((i) => i.name === 'app')!.tags).toEqual([newTag, 'dev']);
    await buildLocalImages(testEnv(), second.project, 'ns', second.sessions, { timeoutMs: 30_000, processEnv: NOWHERE, force: true });
    expect((await calls()).length).toBe(2);
  });

  it('docker.disableFallback without a daemon is an error naming the image and the daemon', async () => {
    const { project, sessions } = await load(CONFIG.replace('docker: {}', 'docker: {disableFallback: true}'));
    const err = await buildLocalImages(testEnv(), project, 'ns', sessions, { timeoutMs: 30_000, processEnv: NOWHERE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalBuildError);
    expect((err as Error).message).toMatch(/^image web: no Docker daemon answers at unix:\/\/\/nonexistent\/dsa-test\/docker\.sock .*, and docker\.disableFallback is set$/);
  });

  it('a failing custom command fails the build with its exit code and last lines', async () => {
    const { project, sessions } = await load(CONFIG.replace('command: ./build.sh', 'command: ./fail.sh'));
    await writeFile(path.join(dir, 'fail.sh'), '#!/bin/sh\necho "step 1"\necho "compiler says no" >&2\nexit 3\n');
    await chmod(path.join(dir, 'fail.sh'), 0o755);
    const err = (await buildLocalImages(testEnv(), project, 'ns', sessions, { timeoutMs: 30_000, processEnv: NOWHERE, force: true }).catch((e: unknown) => e)) as LocalBuildError;
    expect(err.message).toBe('image app: custom build command ./fail.sh exited with code 3');
    expect(err.outputTail).toEqual(expect.arrayContaining(['step 1', 'compiler says no']));
  });
});

describe('runCustomBuild', () => {
  it('kills the command (and its children) when the timeout passes', async () => {
    const t0 = Date.now();
    const err = await runCustomBuild({ file: 'sh', args: ['-c', 'sleep 30 & sleep 30'], shell: true }, { cwd: dir, env: process.env, output: () => undefined, signal: new AbortController().signal, timeoutMs: 300, what: 'image t' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('image t: custom build command did not finish within 0.3s');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('a missing program is a one-line error', async () => {
    const err = await runCustomBuild({ file: './nope.sh', args: ['x'], shell: false }, { cwd: dir, env: process.env, output: () => undefined, signal: new AbortController().signal, timeoutMs: 5_000, what: 'image t' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^image t: custom build command \.\/nope\.sh not found/);
  });
});
