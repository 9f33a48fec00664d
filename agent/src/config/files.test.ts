// Fixture projects whose files exist on disk: file checks on (the CLI default), real file system.
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HelmDeploymentConfig, KubectlDeploymentConfig } from '../../../api/src/model/project.js';
import { ConfigError } from './errors.js';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__');
const APP = path.join(FIX, 'app-v1beta9');
const API = path.join(FIX, 'api-v2');

describe('fixture projects with files', () => {
  it('loads a v1beta9 project, expands manifest globs and loads its v2beta1 dependency with profile and vars', async () => {
    const p = await loadProject({ configPath: path.join(APP, 'devspace.yaml'), env: {}, gitCommit: async (dir) => (dir === APP ? 'feed123' : undefined) });
    expect(p.images[0]).toEqual({
      name: 'web',
      image: 'registry.local:5000/team/web',
      tags: ['dev', 'feed123'],
      dockerfile: path.join(APP, 'Dockerfile'),
      context: APP,
      buildArgs: { NODE_ENV: 'development' },
      target: 'dev',
      requestedEngine: 'kaniko',
      kaniko: { cache: true, insecure: true, namespace: 'build', args: ['--verbosity=info'] },
      createPullSecret: false,
      skipPush: false,
      disabled: false,
    });
    expect(p.vars).toEqual({ DEVSPACE_GIT_COMMIT: 'feed123' });
    const web = p.deployments[0] as KubectlDeploymentConfig;
    expect(web.manifests).toEqual([path.join(APP, 'kube/deploy.yaml'), path.join(APP, 'kube/svc.yaml')]);
    expect(web.applyArgs).toEqual(['--server-side']);
    expect(p.deployments[1] as HelmDeploymentConfig).toMatchObject({ chart: { path: path.join(APP, 'chart') }, valuesFiles: [path.join(APP, 'values.dev.yaml')], values: { replicas: 1 }, wait: true, timeoutSeconds: 120 });
    expect(p.dev.pods).toHaveLength(1);
    expect(p.dev.pods[0]).toMatchObject({ name: 'web', selector: { imageName: 'web' }, ports: [{ localPort: 8080, remotePort: 80 }], reversePorts: [{ localPort: 9229, remotePort: 9229 }] });
    expect(p.dev.pods[0]?.sync[0]).toEqual({
      localPath: path.join(APP, 'src'),
      containerPath: '/app/src',
      excludePaths: ['node_modules/'],
      downloadExcludePaths: [],
      uploadExcludePaths: [],
      initialSync: 'preferLocal',
      disableDownload: false,
      disableUpload: false,
      // dev.logs is set, so sync logs are printed (DevSpace 6's upgrade of dev.logs.sync).
      printLogs: true,
      onUpload: { restartContainer: true, exec: [{ command: 'make', args: ['build'], shell: false, where: 'container', trigger: 'batch', onChange: [], once: false, failOnError: true }] },
    });
    expect(p.dev.logs).toEqual({ enabled: true, lastLines: 100, images: ['web'] });
    expect(p.hooks).toEqual([{ command: './notify.sh', args: [], events: ['after:deploy:web'], shell: true, os: [], background: false, silent: false }]);

    const dep = p.dependencies[0];
    expect(dep).toMatchObject({ name: 'api', source: { path: API }, profile: 'light', vars: { API_TAG: 'v1' } });
    const api = dep?.project;
    expect(api?.name).toBe('api');
    expect(api?.profiles).toEqual(['light']);
    expect(api?.images[0]).toMatchObject({ tags: ['v1'], buildArgs: { LIGHT: '1' }, dockerfile: path.join(API, 'api/Dockerfile'), context: path.join(API, 'api') });
    // `manifests: [k8s]` is a folder (DevSpace's quickstart style): read as kubectl -f does, its manifest files.
    expect((api?.deployments[0] as KubectlDeploymentConfig).manifests).toEqual([path.join(API, 'k8s/cm.yaml')]);
    expect(api?.dev.pods.map((x) => [x.name, x.selector])).toEqual([
      ['api-main', { imageName: 'api', containerName: 'main' }],
      ['api-sidecar', { imageName: 'api', containerName: 'sidecar' }],
    ]);
    expect(api?.dev.pods[0]?.ports).toEqual([{ localPort: 3000, remotePort: 80 }]);
    // excludeFile resolves against the sync's local folder (./api), as DevSpace does.
    expect(api?.dev.pods[0]?.sync[0]).toMatchObject({ localPath: path.join(API, 'api'), containerPath: '/srv', excludePaths: ['node_modules', '*.log'] });
    expect(api?.dev.pods[1]?.terminal).toEqual({ enabled: true, command: ['sh', '-c', 'bash'] });
  });

  it('the default gitCommit runner is only called when DEVSPACE_GIT_COMMIT is used, and its absence is a clear error', async () => {
    const e = await loadProject({ configPath: path.join(APP, 'devspace.yaml'), env: {}, gitCommit: async () => undefined }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(String(e)).toMatch(/^.*app-v1beta9\/devspace\.yaml:6:17: images\.web\.tags\[1\]: variable DEVSPACE_GIT_COMMIT is not available: .* is not a git checkout/);
  });

  it('a dependency cycle on disk is an error naming the cycle', async () => {
    const e = await loadProject({ configPath: path.join(FIX, 'cycle-a/devspace.yaml'), env: {} }).catch((x: unknown) => x);
    expect(String(e)).toBe(`${path.join(FIX, 'cycle-b/devspace.yaml')}:4:11: dependencies.back.path: dependency cycle: cycle-a/devspace.yaml -> cycle-b/devspace.yaml -> cycle-a/devspace.yaml`);
  });

  it('a folder without devspace.yaml, a Dockerfile that is a folder, a missing exclude file', async () => {
    const fs = memFileReader({ '/w/devspace.yaml': 'version: v1beta9\ndependencies:\n- source: {path: ./lib}\n', '/w/lib/readme.md': '' });
    expect(String(await loadProject({ configPath: '/w/devspace.yaml', fs, env: {} }).catch((x: unknown) => x))).toBe('/w/devspace.yaml:3:18: dependencies[0].source.path: /w/lib has no devspace.yaml');
    const fs2 = memFileReader({ '/w/devspace.yaml': 'version: v2beta1\nimages:\n  a:\n    image: x\n    dockerfile: sub\n', '/w/sub/x': '' });
    expect(String(await loadProject({ configPath: '/w/devspace.yaml', fs: fs2, env: {} }).catch((x: unknown) => x))).toBe('/w/devspace.yaml:5:17: images.a.dockerfile: Dockerfile /w/sub is a folder, not a file');
    const fs3 = memFileReader({ '/w/devspace.yaml': 'version: v2beta1\ndev:\n  a:\n    labelSelector: {app: a}\n    sync:\n    - path: .:/app\n      excludeFile: .gitignore\n' });
    expect(String(await loadProject({ configPath: '/w/devspace.yaml', fs: fs3, env: {} }).catch((x: unknown) => x))).toBe('/w/devspace.yaml:7:20: dev.a.sync[0].excludeFile: exclude file /w/.gitignore does not exist');
  });

  it('diamond dependencies load once each and are not cycles', async () => {
    const fs = memFileReader({
      '/w/root/devspace.yaml': 'version: v2beta1\ndependencies:\n  b: {path: ../b}\n  c: {path: ../c}\n',
      '/w/b/devspace.yaml': 'version: v2beta1\ndependencies:\n  d: {path: ../d}\n',
      '/w/c/devspace.yaml': 'version: v2beta1\ndependencies:\n  d: {path: ../d}\n',
      '/w/d/devspace.yaml': 'version: v2beta1\nname: d\n',
    });
    const p = await loadProject({ configPath: '/w/root/devspace.yaml', fs, env: {} });
    const d1 = p.dependencies[0]?.project?.dependencies[0]?.project;
    const d2 = p.dependencies[1]?.project?.dependencies[0]?.project;
    expect(d1?.name).toBe('d');
    expect(d1).toBe(d2);
  });

  it('v2beta1 dependencies: disabled is not loaded, the first of profiles is applied; their warnings are reported under their path', async () => {
    const fs = memFileReader({
      '/w/root/devspace.yaml': 'version: v2beta1\ndependencies:\n  a: {path: ../a, disabled: true}\n  b: {path: ../b, profiles: [light, heavy]}\n',
      '/w/a/devspace.yaml': 'version: v2beta1\nname: a\n',
      '/w/b/devspace.yaml': 'version: v2beta1\nname: b\nimages:\n  x: {image: reg/x, createPullSecret: true}\nprofiles:\n- name: light\n  patches: [{op: replace, path: name, value: b-light}]\n',
    });
    const p = await loadProject({ configPath: '/w/root/devspace.yaml', fs, env: {}, checkFiles: false });
    expect(p.dependencies.map((d) => d.name)).toEqual(['b']);
    expect(p.dependencies[0]?.project?.profiles).toEqual(['light']);
    expect(p.dependencies[0]?.project?.name).toBe('b-light');
    expect(p.warnings).toEqual([
      expect.objectContaining({ path: 'dependencies.b.profiles', message: expect.stringContaining('only the first profile (light)') }),
      expect.objectContaining({ path: 'dependencies.b.images.x.createPullSecret', pos: { file: '/w/b/devspace.yaml', line: 4, col: 21 } }),
    ]);
  });

  it('ignoreDependencies loads the dependency but not its own dependencies', async () => {
    const fs = memFileReader({
      '/w/root/devspace.yaml': 'version: v1beta9\ndependencies:\n- source: {path: ../b}\n  ignoreDependencies: true\n',
      '/w/b/devspace.yaml': 'version: v2beta1\ndependencies:\n  missing: {path: ../nowhere}\n',
    });
    const p = await loadProject({ configPath: '/w/root/devspace.yaml', fs, env: {} });
    expect(p.dependencies[0]?.project?.dependencies[0]).toMatchObject({ name: 'missing' });
    expect(p.dependencies[0]?.project?.dependencies[0]?.project).toBeUndefined();
  });
});
