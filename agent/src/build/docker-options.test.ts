// DevSpace's docker build options from a devspace.yaml to the daemon: the real loader, renderer and local
// builder, the real dockerode client, and a loopback server in place of the daemon (fake-docker-daemon).
// v2beta1 `network`, `target`, `buildArgs`, `skipPush` and `docker.preferMinikube` are what is checked.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DevSession, ProjectConfig } from '@dsa/api';
import { testEnv } from '../devloop/dev-loop.test-util.js';
import { defaultServices } from '../project/project-services.js';
import { fakeDockerDaemon, type SeenDockerRequest } from './fake-docker-daemon.test-util.js';
import { buildLocalImages } from './index.js';
import { defaultLocalBuildDeps } from './local-builds.js';

let dir: string;
let daemon: { port: number; seen: SeenDockerRequest[]; close: () => Promise<void> };

const config = (extra: string) => `version: v2beta1
name: opts
images:
  web:
    image: reg.local:5000/opts/web
    buildArgs: {NODE_ENV: development}
    target: dev
    network: host
${extra}
deployments:
  k:
    kubectl:
      manifests: [kube.yaml]
`;

async function load(text: string): Promise<{ project: ProjectConfig; sessions: DevSession[] }> {
  await writeFile(path.join(dir, 'devspace.yaml'), text);
  const services = await defaultServices();
  const project = await services.loadProject({ configPath: path.join(dir, 'devspace.yaml'), profiles: [], vars: {}, env: {}, isTTY: false, checkFiles: true });
  const r = await services.renderProject(project, { namespace: 'ns', owner: { user: 'u', host: 'h' }, checkFiles: true });
  return { project, sessions: r.sessions as unknown as DevSession[] };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-docker-options-'));
  await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch AS dev\n');
  await writeFile(path.join(dir, 'kube.yaml'), 'kind: ConfigMap\napiVersion: v1\nmetadata: {name: x}\n');
  daemon = await fakeDockerDaemon();
});

afterAll(async () => {
  await daemon.close();
  await rm(dir, { recursive: true, force: true });
});

const requests = () => daemon.seen.filter((s) => s.path !== '/_ping').map((s) => `${s.method} ${s.path}`);
const processEnv = () => ({ DOCKER_HOST: `tcp://127.0.0.1:${daemon.port}`, DSA_CACHE: path.join(dir, '.cache'), PATH: process.env.PATH });

describe('docker options from devspace.yaml', () => {
  it('network, target and buildArgs reach the build; skipPush: true pushes nothing, and the image is deployed as built', async () => {
    daemon.seen.length = 0;
    const { project, sessions } = await load(config('    skipPush: true\n    docker: {}'));
    const out = await buildLocalImages(testEnv(), project, 'ns', sessions, { timeoutMs: 30_000, force: true, processEnv: processEnv() });
    expect(requests()).toEqual(['POST /build']);
    const build = daemon.seen.find((s) => s.path === '/build')!;
    expect(build.query.get('networkmode')).toBe('host');
    expect(build.query.get('target')).toBe('dev');
    expect(JSON.parse(build.query.get('buildargs') ?? '{}')).toEqual({ NODE_ENV: 'development' });
    expect(out[0]!.spec.images!.find((i) => i.name === 'web')).toMatchObject({ skip: true });
  });

  it('without skipPush every tag is pushed', async () => {
    daemon.seen.length = 0;
    const { project, sessions } = await load(config('    docker: {}'));
    await buildLocalImages(testEnv(), project, 'ns', sessions, { timeoutMs: 30_000, force: true, processEnv: processEnv() });
    expect(requests()).toEqual(['POST /build', 'POST /images/reg.local:5000/opts/web/push']);
  });

  it('preferMinikube (default true) on a minikube context builds with minikube\'s daemon and pushes nothing; preferMinikube: false keeps DOCKER_HOST', async () => {
    const minikubeCalls: string[] = [];
    const deps = {
      ...defaultLocalBuildDeps,
      minikubeDockerEnv: async () => {
        minikubeCalls.push('docker-env');
        return `DOCKER_HOST=tcp://127.0.0.1:${daemon.port}\nMINIKUBE_ACTIVE_DOCKERD=minikube\n`;
      },
    };
    daemon.seen.length = 0;
    let loaded = await load(config('    docker: {}'));
    const nowhere = { ...processEnv(), DOCKER_HOST: 'unix:///nonexistent/dsa-test/docker.sock' };
    const env = testEnv();
    await buildLocalImages(env, loaded.project, 'ns', loaded.sessions, { timeoutMs: 30_000, force: true, kubeContext: 'minikube', processEnv: nowhere }, deps);
    expect(minikubeCalls).toEqual(['docker-env']);
    expect(requests()).toEqual(['POST /build']);
    expect(env.lines.some((l) => l.includes("building with minikube's Docker daemon"))).toBe(true);

    daemon.seen.length = 0;
    minikubeCalls.length = 0;
    loaded = await load(config('    docker: {preferMinikube: false}'));
    await buildLocalImages(testEnv(), loaded.project, 'ns', loaded.sessions, { timeoutMs: 30_000, force: true, kubeContext: 'minikube', processEnv: processEnv() }, deps);
    expect(minikubeCalls).toEqual([]);
    expect(requests()).toEqual(['POST /build', 'POST /images/reg.local:5000/opts/web/push']);
  });
});
