import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import {
  LABELS,
  PLACEHOLDER_DIGEST,
  buildTag,
  compileCrdSchema,
  generateCrds,
  validateDevSession,
  validateImageBuild,
  type CustomResourceDefinition,
  type DependencyConfig,
  type DevPodConfig,
  type HelmDeploymentConfig,
  type ImageConfig,
  type KubectlDeploymentConfig,
  type ProjectConfig,
  type SyncCommandConfig,
  type SyncConfig,
} from '@dsa/api';
import { loadProject } from '../config/load.js';
import { memFileReader } from '../config/mem-fs.js';
import { deepMerge, dnsLabel, kustomizeRequests, planSessions, RenderError, renderProject, renderToJson, renderToYaml, type RenderProjectOptions } from './render-project.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

function image(dir: string, name: string, over: Partial<ImageConfig> = {}): ImageConfig {
  return {
    name,
    image: `registry.local:5000/team/${name.toLowerCase()}`,
    tags: [],
    dockerfile: `${dir}/Dockerfile`,
    context: dir,
    buildArgs: {},
    requestedEngine: 'kaniko',
    kaniko: {},
    createPullSecret: true,
    skipPush: false,
    disabled: false,
    ...over,
  };
}

function project(name: string, dir: string, over: Partial<ProjectConfig> = {}): ProjectConfig {
  return {
    name,
    configPath: `${dir}/devspace.yaml`,
    dir,
    sourceVersion: 'v2beta1',
    profiles: [],
    vars: {},
    images: [],
    deployments: [],
    dev: { pods: [], interactive: false, open: [] },
    dependencies: [],
    hooks: [],
    commands: [],
    warnings: [],
    ...over,
  };
}

const kubectl = (name: string, manifests: string[], over: Partial<KubectlDeploymentConfig> = {}): KubectlDeploymentConfig => ({
  kind: 'kubectl',
  name,
  updateImageTags: true,
  manifests,
  kustomize: false,
  ...over,
});
const helm = (name: string, over: Partial<HelmDeploymentConfig> = {}): HelmDeploymentConfig => ({
  kind: 'helm',
  name,
  updateImageTags: true,
  chart: { component: true },
  values: {},
  valuesFiles: [],
  ...over,
});
const devPod = (name: string, over: Partial<DevPodConfig> = {}): DevPodConfig => ({
  name,
  selector: { imageName: 'api' },
  ports: [],
  reversePorts: [],
  sync: [],
  ...over,
});
const dep = (name: string, p: ProjectConfig | undefined, over: Partial<DependencyConfig> = {}): DependencyConfig => ({
  name,
  source: { path: p?.dir ?? `/deps/${name}` },
  skipBuild: false,
  vars: {},
  ignoreDependencies: false,
  ...(p ? { project: p } : {}),
  ...over,
});

const FILES: Record<string, string> = {
  '/p/k8s/deploy.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n',
  '/p/k8s/svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n',
  '/p/values.yaml': 'replicas: 1\nimage: {repo: a, tag: x}\nlist: [1, 2]\n',
  '/p/values-dev.yaml': 'image: {tag: y}\nlist: [3]\n',
  '/p/empty.yaml': '',
};

function options(over: Partial<RenderProjectOptions> = {}): RenderProjectOptions & { read: string[]; packed: string[] } {
  const read: string[] = [];
  const packed: string[] = [];
  return {
    namespace: 'dev-alice',
    owner: { user: 'alice', host: 'laptop' },
    uploadDigests: { api: D1 },
    inlineFiles: (p) => {
      read.push(p);
      const text = FILES[p];
      if (text === undefined) throw new Error(`ENOENT ${p}`);
      return text;
    },
    packChart: (dir) => {
      packed.push(dir);
      return Buffer.from(`tgz of ${dir}`).toString('base64');
    },
    read,
    packed,
    ...over,
  };
}

const quickstart = () =>
  project('quickstart', '/p', {
    images: [image('/p', 'api', { tags: ['dev'], buildArgs: { NODE_ENV: 'development' }, target: 'dev', kaniko: { cache: true, insecure: true, snapshotMode: 'redo' } })],
    deployments: [kubectl('api', ['/p/k8s/deploy.yaml', '/p/k8s/svc.yaml'])],
    dev: {
      interactive: false,
      open: [],
      pods: [
        devPod('api', {
          selector: { imageName: 'api', containerName: 'api' },
          ports: [{ localPort: 8080, remotePort: 80 }],
          sync: [
            {
              localPath: '/p/src',
              containerPath: '/app',
              excludePaths: ['node_modules/'],
              downloadExcludePaths: [],
              uploadExcludePaths: [],
              initialSync: 'preferLocal',
              disableDownload: false,
              disableUpload: false,
              onUpload: { restartContainer: true, exec: [{ command: 'npm', args: [], shell: false, where: 'container', trigger: 'batch', onChange: [], once: false, failOnError: true }] },
            },
          ],
        }),
      ],
    },
  });

describe('renderProject: one project', () => {
  it('renders the DevSession with images, inlined manifests and dev pods', () => {
    const opts = options();
    const { sessions, imageBuilds, warnings } = renderProject(quickstart(), opts);
    expect(warnings).toEqual([]);
    expect(sessions).toHaveLength(1);
    const s = sessions[0]!;
    expect(s.metadata).toEqual({
      name: 'quickstart',
      namespace: 'dev-alice',
      labels: { [LABELS.managedBy]: 'dsa' },
      annotations: { 'dsa.dev/owner': 'alice@laptop' },
    });
    expect(s.spec).toEqual({
      project: 'quickstart',
      owner: { user: 'alice', host: 'laptop' },
      images: [
        {
          name: 'api',
          image: 'registry.local:5000/team/api',
          tags: ['dev'],
          context: { upload: { digest: D1 } },
          dockerfile: 'Dockerfile',
          buildArgs: { NODE_ENV: 'development' },
          target: 'dev',
          registry: { insecure: true },
          builder: { cache: true, args: ['--snapshot-mode=redo'] },
        },
      ],
      deployments: [{ name: 'api', updateImageTags: true, kubectl: { manifests: [FILES['/p/k8s/deploy.yaml'], FILES['/p/k8s/svc.yaml']] } }],
      dev: {
        interactive: false,
        pods: [
          {
            name: 'api',
            selector: { imageName: 'api', containerName: 'api' },
            ports: [{ localPort: 8080, remotePort: 80 }],
            sync: [{ localPath: './src', containerPath: '/app', excludePaths: ['node_modules/'], initialSync: 'preferLocal', onUpload: { restartContainer: true, exec: [{ command: 'npm', failOnError: true }] } }],
          },
        ],
      },
      dependencies: [],
    });
    expect(opts.read).toEqual(['/p/k8s/deploy.yaml', '/p/k8s/svc.yaml']);
    expect(imageBuilds.map((b) => [b.metadata.name, b.metadata.namespace, b.spec.tag])).toEqual([
      ['quickstart-api', 'dev-alice', buildTag({ contextDigest: D1, dockerfile: 'Dockerfile', buildArgs: { NODE_ENV: 'development' }, target: 'dev' })],
    ]);
    expect(imageBuilds[0]!.metadata.ownerReferences).toBeUndefined(); // no uid before the session exists
  });

  it('uses the placeholder digest and derives no tag with uploadDigests: placeholder', () => {
    const { sessions, imageBuilds } = renderProject(quickstart(), options({ uploadDigests: 'placeholder' }));
    expect(sessions[0]!.spec.images![0]!.context).toEqual({ upload: { digest: PLACEHOLDER_DIGEST } });
    expect(imageBuilds[0]!.spec.tag).toBeUndefined();
  });

  it('throws a typed error when an image has no upload digest', () => {
    expect(() => renderProject(quickstart(), options({ uploadDigests: {} }))).toThrow(RenderError);
    try {
      renderProject(quickstart(), options({ uploadDigests: {} }));
    } catch (err) {
      expect(err).toMatchObject({ code: 'MissingUploadDigest', path: 'images.api' });
    }
  });

  it('maps disabled images to skip: true without context or ImageBuild', () => {
    const p = project('app', '/p', { images: [image('/p', 'base', { disabled: true }), image('/p', 'api')] });
    const { sessions, imageBuilds } = renderProject(p, options());
    expect(sessions[0]!.spec.images![0]).toEqual({ name: 'base', image: 'registry.local:5000/team/base', dockerfile: 'Dockerfile', skip: true });
    expect(imageBuilds.map((b) => b.metadata.name)).toEqual(['app-api']);
  });

  it('sanitizes names to DNS labels, keeps dev selectors pointing at the renamed image, and warns', () => {
    const p = project('My_App', '/p', {
      images: [image('/p', 'My_Image')],
      dev: { interactive: true, open: [], pods: [devPod('Main_Pod', { selector: { imageName: 'My_Image' } })] },
    });
    const { sessions, warnings } = renderProject(p, options({ uploadDigests: { My_Image: D1 } }));
    const s = sessions[0]!;
    expect(s.metadata.name).toBe('my-app');
    expect(s.spec.project).toBe('My_App');
    expect(s.spec.images![0]!.name).toBe('my-image');
    expect(s.spec.dev!.pods![0]!).toMatchObject({ name: 'main-pod', selector: { imageName: 'my-image' } });
    expect(s.spec.dev!.interactive).toBe(true);
    expect(warnings.map((w) => w.path)).toEqual(['images.My_Image', 'dev.Main_Pod']);
  });

  it('warns about build settings in-cluster kaniko cannot honour', () => {
    const p = project('app', '/p', {
      images: [image('/p', 'api', { requestedEngine: 'buildkit', skipPush: true, network: 'host', appendDockerfileInstructions: ['USER root'], tags: ['ok', 'bad tag'] })],
    });
    const { sessions, warnings } = renderProject(p, options());
    // appendDockerfileInstructions is warned by the loader (schema marker), not here a second time.
    expect(warnings.map((w) => w.path).sort()).toEqual(['images.api.build', 'images.api.network', 'images.api.skipPush', 'images.api.tags']);
    expect(sessions[0]!.spec.images![0]!.tags).toEqual(['ok']);
  });

  it('docker images render as their in-cluster fallback; network and skipPush are the local build\'s, not warned', () => {
    const p = project('app', '/p', { images: [image('/p', 'api', { requestedEngine: 'docker', docker: { disableFallback: false, preferMinikube: true }, skipPush: true, network: 'host' })] });
    const { sessions, warnings } = renderProject(p, options({ uploadDigests: { api: D1 } }));
    expect(warnings).toEqual([]);
    expect(sessions[0]!.spec.images![0]).toMatchObject({ name: 'api', context: { upload: { digest: D1 } } });
    expect(sessions[0]!.spec.images![0]!.skip).toBeUndefined();
  });

  it('custom images are never built by the operator: skip, with the prebuilt tag first, then the user\'s', () => {
    const custom = { command: './build.sh', args: [], appendArgs: [], imageTagOnly: false, imageArg: true, onChange: [] };
    const p = project('app', '/p', { images: [image('/p', 'api', { requestedEngine: 'custom', custom, tags: ['dev'] }), image('/p', 'web', { requestedEngine: 'custom', custom })] });
    // No digest is asked for custom images (they may have no Dockerfile).
    const { sessions, warnings, imageBuilds } = renderProject(p, options({ uploadDigests: {}, prebuiltTags: { api: 'dsa-0123456789ab' } }));
    expect(warnings).toEqual([]);
    expect(imageBuilds).toEqual([]);
    expect(sessions[0]!.spec.images).toEqual([
      expect.objectContaining({ name: 'api', skip: true, tags: ['dsa-0123456789ab', 'dev'] }),
      expect.objectContaining({ name: 'web', skip: true }),
    ]);
    expect(sessions[0]!.spec.images![0]!.context).toBeUndefined();
  });

  it('makes the Dockerfile path relative to the context and warns when it is outside', () => {
    const p = project('app', '/p', { images: [image('/p', 'api', { context: '/p/api', dockerfile: '/p/docker/api.Dockerfile' }), image('/p', 'web', { context: '/p/web', dockerfile: '/p/web/build/Dockerfile.dev' })] });
    const { sessions, warnings } = renderProject(p, options({ uploadDigests: { api: D1, web: D2 } }));
    expect(sessions[0]!.spec.images!.map((i) => i.dockerfile)).toEqual(['../docker/api.Dockerfile', 'build/Dockerfile.dev']);
    expect(warnings.map((w) => w.path)).toEqual(['images.api.dockerfile']);
  });
});

describe('renderProject: deployments', () => {
  it('helm: merges valuesFiles in order, then values, deep for maps and replacing lists', () => {
    const p = project('app', '/p', {
      deployments: [helm('api', { valuesFiles: ['/p/values.yaml', '/p/empty.yaml', '/p/values-dev.yaml'], values: { replicas: 2, extra: { a: 1 } }, releaseName: 'api-rel', wait: true, timeoutSeconds: 120 })],
    });
    const d = renderProject(p, options()).sessions[0]!.spec.deployments![0]!;
    expect(d).toEqual({
      name: 'api',
      updateImageTags: true,
      helm: { releaseName: 'api-rel', chart: { component: true }, values: { replicas: 2, image: { repo: 'a', tag: 'y' }, list: [3], extra: { a: 1 } }, wait: true, timeoutSeconds: 120 },
    });
  });

  it('helm: local chart is packed, repo chart keeps name/repo/version, git chart picks revision over tag over branch', () => {
    const opts = options();
    const p = project('app', '/p', {
      deployments: [
        helm('local', { chart: { path: '/p/chart' } }),
        helm('repo', { chart: { name: 'nginx', repo: 'https://charts.example', version: '1.2.3', username: 'u', password: 'p' }, namespace: 'web', updateImageTags: false }),
        helm('git', { chart: { git: { url: 'https://g/c.git', branch: 'main', tag: 'v1', subPath: 'charts/x' } } }),
      ],
    });
    const { sessions, warnings } = renderProject(p, opts);
    const [local, repo, git] = sessions[0]!.spec.deployments!;
    expect(opts.packed).toEqual(['/p/chart']);
    expect(local!.helm!.chart).toEqual({ archive: Buffer.from('tgz of /p/chart').toString('base64') });
    expect(repo).toEqual({ name: 'repo', namespace: 'web', updateImageTags: false, helm: { chart: { name: 'nginx', repo: 'https://charts.example', version: '1.2.3' } } });
    expect(git!.helm!.chart).toEqual({ git: { url: 'https://g/c.git', ref: 'v1', path: 'charts/x' } });
    // The credentials are warned by the loader (schema marker); they never reach the DevSession.
    expect(warnings).toEqual([]);
    expect(JSON.stringify(sessions)).not.toContain('"password"');
  });

  it('helm: a values file that is not a map is a typed error', () => {
    const p = project('app', '/p', { deployments: [helm('api', { valuesFiles: ['/p/bad.yaml'] })] });
    const opts = options({ inlineFiles: () => '- a\n- b\n' });
    expect(() => renderProject(p, opts)).toThrow(expect.objectContaining({ code: 'InvalidValuesFile', path: 'deployments.api.helm.valuesFiles' }));
  });

  it('kubectl: inline manifests are kept, kustomize is pre-rendered or skipped with a warning', () => {
    const p = project('app', '/p', {
      deployments: [
        kubectl('inline', [], { inlineManifest: 'kind: ConfigMap\n' }),
        kubectl('kust', ['/p/overlays/dev'], { kustomize: true, applyArgs: ['--force'], kustomizeArgs: ['--load-restrictor', 'LoadRestrictionsNone'], kustomizeBinaryPath: '/opt/kustomize' }),
      ],
    });
    const without = renderProject(p, options());
    expect(without.sessions[0]!.spec.deployments!.map((d) => d.name)).toEqual(['inline']);
    expect(without.sessions[0]!.spec.deployments![0]!.kubectl).toEqual({ manifests: ['kind: ConfigMap\n'] });
    expect(without.warnings.map((w) => w.path)).toEqual(['deployments.kust.kubectl.kustomize']);
    const withK = renderProject(p, options({ kustomizeBuild: (k) => `# built ${k.dir} ${k.args.join(' ')} with ${k.binary}\n` }));
    // The output replaces the folder; the operator gets plain manifests (no kustomize flag).
    expect(withK.sessions[0]!.spec.deployments![1]!.kubectl).toEqual({ manifests: ['# built /p/overlays/dev --load-restrictor LoadRestrictionsNone with /opt/kustomize\n'] });
    expect(kustomizeRequests(p, 'ns')).toEqual([{ dir: '/p/overlays/dev', args: ['--load-restrictor', 'LoadRestrictionsNone'], binary: '/opt/kustomize' }]);
  });
});

describe('renderProject: dependencies', () => {
  const common = () => project('common', '/deps/common', { images: [image('/deps/common', 'lib')] });
  const tree = () => {
    const shared = common();
    const auth = project('auth', '/deps/auth', {
      images: [image('/deps/auth', 'auth')],
      deployments: [kubectl('auth', [])],
      dependencies: [dep('common', shared)],
    });
    return project('root', '/p', {
      images: [image('/p', 'api')],
      dependencies: [dep('auth', auth, { skipBuild: true }), dep('common', shared), dep('db', project('db', '/deps/db'), { namespace: 'data' })],
    });
  };

  it('renders each dependency once as its own session, leaves first, referenced by name', () => {
    const { sessions, imageBuilds, warnings } = renderProject(tree(), options({ uploadDigests: { api: D1, 'root-common/lib': D3 } }));
    expect(warnings).toEqual([]);
    expect(sessions.map((s) => [s.metadata.name, s.metadata.namespace])).toEqual([
      ['root-common', 'dev-alice'],
      ['root-auth', 'dev-alice'],
      ['root-db', 'data'],
      ['root', 'dev-alice'],
    ]);
    const byName = Object.fromEntries(sessions.map((s) => [s.metadata.name, s]));
    expect(byName['root']!.spec.dependencies).toEqual([{ name: 'root-auth' }, { name: 'root-common' }, { name: 'root-db', namespace: 'data' }]);
    expect(byName['root-auth']!.spec.dependencies).toEqual([{ name: 'root-common' }]);
    expect(byName['root-common']!.spec.project).toBe('common');
    // skipBuild: auth's image is referenced only.
    expect(byName['root-auth']!.spec.images).toEqual([{ name: 'auth', image: 'registry.local:5000/team/auth', dockerfile: 'Dockerfile', skip: true }]);
    expect(imageBuilds.map((b) => b.metadata.name)).toEqual(['root-common-lib', 'root-api']);
    expect(imageBuilds[0]!.spec.context).toEqual({ upload: { digest: D3 } });
  });

  it('does not look up a dependency image by its bare name (that key belongs to the root)', () => {
    expect(() => renderProject(tree(), options({ uploadDigests: { api: D1, lib: D3 } }))).toThrow(expect.objectContaining({ path: 'dependencies.auth.dependencies.common.images.lib' }));
  });

  it('planSessions gives the names used for digest keys', () => {
    expect(planSessions(tree(), 'ns').sessions.map((s) => `${s.name}:${s.project.images.map((i) => i.name).join(',')}`)).toEqual(['root-common:lib', 'root-auth:auth', 'root-db:', 'root:api']);
  });

  it('warns about unloaded git dependencies and cycles, and honours ignoreDependencies', () => {
    const a = project('a', '/deps/a');
    const root = project('root', '/p', {
      dependencies: [dep('remote', undefined, { source: { git: { url: 'https://g/r.git' } } }), dep('a', a, { ignoreDependencies: true })],
    });
    a.dependencies = [dep('never', project('never', '/deps/never'))];
    const r1 = renderProject(root, options());
    expect(r1.sessions.map((s) => s.metadata.name)).toEqual(['root-a', 'root']);
    expect(r1.warnings.map((w) => w.path)).toEqual(['dependencies.remote']);

    const b = project('b', '/deps/b');
    const cyc = project('cyc', '/p', { dependencies: [dep('b', b)] });
    b.dependencies = [dep('back', cyc)];
    const r2 = renderProject(cyc, options());
    expect(r2.sessions.map((s) => s.metadata.name)).toEqual(['cyc-b', 'cyc']);
    expect(r2.sessions[0]!.spec.dependencies).toEqual([{ name: 'cyc' }]);
    expect(r2.warnings).toEqual([expect.objectContaining({ path: 'dependencies.b.dependencies.back', message: expect.stringContaining('DependencyCycle') })]);
  });

  it('keeps dependency session names unique', () => {
    const root = project('root', '/p', { dependencies: [dep('x', project('x1', '/d/x1')), dep('X', project('x2', '/d/x2'))] });
    const names = renderProject(root, options()).sessions.map((s) => s.metadata.name);
    expect(new Set(names).size).toBe(3);
    expect(names[0]).toBe('root-x');
    expect(names[1]).toMatch(/^root-x-[0-9a-f]{6}$/);
  });
});

describe('renderProject: agent-only features', () => {
  it('warns for hooks and autoReload (commands and open are warned by the loader)', () => {
    const p = project('app', '/p', {
      hooks: [{ command: 'echo', args: ['hi'], events: ['before:deploy'] }],
      commands: [{ name: 'test', command: 'npm test' }],
      dev: { pods: [], interactive: false, open: ['http://localhost:8080'], autoReload: { paths: ['x'], deployments: [], images: [] } },
    });
    expect(renderProject(p, options()).warnings.map((w) => w.path)).toEqual(['hooks[0]', 'dev.autoReload']);
  });

  it('kaniko pullSecret (v1beta build.kaniko, v2beta1 kaniko) becomes the session image\'s registry.pullSecret (the build pod\'s and the lookups\' credentials)', async () => {
    const rendered = async (y: string) => {
      const p = await loadProject({ configPath: '/w/devspace.yaml', fs: memFileReader({ '/w/devspace.yaml': y }), env: {}, checkFiles: false });
      const r = renderProject(p, options({ uploadDigests: 'placeholder' }));
      return (r.sessions[0] as { spec: { images?: Array<{ name: string; registry?: { pullSecret?: string } }> } }).spec.images?.find((i) => i.name === 'api')?.registry;
    };
    expect(await rendered('version: v1beta9\nimages:\n  api: {image: reg/api, build: {kaniko: {pullSecret: regcred}}}\n')).toEqual({ pullSecret: 'regcred' });
    expect(await rendered('version: v2beta1\nimages:\n  api: {image: reg/api, kaniko: {pullSecret: regcred}}\n')).toEqual({ pullSecret: 'regcred' });
  });

  it('v1beta dev.logs: showLast is each dev pod stream\'s backlog, images picks the pods, disabled turns them off', async () => {
    const y = (logs: string) =>
      [
        'version: v1beta9',
        'images:',
        '  api: {image: reg/api}',
        '  worker: {image: reg/worker}',
        'dev:',
        '  ports: [{imageName: api, forward: [{port: 8080}]}]',
        '  sync: [{imageName: worker, containerPath: /app}]',
        `  logs: ${logs}`,
        '',
      ].join('\n');
    const pods = async (logs: string) => {
      const p = await loadProject({ configPath: '/w/devspace.yaml', fs: memFileReader({ '/w/devspace.yaml': y(logs) }), env: {}, checkFiles: false });
      expect(p.warnings.map((w) => w.path).filter((w) => w.startsWith('dev.logs'))).toEqual([]);
      const r = renderProject(p, options({ uploadDigests: 'placeholder' }));
      const session = r.sessions[0] as { spec: { dev?: { pods?: Array<{ selector?: { imageName?: string }; logs?: { enabled: boolean; lastLines?: number } }> } } };
      return Object.fromEntries((session.spec.dev?.pods ?? []).map((d) => [d.selector?.imageName, d.logs]));
    };
    expect(await pods('{showLast: 10, images: [api]}')).toEqual({ api: { enabled: true, lastLines: 10 }, worker: { enabled: false, lastLines: 10 } });
    expect(await pods('{disabled: true}')).toEqual({ api: { enabled: false }, worker: { enabled: false } });
    expect(await pods('{}')).toEqual({ api: { enabled: true }, worker: { enabled: true } });
  });

  it('v2beta1 dev args and resources (on the dev pod and on containers.<name>) reach the DevSession\'s dev pods', async () => {
    const y = [
      'version: v2beta1',
      'images:',
      '  api: {image: reg/api}',
      'dev:',
      '  api:',
      '    imageSelector: reg/api',
      '    args: [--dev]',
      '    resources: {limits: {cpu: "1"}, requests: {memory: 1Gi}}',
      '  two:',
      '    labelSelector: {app: two}',
      '    containers:',
      '      side: {args: [--side], resources: {requests: {cpu: 100m}, limits: {memory: 2Gi}}}',
      '',
    ].join('\n');
    const p = await loadProject({ configPath: '/w/devspace.yaml', fs: memFileReader({ '/w/devspace.yaml': y }), env: {}, checkFiles: false });
    const pods = renderProject(p, options({ uploadDigests: 'placeholder' })).sessions[0]!.spec.dev!.pods!;
    expect(pods).toEqual([
      { name: 'api', selector: { imageName: 'api' }, args: ['--dev'], resources: { limits: { cpu: '1' }, requests: { memory: '1Gi' } } },
      { name: 'two-side', selector: { labelSelector: { app: 'two' }, containerName: 'side' }, args: ['--side'], resources: { requests: { cpu: '100m' }, limits: { memory: '2Gi' } } },
    ]);
    expect(p.warnings).toEqual([]);
  });

  it('fields dsa does not act on are warned once each, by the loader, and render adds no second warning', async () => {
    const files = {
      '/w/v2/devspace.yaml': [
        'version: v2beta1',
        'images:',
        '  api: {image: reg/api, appendDockerfileInstructions: [USER root], createPullSecret: true}',
        'deployments:',
        '  chart: {helm: {chart: {name: nginx, repo: "https://charts.example", username: u, password: p}, upgradeArgs: [--force]}}',
        '  web: {kubectl: {manifests: [k8s/], applyArgs: [--force]}}',
        'dev:',
        '  api:',
        '    imageSelector: reg/api',
        '    open: [{url: "http://localhost:8080"}]',
        '    patches: [{op: replace, path: spec.x, value: 1}]',
        'commands:',
        '  test: npm test',
        'vars:',
        '  A: {default: a, alwaysResolve: true}',
        '',
      ].join('\n'),
      '/w/v2/k8s/a.yaml': 'kind: ConfigMap\n',
      '/w/v1/devspace.yaml': [
        'version: v1beta9',
        'images:',
        '  api: {image: reg/api, createPullSecret: true, build: {kaniko: {options: {network: host}}}}',
        'deployments:',
        '- name: comp',
        '  helm: {componentChart: true, atomic: true, values: {containers: [{image: reg/api}]}}',
        '- name: web',
        '  kubectl: {manifests: [k8s/], applyArgs: [--force]}',
        'dev:',
        '  open: [{url: "http://localhost:8080"}]',
        '  logs: {disabled: true, showLast: 5}',
        'commands:',
        '- {name: test, command: npm test}',
        '',
      ].join('\n'),
      '/w/v1/k8s/a.yaml': 'kind: ConfigMap\n',
    };
    const warned = async (configPath: string) => {
      const p = await loadProject({ configPath, fs: memFileReader(files), env: {}, checkFiles: false });
      const r = renderProject(p, options({ uploadDigests: 'placeholder', inlineFiles: () => 'kind: ConfigMap\n' }));
      return [...p.warnings, ...r.warnings].map((w) => w.path).sort();
    };
    expect(await warned('/w/v2/devspace.yaml')).toEqual([
      'commands',
      'deployments.chart.helm.chart.password',
      'deployments.chart.helm.chart.username',
      'deployments.chart.helm.upgradeArgs',
      'deployments.web.kubectl.applyArgs',
      'dev.api.open',
      'dev.api.patches',
      'images.api.appendDockerfileInstructions',
      'images.api.createPullSecret',
      'vars.A.alwaysResolve',
    ]);
    expect(await warned('/w/v1/devspace.yaml')).toEqual([
      'commands',
      'deployments[0].helm.atomic',
      'deployments[1].kubectl.applyArgs',
      'dev.open',
      'images.api.build.kaniko.options.network',
      'images.api.createPullSecret',
    ]);
  });
});

const syncCmd = (command: string, over: Partial<SyncCommandConfig> = {}): SyncCommandConfig => ({
  command,
  args: [],
  shell: false,
  where: 'container',
  trigger: 'batch',
  onChange: [],
  once: false,
  failOnError: false,
  ...over,
});

/** A sync entry with every option set. */
const richSync = (): SyncConfig => ({
  name: 'web',
  localPath: '/p/web',
  containerPath: '/app',
  file: false,
  excludePaths: ['node_modules/', '!keep'],
  downloadExcludePaths: ['dist/'],
  uploadExcludePaths: ['.git/'],
  initialSync: 'preferNewest',
  initialSyncCompareBy: 'size',
  waitInitialSync: false,
  disableDownload: true,
  disableUpload: false,
  startContainer: true,
  onUpload: {
    restartContainer: true,
    exec: [
      syncCmd('npm install', { name: 'deps', shell: true, onChange: ['package.json'], once: true, failOnError: true }),
      syncCmd('make', { args: ['build'], where: 'local' }),
      syncCmd('chmod', { args: ['+x', '{}'], trigger: 'file', failOnError: true }),
    ],
  },
  onDownload: { exec: [syncCmd('touch', { args: ['{}'], trigger: 'dir', where: 'local', failOnError: true })] },
  bandwidthLimits: { download: 200, upload: 100 },
  polling: true,
  throttleChangeDetection: 100,
  noWatch: false,
  printLogs: true,
});

describe('renderProject: sync paths and reverse ports', () => {
  const render = (pod: DevPodConfig) => renderProject(project('app', '/p', { dev: { pods: [pod], interactive: false, open: [] } }), options()).sessions[0]!.spec.dev!.pods![0]!;

  it('every sync option reaches the DevSession; defaults and false flags are left out', () => {
    const out = render(devPod('api', { sync: [richSync()], reversePorts: [{ localPort: 5000, remotePort: 5432, bindAddress: '0.0.0.0' }] }));
    expect(out.reversePorts).toEqual([{ localPort: 5000, remotePort: 5432, bindAddress: '0.0.0.0' }]);
    expect(out.sync).toEqual([
      {
        name: 'web',
        localPath: './web',
        containerPath: '/app',
        excludePaths: ['node_modules/', '!keep'],
        downloadExcludePaths: ['dist/'],
        uploadExcludePaths: ['.git/'],
        initialSync: 'preferNewest',
        initialSyncCompareBy: 'size',
        waitInitialSync: false,
        disableDownload: true,
        startContainer: true,
        polling: true,
        throttleChangeDetection: 100,
        noWatch: false,
        printLogs: true,
        bandwidthLimits: { download: 200, upload: 100 },
        onUpload: {
          restartContainer: true,
          exec: [
            { name: 'deps', command: 'npm install', shell: true, onChange: ['package.json'], once: true, failOnError: true },
            { command: 'make', args: ['build'], where: 'local' },
            { command: 'chmod', args: ['+x', '{}'], trigger: 'file', failOnError: true },
          ],
        },
        onDownload: { exec: [{ command: 'touch', args: ['{}'], where: 'local', trigger: 'dir', failOnError: true }] },
      },
    ]);
    const minimal = render(devPod('api', { sync: [{ localPath: '/p', containerPath: '.', excludePaths: [], downloadExcludePaths: [], uploadExcludePaths: [], disableDownload: false, disableUpload: false, file: true }] }));
    expect(minimal.sync).toEqual([{ localPath: '.', containerPath: '.', file: true }]);
    expect(minimal.reversePorts).toBeUndefined();
  });

  it('from devspace.yaml (v2beta1 and v1beta9) through the loader to DevSessions the CRD accepts', async () => {
    const [sessionCrd] = generateCrds() as [CustomResourceDefinition];
    const crd = compileCrdSchema(sessionCrd);
    const files = {
      '/w/v2/devspace.yaml': [
        'version: v2beta1',
        'dev:',
        '  api:',
        '    labelSelector: {app: api}',
        '    reversePorts: [{port: "9229"}]',
        '    sync:',
        '    - path: ./src:/app',
        '      excludeFile: .gitignore',
        '      initialSyncCompareBy: size',
        '      startContainer: true',
        '      onUpload: {restartContainer: true, exec: [{command: npm i, onChange: [package.json]}], execRemote: {onBatch: {command: kill, args: ["-HUP", "1"]}}}',
        '',
      ].join('\n'),
      '/w/v2/src/.gitignore': 'node_modules/\n/dist\n',
      '/w/v1/devspace.yaml': [
        'version: v1beta9',
        'dev:',
        '  ports: [{labelSelector: {app: api}, reverseForward: [{port: 9229}]}]',
        '  sync:',
        '  - labelSelector: {app: api}',
        '    containerPath: /app',
        '    onUpload: {execRemote: {command: ./hook.sh, args: ["{}"]}}',
        '    onDownload: {execLocal: {onBatch: {command: make}}}',
        '',
      ].join('\n'),
    };
    for (const configPath of ['/w/v2/devspace.yaml', '/w/v1/devspace.yaml']) {
      const p = await loadProject({ configPath, fs: memFileReader(files), env: {} });
      const s = renderProject(p, options()).sessions[0]!;
      expect({ configPath, crd: crd(s), rules: validateDevSession(s) }).toEqual({ configPath, crd: [], rules: [] });
      const pod = s.spec.dev!.pods![0]!;
      expect(pod.reversePorts).toEqual([{ localPort: 9229, remotePort: 9229 }]);
      if (configPath.includes('v2')) {
        expect(pod.sync![0]).toMatchObject({ localPath: './src', containerPath: '/app', excludePaths: ['node_modules/', '/dist'], initialSyncCompareBy: 'size', startContainer: true });
        expect(pod.sync![0]!.onUpload!.exec).toEqual([
          { command: 'npm i', shell: true, onChange: ['package.json'] },
          { command: 'kill', args: ['-HUP', '1'], failOnError: true },
        ]);
      } else {
        expect(pod.sync![0]!.onUpload!.exec).toEqual([
          { command: './hook.sh', args: ['{}'], trigger: 'file', failOnError: true },
          { command: './hook.sh', args: ['{}'], trigger: 'dir', failOnError: true },
        ]);
        expect(pod.sync![0]!.onDownload).toEqual({ exec: [{ command: 'make', where: 'local', failOnError: true }] });
      }
    }
  });
});

describe('rendered objects are accepted by the generated CRDs', () => {
  const [sessionCrd, buildCrd] = generateCrds() as [CustomResourceDefinition, CustomResourceDefinition];
  const crdSession = compileCrdSchema(sessionCrd);
  const crdBuild = compileCrdSchema(buildCrd);
  const everything = () =>
    project('everything', '/p', {
      images: [image('/p', 'api', { tags: ['dev'], entrypoint: ['node'], cmd: ['x.js'], kaniko: { cache: true, namespace: 'build', resources: { limits: { cpu: '1' } }, image: 'kaniko:v1', pullSecret: 's' } }), image('/p', 'base', { disabled: true })],
      deployments: [
        kubectl('api', ['/p/k8s/deploy.yaml']),
        helm('component', { values: { containers: [{ image: 'registry.local:5000/team/api' }], nested: { deep: [1, { x: null }] } } }),
        helm('local', { chart: { path: '/p/chart' }, valuesFiles: ['/p/values.yaml'] }),
        helm('repo', { chart: { name: 'nginx' } }),
        helm('git', { chart: { git: { url: 'https://g/c.git' } } }),
      ],
      dev: {
        interactive: true,
        open: [],
        pods: [
          devPod('api', {
            devImage: 'node:20',
            command: ['sh'],
            args: ['-c', 'sleep inf'],
            workingDir: '/app',
            env: [{ name: 'A', value: '1' }],
            resources: { requests: { memory: '1Gi' } },
            ports: [{ localPort: 1, remotePort: 65535, bindAddress: '0.0.0.0' }],
            reversePorts: [{ localPort: 9229, remotePort: 9229 }],
            sync: [richSync()],
            terminal: { enabled: true, command: ['bash'] },
            logs: { enabled: true, lastLines: 10 },
          }),
          devPod('web', { selector: { labelSelector: { app: 'web' }, namespace: 'web' } }),
          devPod('img', { selector: { imageSelector: 'nginx:1.27' } }),
        ],
      },
      dependencies: [dep('auth', project('auth', '/d/auth', { images: [image('/d/auth', 'auth')] }), { skipBuild: true })],
    });

  it.each([
    ['real digests', { api: D1 }],
    ['placeholders', 'placeholder' as const],
  ])('with %s', (_l, uploadDigests) => {
    const { sessions, imageBuilds } = renderProject(everything(), options({ uploadDigests }));
    expect(sessions).toHaveLength(2);
    expect(imageBuilds).toHaveLength(1);
    for (const s of sessions) {
      expect({ name: s.metadata.name, crd: crdSession(s), rules: validateDevSession(s) }).toEqual({ name: s.metadata.name, crd: [], rules: [] });
    }
    for (const b of imageBuilds) expect({ crd: crdBuild(b), rules: validateImageBuild(b) }).toEqual({ crd: [], rules: [] });
  });

  it('the CRD check is not vacuous: a broken rendered session is rejected', () => {
    const s = renderProject(everything(), options()).sessions[1]!;
    s.spec.dev!.pods![0]!.ports![0]!.localPort = 0;
    expect(crdSession(s).map((i) => i.path)).toEqual(['spec.dev.pods[0].ports[0].localPort']);
  });

  it('sync bounds are in the CRD: too many patterns, an unknown strategy, a bad status entry', () => {
    const s = renderProject(everything(), options()).sessions[1]!;
    const sync = s.spec.dev!.pods![0]!.sync![0]!;
    sync.excludePaths = Array.from({ length: 1001 }, (_, i) => `p${i}`);
    (sync as { initialSync: string }).initialSync = 'newest';
    s.status = { syncPaths: [{ devPod: 'api', localPath: './web', containerPath: '/app', state: 'watching', progress: 101 }] };
    const bad = ['spec.dev.pods[0].sync[0].excludePaths', 'spec.dev.pods[0].sync[0].initialSync', 'status.syncPaths[0].progress'];
    expect(crdSession(s).map((i) => i.path).sort()).toEqual(bad);
    // The agent's own check (Ajv on the TypeBox schema) says the same before it applies.
    expect([...new Set(validateDevSession(s).map((i) => i.path))].sort()).toEqual(bad);
  });
});

describe('output', () => {
  it('renderToYaml writes one document per object, parseable back, in order', () => {
    const { sessions, imageBuilds } = renderProject(quickstart(), options());
    const objects = [...sessions, ...imageBuilds];
    const yaml = renderToYaml(objects);
    const docs = parseAllDocuments(yaml).map((d) => d.toJS() as unknown);
    expect(docs).toEqual(objects);
    expect(yaml).toContain('---\napiVersion: dsa.dev/v1alpha1\nkind: DevSession\n');
    // Manifests stay readable block scalars, not escaped one-liners.
    expect(yaml).toContain('- |\n');
  });

  it('renderToJson writes a kubectl List', () => {
    const { sessions } = renderProject(quickstart(), options());
    expect(JSON.parse(renderToJson(sessions))).toEqual({ apiVersion: 'v1', kind: 'List', items: sessions });
  });
});

describe('helpers', () => {
  it('dnsLabel', () => {
    expect(dnsLabel('My_App.v2')).toBe('my-app-v2');
    expect(dnsLabel('---')).toBe('x');
    expect(dnsLabel('a'.repeat(80)).length).toBeLessThanOrEqual(63);
  });
  it('deepMerge does not mutate its inputs', () => {
    const a = { x: { y: 1 } };
    const b = { x: { z: 2 } };
    expect(deepMerge(a, b)).toEqual({ x: { y: 1, z: 2 } });
    expect(a).toEqual({ x: { y: 1 } });
  });
});
