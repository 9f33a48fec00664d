// Every DevSpace example in agent/test/fixtures/devspace-examples loads (file checks off: their Dockerfiles,
// manifests and charts are not next to them), with assertions on what it means.
import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HelmDeploymentConfig, KubectlDeploymentConfig, ProjectConfig } from '../../../api/src/model/project.js';
import { ConfigError } from './errors.js';
import { loadProject } from './load.js';
import type { LoadOptions } from './types.js';

// DevSpace's examples, vendored (agent/test/fixtures/devspace-examples/README.md); DSA_DEVSPACE_EXAMPLES overrides.
const DIR = process.env.DSA_DEVSPACE_EXAMPLES ?? fileURLToPath(new URL('../../test/fixtures/devspace-examples', import.meta.url));
const ex = (f: string) => path.join(DIR, f);

function load(file: string, extra: Partial<LoadOptions> = {}): Promise<ProjectConfig> {
  return loadProject({ configPath: ex(file), checkFiles: false, env: {}, username: 'alice', gitCommit: async () => 'abc1234', now: new Date(1_700_000_000_000), ...extra });
}

const helm = (p: ProjectConfig, i: number) => p.deployments[i] as HelmDeploymentConfig;

describe('DevSpace examples', () => {
  it('covers all 15 files', () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith('.yaml'))).toHaveLength(15);
  });

  it('v3.5.18-quickstart: component deployment, overrideImages, labelSelector dev pod', async () => {
    const p = await load('v3.5.18-quickstart.yaml');
    expect(p.sourceVersion).toBe('v1beta2');
    expect(p.vars).toEqual({ DEVSPACE_USERNAME: 'alice' });
    expect(p.images).toEqual([
      expect.objectContaining({ name: 'default', image: 'dscr.io/alice/devspace', createPullSecret: true, dockerfile: path.join(DIR, 'Dockerfile'), context: DIR, tags: [], requestedEngine: 'kaniko' }),
    ]);
    expect(helm(p, 0)).toMatchObject({ name: 'quickstart', kind: 'helm', chart: { component: true }, values: { containers: [{ image: 'dscr.io/alice/devspace' }], service: { ports: [{ port: 3000 }] } } });
    const byName = Object.fromEntries(p.dev.pods.map((x) => [x.name, x]));
    expect(byName.quickstart?.selector).toEqual({ labelSelector: { 'app.kubernetes.io/component': 'quickstart' } });
    expect(byName.quickstart?.ports).toEqual([{ localPort: 3000, remotePort: 3000 }]);
    expect(byName.quickstart?.sync).toEqual([expect.objectContaining({ localPath: DIR, containerPath: '.', excludePaths: ['node_modules'] })]);
    expect(byName.default).toMatchObject({ selector: { imageName: 'default' }, command: ['sleep', '999999999999'] });
    expect(p.dev.interactive).toBe(true);
    // createPullSecret is parsed, not acted on: no pull secret is created.
    expect(p.warnings.map((w) => w.path)).toEqual(['images.default.createPullSecret']);
  });

  it('v3.5.18-microservices: kubectl glob, local chart, terminal grouped with the same selector', async () => {
    const p = await load('v3.5.18-microservices.yaml');
    expect(p.images.map((i) => [i.name, i.dockerfile, i.context])).toEqual([
      ['node', path.join(DIR, 'node/Dockerfile'), path.join(DIR, 'node')],
      ['php', path.join(DIR, 'php/Dockerfile'), path.join(DIR, 'php')],
    ]);
    expect(p.deployments[0] as KubectlDeploymentConfig).toMatchObject({ kind: 'kubectl', manifests: [path.join(DIR, 'node/kube/*')], kustomize: false });
    expect(helm(p, 1).chart).toEqual({ path: path.join(DIR, 'php/chart') });
    const node = p.dev.pods.find((x) => x.name === 'devspace-node');
    expect(node).toMatchObject({ selector: { labelSelector: { release: 'devspace-node' } }, ports: [{ localPort: 3000, remotePort: 3000 }], terminal: { enabled: true } });
    expect(node?.sync[0]).toMatchObject({ localPath: path.join(DIR, 'node'), excludePaths: ['node_modules'] });
    expect(p.dev.pods.find((x) => x.name === 'devspace-php')?.sync[0]?.localPath).toBe(path.join(DIR, 'php'));
    expect(p.dev.pods.find((x) => x.selector.imageName === 'node')?.command).toEqual(['sleep', '9999999999']);
  });

  it('v3.5.18-hooks: when before/after images/deployments become events', async () => {
    const p = await load('v3.5.18-hooks.yaml');
    expect(p.hooks.map((h) => [h.args[0], h.events])).toEqual([
      ['before image building', ['before:build']],
      ['after image building', ['after:build']],
      ['before deploying', ['before:deploy']],
      ['after deploying', ['after:deploy']],
      ['before deployment my-deployment', ['before:deploy:my-deployment']],
      ['after deployment my-deployment', ['after:deploy:my-deployment']],
    ]);
    expect(p.hooks.every((h) => h.command === 'echo')).toBe(true);
  });

  it('v3.5.18-kaniko: kaniko cache, local chart, sync of the project root', async () => {
    const p = await load('v3.5.18-kaniko.yaml');
    expect(p.images[0]).toMatchObject({ image: 'devspacecloud/devspace', requestedEngine: 'kaniko', kaniko: { cache: true } });
    expect(helm(p, 0)).toMatchObject({ name: 'devspace-default', chart: { path: path.join(DIR, 'chart') } });
    const pod = p.dev.pods.find((x) => x.selector.labelSelector);
    expect(pod?.ports).toEqual([{ localPort: 8080, remotePort: 8080 }]);
    expect(pod?.sync).toEqual([expect.objectContaining({ localPath: DIR, containerPath: '.' })]);
  });

  it('v3.5.18-dependencies: path and git dependencies (missing folders are warnings with checkFiles off)', async () => {
    const p = await load('v3.5.18-dependencies.yaml', { env: { XDG_CACHE_HOME: '/nonexistent-dsa-cache' } });
    expect(p.dependencies.map((d) => [d.name, d.source, d.namespace])).toEqual([
      ['dependency1', { path: path.join(DIR, 'dependency1') }, 'dependency-1'],
      ['dependency2', { path: path.join(DIR, 'dependency2') }, undefined],
      ['example-dependency', { git: { url: 'https://github.com/devspace-cloud/example-dependency.git' } }, undefined],
    ]);
    expect(p.dependencies.every((d) => d.project === undefined)).toBe(true);
    expect(p.warnings.map((w) => [w.path, w.pos?.line])).toEqual([
      ['dependencies[0].source.path', 9],
      ['dependencies[1].source.path', 12],
      ['dependencies[2].source.git', 14],
    ]);
    // Without file checks nothing is fetched: only the cache is looked at.
    expect(p.warnings[2]?.message).toBe('git dependency https://github.com/devspace-cloud/example-dependency.git is not in the cache yet (dsa deploy fetches it); not loaded');
  });

  it('v4.0.0-variables: rejected for the typo key `command:` before any variable is asked', async () => {
    const err = await load('v4.0.0-variables.yaml', { isTTY: true, prompt: async () => { throw new Error('must not prompt'); } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toBe(`${ex('v4.0.0-variables.yaml')}:9:1: command: unknown field "command" (did you mean "commands"?)`);
    expect((err as ConfigError).exitCode).toBe(2);
  });

  it('v4.0.0-multiple-profiles: no profile, then each profile (replace + remove patches)', async () => {
    const base = await load('v4.0.0-multiple-profiles.yaml');
    expect(base.images.map((i) => i.name)).toEqual(['service-image-1', 'service-image-2']);
    expect(base.deployments.map((d) => d.name)).toEqual(['service-1', 'service-2']);
    expect(base.dev.pods).toEqual([]);
    expect(base.commands).toEqual([
      { name: 'dev-service1', command: 'devspace dev --profile=dev-service1' },
      { name: 'dev-service2', command: 'devspace dev --profile=dev-service2-only' },
    ]);

    const one = await load('v4.0.0-multiple-profiles.yaml', { profiles: ['dev-service1'] });
    expect(one.profiles).toEqual(['dev-service1']);
    expect(one.dev.interactive).toBe(true);
    expect(one.dev.pods).toEqual([
      expect.objectContaining({ name: 'service-image-1', selector: { imageName: 'service-image-1' }, ports: [{ localPort: 8080, remotePort: 8080 }], command: ['sleep'], args: ['999999999'], terminal: { enabled: true } }),
    ]);
    expect(one.dev.pods[0]?.sync[0]?.localPath).toBe(path.join(DIR, 'service1'));

    const two = await load('v4.0.0-multiple-profiles.yaml', { profiles: ['dev-service2-only'] });
    expect(two.images.map((i) => i.name)).toEqual(['service-image-2']);
    expect(two.deployments.map((d) => d.name)).toEqual(['service-2']);
    expect(two.dev.pods.map((x) => x.selector)).toEqual([{ imageName: 'service-image-2' }]);
  });

  it('v4.14.0-variables: vars from --var, defaults, validationPattern; component chart via helm', async () => {
    const p = await load('v4.14.0-variables.yaml', { vars: { SELECT: 'deployment-2' } });
    expect(helm(p, 0)).toMatchObject({ name: 'deployment-2', chart: { component: true }, values: { containers: [{ image: 'nginx' }] } });
    expect(p.vars).toEqual({ SELECT: 'deployment-2', IMAGE: 'nginx' });
    expect(p.commands).toEqual([{ name: 'auto', command: 'devspace deploy --var SELECT=deployment-1 --var IMAGE=nginx', description: 'This command runs devspace deploy and sets some variables automatically' }]);
    const err = await load('v4.14.0-variables.yaml').catch((e: unknown) => String(e));
    expect(err).toBe(`${ex('v4.14.0-variables.yaml')}:5:9: deployments[0].name: variable SELECT is not set (pass --var SELECT=…, set SELECT in the environment, or run in a terminal to be asked)`);
  });

  it('v4.14.0-hot-reload-container-restart: restartContainer acted on, injectRestartHelper warned', async () => {
    const p = await load('v4.14.0-hot-reload-container-restart.yaml');
    expect(helm(p, 0)).toMatchObject({ chart: { component: true }, values: { containers: [{ image: 'myusername/devspace' }], service: { ports: [{ port: 8080 }] } } });
    expect(p.dev.pods).toEqual([expect.objectContaining({ name: 'default', selector: { imageName: 'default' }, ports: [{ localPort: 8080, remotePort: 8080 }] })]);
    expect(p.dev.pods[0]?.sync[0]?.onUpload).toEqual({ restartContainer: true });
    expect(p.warnings).toEqual([expect.objectContaining({ path: 'images.default.injectRestartHelper', pos: { file: ex('v4.14.0-hot-reload-container-restart.yaml'), line: 11, col: 5 } })]);
  });

  it('v6.3.21-quickstart: chart-less helm is the component chart; dev pod by imageSelector', async () => {
    const p = await load('v6.3.21-quickstart.yaml');
    expect(p.name).toBe('quickstart');
    expect(p.sourceVersion).toBe('v2beta1');
    expect(helm(p, 0)).toMatchObject({ name: 'quickstart', chart: { component: true }, values: { containers: [{ image: 'loftsh/javascript:latest' }] } });
    expect(p.dev.pods).toEqual([
      expect.objectContaining({
        name: 'my-dev',
        selector: { imageSelector: 'loftsh/javascript:latest' },
        ports: [{ localPort: 3000, remotePort: 3000 }],
        terminal: { enabled: true, command: ['sh', '-c', './devspace_start.sh'] },
      }),
    ]);
    expect(p.dev.open).toEqual(['http://localhost:3000']);
    // `path: ./` is one part, so DevSpace uses it for both sides: the working directory in the container.
    expect(p.dev.pods[0]?.sync[0]).toMatchObject({ localPath: DIR, containerPath: './' });
    expect(p.warnings.map((w) => w.path).sort()).toEqual(['dev.my-dev.open', 'dev.my-dev.ssh', 'dev.my-dev.sync[0].excludeFile']);
  });

  it('v6.3.21-hot-reload-container-restart: vars map shorthand, imageSelector of a built image', async () => {
    const p = await load('v6.3.21-hot-reload-container-restart.yaml');
    expect(p.vars).toEqual({ IMAGE: 'myusername/devspace' });
    expect(p.images[0]).toMatchObject({ name: 'my-image', image: 'myusername/devspace' });
    expect(p.dev.pods[0]).toMatchObject({ selector: { imageName: 'my-image' }, command: ['go', 'run', 'main.go'], logs: { enabled: true }, ports: [{ localPort: 8080, remotePort: 8080 }] });
    expect(p.dev.pods[0]?.sync[0]?.onUpload).toEqual({ restartContainer: true });
    expect(p.warnings.map((w) => w.path)).toEqual(['images.my-image.rebuildStrategy']);
  });

  it('v6.3.21-dependencies: dependency map, runtime variable kept verbatim with a warning', async () => {
    const p = await load('v6.3.21-dependencies.yaml');
    expect(p.dependencies.map((d) => [d.name, d.source])).toEqual([
      ['dependency1', { path: path.join(DIR, 'dependency1') }],
      ['dependency2', { path: path.join(DIR, 'dependency2') }],
      ['dependency3', { git: { url: 'https://github.com/devspace-cloud/example-dependency.git' } }],
    ]);
    expect(p.dev.pods[0]?.selector).toEqual({ imageSelector: '${runtime.dependencies.dependency1.images.default}' });
    expect(p.warnings.map((w) => w.path)).toEqual(expect.arrayContaining(['dependencies.dependency2.pipeline', 'dev.my-dev.imageSelector']));
  });

  it('v6.3.21-custom-builder: a custom build the agent runs (a script: no image argument); runtime vars left for build time', async () => {
    const p = await load('v6.3.21-custom-builder.yaml');
    expect(p.images[0]).toMatchObject({ name: 'my-image', image: 'myusername/devspace', requestedEngine: 'custom' });
    expect(p.images[0]?.custom).toEqual({
      command: expect.stringContaining('docker build -t ${runtime.images.my-image.image}:${runtime.images.my-image.tag}'),
      args: [],
      appendArgs: [],
      imageTagOnly: false,
      imageArg: false,
      onChange: [path.join(DIR, 'main.go')],
    });
    expect(p.deployments[0]).toMatchObject({ kind: 'kubectl', manifests: [path.join(DIR, 'kube')] });
    expect(p.dev.pods[0]?.selector).toEqual({ imageName: 'my-image' });
    expect(p.warnings).toEqual([]);
  });

  it('v6.3.21-spring-boot-mysql: two component deployments, sync path local:remote', async () => {
    const p = await load('v6.3.21-spring-boot-mysql.yaml');
    expect(p.deployments.map((d) => d.name)).toEqual(['mysql', 'spring-boot']);
    expect(helm(p, 0).values).toMatchObject({ volumes: [{ name: 'mysql-data', size: '5Gi' }], service: { name: 'mysql', ports: [{ port: 3306 }] } });
    expect(helm(p, 1).values).toEqual({ containers: [{ image: 'maven:3.8.4-eclipse-temurin-16' }] });
    expect(p.images).toEqual([]);
    expect(p.dev.pods[0]).toMatchObject({ name: 'spring-boot', selector: { imageSelector: 'maven:3.8.4-eclipse-temurin-16' }, workingDir: '/src', command: ['./run.sh'] });
    expect(p.dev.pods[0]?.sync[0]).toMatchObject({ localPath: DIR, containerPath: '/src', excludePaths: ['.git/', 'target/'], onUpload: { restartContainer: true } });
    expect(p.dev.open).toEqual(['http://localhost:8080']);
  });

  it('v6.3.21-inlineManifest: inline manifest, devImage', async () => {
    const p = await load('v6.3.21-inlineManifest.yaml');
    const k = p.deployments[0] as KubectlDeploymentConfig;
    expect(k.manifests).toEqual([]);
    expect(k.inlineManifest).toContain('kind: Deployment');
    expect(k.inlineManifest).toContain('targetPort: 3000');
    expect(p.dev.pods[0]).toMatchObject({ devImage: 'loftsh/javascript:latest', selector: { imageSelector: 'mydockeruser/quickstart' } });
    expect(p.dev.pods[0]?.sync[0]?.excludePaths).toEqual(['node_modules']);
  });
});
