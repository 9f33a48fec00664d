import { describe, expect, test } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevPod, SessionImage } from '@dsa/api';
import { CTL_DIR, HELPER_BIN, SIDECAR_ANNOTATION, SIDECAR_CONTAINER, SIDECAR_PATHS_ENV, TOOLS_DIR, type SidecarPath } from '@dsa/api/sync-layout';
import { imagesNeedingConfig, injectDevSidecars, numericUser, originalCommand, resolveContainerPath, syncSidecar, type DevSidecarInput, type ImageConfigInfo } from './sync-sidecar.js';

type Json = Record<string, any>;

const images: SessionImage[] = [{ name: 'app', image: 'reg.local/team/app', context: { upload: { digest: 'sha256:' + '0'.repeat(64) } } } as SessionImage];

function deployment(container: Json = {}, podSpec: Json = {}): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app', namespace: 'dev' },
    spec: {
      selector: { matchLabels: { app: 'app' } },
      template: {
        metadata: { labels: { app: 'app' } },
        spec: { containers: [{ name: 'app', image: 'reg.local/team/app:abc', ...container }, { name: 'other', image: 'busybox' }], ...podSpec },
      },
    },
  } as KubernetesObject;
}

function devPod(over: Partial<DevPod> = {}): DevPod {
  return { name: 'app', selector: { imageName: 'app' }, sync: [{ localPath: './src', containerPath: '/app' }], ...over } as DevPod;
}

function input(over: Partial<DevSidecarInput> = {}, configs: Record<string, ImageConfigInfo> = {}): DevSidecarInput {
  return {
    devPods: [devPod()],
    images,
    sessionNamespace: 'dev',
    sidecarImage: 'reg.local/dsa/sidecar:dev-1',
    nativeSidecars: true,
    imageConfig: (i) => configs[i],
    ...over,
  };
}

const tpl = (o: KubernetesObject) => (o as Json).spec.template as Json;
const sidecarPaths = (spec: Json): SidecarPath[] => {
  const sc = [...(spec.initContainers ?? []), ...spec.containers].find((c: Json) => c.name === SIDECAR_CONTAINER);
  return JSON.parse(sc.env.find((e: Json) => e.name === SIDECAR_PATHS_ENV).value);
};

describe('injectDevSidecars', () => {
  test('absolute path: tools, seed (app image), native sidecar, volume mounted at the path', () => {
    const r = injectDevSidecars([deployment({ workingDir: '/srv' })], input());
    expect(r.problems).toEqual([]);
    const spec = tpl(r.objects[0]!).spec;
    expect(spec.initContainers.map((c: Json) => c.name)).toEqual(['dsa-tools', 'dsa-seed', 'dsa-sync']);
    const [tools, seed, sidecar] = spec.initContainers;
    expect(tools.image).toBe('reg.local/dsa/sidecar:dev-1');
    expect(seed.image).toBe('reg.local/team/app:abc');
    expect(seed.command).toEqual([HELPER_BIN, 'seed', '--ctl', CTL_DIR, '/app=/.dsa/sync/0']);
    expect(sidecar.restartPolicy).toBe('Always');
    const app = spec.containers[0];
    expect(app.volumeMounts).toContainEqual({ name: 'dsa-sync-0', mountPath: '/app' });
    expect(app.command).toBeUndefined(); // no restart requested
    expect(spec.containers[1]).toEqual({ name: 'other', image: 'busybox' });
    expect(spec.volumes.map((v: Json) => v.name).sort()).toEqual(['dsa-ctl', 'dsa-sync-0', 'dsa-tools']);
    expect(sidecarPaths(spec)).toEqual([{ index: 0, mountPath: '/.dsa/sync/0', containerPath: '/app', container: 'app', devPod: 'app', sync: 0 }]);
    expect(tpl(r.objects[0]!).metadata.annotations[SIDECAR_ANNOTATION]).toContain('/app');
  });

  test('a relative containerPath resolves against the pod spec working dir, else the image config', () => {
    const pod = devPod({ sync: [{ localPath: '.', containerPath: '.' }, { localPath: './web', containerPath: 'public/' }] });
    let r = injectDevSidecars([deployment({ workingDir: '/srv' })], input({ devPods: [pod] }));
    expect(sidecarPaths(tpl(r.objects[0]!).spec).map((p) => p.containerPath)).toEqual(['/srv', '/srv/public']);
    r = injectDevSidecars([deployment()], input({ devPods: [pod] }, { 'reg.local/team/app:abc': { workingDir: '/usr/src/app' } }));
    expect(sidecarPaths(tpl(r.objects[0]!).spec).map((p) => p.containerPath)).toEqual(['/usr/src/app', '/usr/src/app/public']);
    // An image without WORKDIR runs in /: "." would be the root, which cannot be synced.
    r = injectDevSidecars([deployment()], input({ devPods: [devPod({ sync: [{ localPath: '.', containerPath: '.' }] })] }, { 'reg.local/team/app:abc': {} }));
    expect(r.problems[0]!.message).toMatch(/resolves to \//);
  });

  test('a relative path with an unknown image config is a problem naming the image and the fix', () => {
    const r = injectDevSidecars([deployment()], input({ devPods: [devPod({ sync: [{ localPath: '.', containerPath: '.' }] })] }));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.image).toBe('reg.local/team/app:abc');
    expect(r.problems[0]!.message).toMatch(/absolute containerPath/);
    expect(tpl(r.objects[0]!).spec.initContainers).toBeUndefined();
  });

  test('restartContainer wraps the command from the pod spec, or from the image config', () => {
    const pod = devPod({ sync: [{ localPath: '.', containerPath: '/app', onUpload: { restartContainer: true } }] });
    let r = injectDevSidecars([deployment({ command: ['node'], args: ['index.js'] })], input({ devPods: [pod] }));
    let app = tpl(r.objects[0]!).spec.containers[0];
    expect(app.command).toEqual([HELPER_BIN, 'supervise', '--ctl', CTL_DIR, '--', 'node', 'index.js']);
    expect(app.args).toBeUndefined();
    expect(app.volumeMounts).toContainEqual({ name: 'dsa-tools', mountPath: TOOLS_DIR, readOnly: true });

    r = injectDevSidecars([deployment({ args: ['--port', '80'] })], input({ devPods: [pod] }, { 'reg.local/team/app:abc': { entrypoint: ['/bin/server'], cmd: ['--default'] } }));
    app = tpl(r.objects[0]!).spec.containers[0];
    expect(app.command.slice(5)).toEqual(['/bin/server', '--port', '80']);

    r = injectDevSidecars([deployment()], input({ devPods: [pod] }, { 'reg.local/team/app:abc': { cmd: ['python', 'app.py'] } }));
    expect(tpl(r.objects[0]!).spec.containers[0].command.slice(5)).toEqual(['python', 'app.py']);

    r = injectDevSidecars([deployment()], input({ devPods: [pod] }));
    expect(r.problems[0]!.message).toMatch(/needs the app's command/);
  });

  test('a single-file sync mounts (and seeds) the file\'s folder, not the file', () => {
    const pod = devPod({ sync: [{ localPath: './config/app.json', containerPath: '/etc/app/app.json', file: true }] });
    const spec = tpl(injectDevSidecars([deployment()], input({ devPods: [pod] })).objects[0]!).spec;
    expect(spec.containers[0].volumeMounts).toContainEqual({ name: 'dsa-sync-0', mountPath: '/etc/app' });
    expect(spec.initContainers[1].command).toEqual([HELPER_BIN, 'seed', '--ctl', CTL_DIR, '/etc/app=/.dsa/sync/0']);
    expect(sidecarPaths(spec)[0]!.containerPath).toBe('/etc/app');
  });

  test('startContainer makes the supervisor wait for the initial sync', () => {
    const pod = devPod({ sync: [{ localPath: '.', containerPath: '/app', startContainer: true } as any] });
    const r = injectDevSidecars([deployment({ command: ['run'] })], input({ devPods: [pod] }));
    expect(tpl(r.objects[0]!).spec.containers[0].command).toEqual([HELPER_BIN, 'supervise', '--ctl', CTL_DIR, '--wait-start', '--', 'run']);
  });

  test('without native sidecars the sidecar is a regular container', () => {
    const r = injectDevSidecars([deployment()], input({ nativeSidecars: false }));
    const spec = tpl(r.objects[0]!).spec;
    expect(spec.initContainers.map((c: Json) => c.name)).toEqual(['dsa-tools', 'dsa-seed']);
    expect(spec.containers.map((c: Json) => c.name)).toEqual(['app', 'other', SIDECAR_CONTAINER]);
    expect(spec.containers[2].restartPolicy).toBeUndefined();
  });

  test('no sidecar image configured: a problem, the object unchanged', () => {
    const obj = deployment();
    const r = injectDevSidecars([obj], input({ sidecarImage: undefined }));
    expect(r.objects[0]).toBe(obj);
    expect(r.problems[0]!.message).toMatch(/--sidecar-image/);
  });

  test("the user's own volume at the path is shared with the sidecar and not seeded", () => {
    const r = injectDevSidecars([deployment({ volumeMounts: [{ name: 'data', mountPath: '/app', subPath: 'x' }] }, { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'd' } }] })], input());
    const spec = tpl(r.objects[0]!).spec;
    expect(spec.initContainers.map((c: Json) => c.name)).toEqual(['dsa-tools', 'dsa-sync']);
    expect(spec.initContainers[1].volumeMounts).toContainEqual({ name: 'data', mountPath: '/.dsa/sync/0', subPath: 'x' });
    expect(spec.volumes.map((v: Json) => v.name).sort()).toEqual(['data', 'dsa-ctl', 'dsa-tools']);
  });

  test('the sidecar runs as the app: pod/container securityContext, else a numeric image USER, else root with few capabilities', () => {
    const sc = (o: KubernetesObject) => tpl(o).spec.initContainers.find((c: Json) => c.name === SIDECAR_CONTAINER).securityContext;
    expect(sc(injectDevSidecars([deployment({ securityContext: { runAsUser: 1000 } })], input()).objects[0]!)).toMatchObject({ runAsUser: 1000, runAsNonRoot: true });
    expect(sc(injectDevSidecars([deployment({}, { securityContext: { runAsUser: 7, runAsGroup: 8 } })], input()).objects[0]!)).toMatchObject({ runAsUser: 7, runAsGroup: 8 });
    expect(sc(injectDevSidecars([deployment()], input({}, { 'reg.local/team/app:abc': { user: '1001:1002' } })).objects[0]!)).toMatchObject({ runAsUser: 1001, runAsGroup: 1002 });
    const root = sc(injectDevSidecars([deployment()], input({}, { 'reg.local/team/app:abc': { user: 'node' } })).objects[0]!);
    expect(root.runAsUser).toBe(0);
    expect(root.capabilities.drop).toEqual(['ALL']);
  });

  test('reverse ports alone still get a sidecar; other dev pods and namespaces are left alone', () => {
    const pods = [devPod({ sync: [], reversePorts: [{ localPort: 9229, remotePort: 9229 }] }), devPod({ name: 'x', selector: { imageName: 'app', namespace: 'elsewhere' } })];
    const r = injectDevSidecars([deployment()], input({ devPods: pods }));
    const spec = tpl(r.objects[0]!).spec;
    expect(spec.initContainers.map((c: Json) => c.name)).toEqual(['dsa-tools', 'dsa-sync']);
    expect(sidecarPaths(spec)).toEqual([]);
    expect(r.applied).toHaveLength(1);
  });

  test('idempotent: injecting into an already injected template gives the same template', () => {
    const pod = devPod({ sync: [{ localPath: '.', containerPath: '/app', onUpload: { restartContainer: true } }] });
    const once = injectDevSidecars([deployment({ command: ['node', 'x.js'] })], input({ devPods: [pod] })).objects[0]!;
    // The second pass sees the supervisor command: a real re-render starts from the manifests, but the
    // volumes and init containers must never be duplicated even so.
    const twice = injectDevSidecars([once], input({ devPods: [devPod()] })).objects[0]!;
    expect(tpl(twice).spec.volumes.map((v: Json) => v.name).sort()).toEqual(['dsa-ctl', 'dsa-sync-0', 'dsa-tools']);
    expect(tpl(twice).spec.initContainers.map((c: Json) => c.name)).toEqual(['dsa-tools', 'dsa-seed', 'dsa-sync']);
  });

  test('a bare Pod is injected at its top level', () => {
    const pod: KubernetesObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'dev' }, spec: { containers: [{ name: 'app', image: 'reg.local/team/app:abc' }] } } as KubernetesObject;
    const r = injectDevSidecars([pod], input());
    expect((r.objects[0] as Json).spec.initContainers.map((c: Json) => c.name)).toEqual(['dsa-tools', 'dsa-seed', 'dsa-sync']);
    expect((r.objects[0] as Json).metadata.annotations[SIDECAR_ANNOTATION]).toBeDefined();
  });
});

describe('helpers', () => {
  test('imagesNeedingConfig asks only when the pod spec lacks what is needed', () => {
    const restart = devPod({ sync: [{ localPath: '.', containerPath: '.', onUpload: { restartContainer: true } }] });
    expect(imagesNeedingConfig([deployment({ workingDir: '/w', command: ['x'], securityContext: { runAsUser: 1 } })], input({ devPods: [restart] }))).toEqual([]);
    expect(imagesNeedingConfig([deployment({ command: ['x'], securityContext: { runAsUser: 1 } })], input({ devPods: [restart] }))).toEqual(['reg.local/team/app:abc']);
    expect(imagesNeedingConfig([deployment({ workingDir: '/w', securityContext: { runAsUser: 1 } })], input({ devPods: [restart] }))).toEqual(['reg.local/team/app:abc']);
  });
  test('originalCommand follows Kubernetes command/args over ENTRYPOINT/CMD', () => {
    expect(originalCommand({ command: ['a'] }, { entrypoint: ['e'], cmd: ['c'] })).toEqual(['a']);
    expect(originalCommand({ command: ['a'], args: ['b'] }, undefined)).toEqual(['a', 'b']);
    expect(originalCommand({ args: ['b'] }, { entrypoint: ['e'], cmd: ['c'] })).toEqual(['e', 'b']);
    expect(originalCommand({}, { entrypoint: ['e'], cmd: ['c'] })).toEqual(['e', 'c']);
    expect(originalCommand({}, undefined)).toBeUndefined();
  });
  test('resolveContainerPath and numericUser', () => {
    expect(resolveContainerPath('/app/', undefined)).toBe('/app');
    expect(resolveContainerPath('./src', '/w')).toBe('/w/src');
    expect(resolveContainerPath('../x', '/w/y')).toBe('/w/x');
    expect(resolveContainerPath('.', undefined)).toBeUndefined();
    expect(numericUser(undefined)).toEqual({ uid: 0 });
    expect(numericUser('1000')).toEqual({ uid: 1000 });
    expect(numericUser('1000:50')).toEqual({ uid: 1000, gid: 50 });
    expect(numericUser('node')).toBeUndefined();
  });
});

describe('syncSidecar transform', () => {
  const session = (pods: DevPod[]) => ({ apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 's', namespace: 'dev' }, spec: { project: 'p', images, dev: { pods } } }) as any;
  const ctx = (pods: DevPod[], config: (i: string) => Promise<ImageConfigInfo | undefined>, over: Record<string, unknown> = {}) =>
    ({
      session: session(pods),
      deployment: { name: 'd' },
      sessionNamespace: 'dev',
      targetNamespace: 'dev',
      capabilities: { nativeSidecars: true },
      imageConfigs: { config },
      sidecarImage: 'reg.local/dsa/sidecar:1',
      log: { debug() {}, info() {}, warn() {}, error() {} },
      ...over,
    }) as any;

  test('no dev pod with sync: objects pass through untouched, no registry lookup', async () => {
    let asked = 0;
    const obj = deployment();
    const out = await syncSidecar.run([obj], ctx([devPod({ sync: [] })], async () => (asked++, undefined)));
    expect(out[0]).toBe(obj);
    expect(asked).toBe(0);
  });

  test('looks up the image config it needs and injects', async () => {
    const asked: string[] = [];
    const out = await syncSidecar.run([deployment()], ctx([devPod({ sync: [{ localPath: '.', containerPath: '.' }] })], async (i) => (asked.push(i), { workingDir: '/w', user: '1000' })));
    expect(asked).toEqual(['reg.local/team/app:abc']);
    expect(sidecarPaths(tpl(out[0]!).spec)[0]!.containerPath).toBe('/w');
  });

  test('an unreachable registry when the config is needed: a slow-retry stall naming the image and the registry error', async () => {
    const run = syncSidecar.run([deployment()], ctx([devPod({ sync: [{ localPath: '.', containerPath: '.' }] })], async () => { throw new Error('connect ECONNREFUSED'); }));
    await expect(run).rejects.toMatchObject({ name: 'StallError', retryAfterMs: 60_000, message: expect.stringMatching(/reg\.local\/team\/app:abc.*ECONNREFUSED/) });
  });

  test('no sidecar image configured: deployed unchanged (the agent reports sync as unavailable)', async () => {
    const obj = deployment();
    const out = await syncSidecar.run([obj], ctx([devPod()], async () => ({}), { sidecarImage: undefined }));
    expect(out[0]).toBe(obj);
  });
});
