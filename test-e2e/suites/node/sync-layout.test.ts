// Full-node tier, the dev pod's layout (issue 7, docs/sync.md "In the pod"): a DevSession applied with
// kubectl (GitOps: no agent, no CLI) gets the native dsa-sync sidecar, which idles until an agent
// execs into it; the image's own files under a sync path stay visible (seeded), also for an image with
// no shell; a relative containerPath resolves from the image's WORKDIR; onUpload.restartContainer
// restarts the process (not the pod) whatever the entrypoint, including one that only the image config
// names; startContainer holds the app until the initial sync; removing sync restores the template.
//
// The images are derived from the harness's node and pause images in the registry (registry-image.ts):
// a layer of files plus WORKDIR/CMD, no build.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as fs from 'node:fs';
import path from 'node:path';
import type { DevSessionSpec } from '@dsa/api';
import { deriveImage } from '../../lib/registry-image.js';
import { SyncWorld, deploymentManifest, eventually, put, registryImages, type RunningSync } from '../../lib/sync-harness.js';
import { waitFor } from '../../lib/index.js';

jest.setTimeout(300_000);

const SESSION = 'layout';
// Each start appends `<pid> <version.txt at start>` to /tmp/starts.log (outside the synced folder).
const SERVER = `const fs = require('fs');
const v = fs.existsSync('version.txt') ? fs.readFileSync('version.txt', 'utf8').trim() : 'none';
fs.appendFileSync('/tmp/starts.log', process.pid + ' ' + v + '\\n');
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

let w: SyncWorld;
let cmdImage: string;
let bareImage: string;
let spec: DevSessionSpec;
const syncs: Record<string, RunningSync> = {};

const podOf = (app: string) => w.runningPod(app);
const starts = async (pod: string) => {
  const r = await w.run(pod, 'app', ['cat', '/tmp/starts.log']);
  return r.code === 0 ? r.stdout.toString().trim().split('\n') : [];
};
const supervisor = async (pod: string) => JSON.parse((await w.run(pod, 'dsa-sync', ['cat', '/.dsa/ctl/supervisor.json'])).stdout.toString() || '{}') as { restarts?: number; running?: boolean; pid?: number };
const appRestarts = async (pod: string) => (await w.readPod(pod)).status?.containerStatuses?.find((c) => c.name === 'app')?.restartCount;

beforeAll(async () => {
  w = await SyncWorld.start('e2e-sync-layout');
  const pause = process.env.DSA_PAUSE_IMAGE;
  if (!pause) throw new Error('DSA_PAUSE_IMAGE is not set (eval "$(make -s cluster-env)")');
  [cmdImage, bareImage] = await Promise.all([
    // WORKDIR /srv/app, CMD [node, server.js], no ENTRYPOINT: the command comes from the image config
    deriveImage(w.env.nodeImage, {
      files: { '/srv/app/server.js': { content: SERVER }, '/srv/app/version.txt': { content: 'image\n' }, '/srv/app/lib/util.js': { content: 'module.exports = 1;\n' } },
      workingDir: '/srv/app',
      entrypoint: null,
      cmd: ['node', 'server.js'],
    }),
    // scratch-like: no shell, no libc; its entrypoint is /pause
    deriveImage(pause, { files: { '/data/seed.txt': { content: 'seeded from an image without a shell\n' }, '/data/sub/deep.txt': { content: 'deep\n' } }, workingDir: '/data' }),
  ]);
  spec = {
    project: 'sync-layout',
    images: registryImages([cmdImage, bareImage]),
    deployments: [
      { name: 'withcmd', kubectl: { manifests: [deploymentManifest({ name: 'withcmd', image: cmdImage })] } },
      { name: 'noshell', kubectl: { manifests: [deploymentManifest({ name: 'noshell', image: bareImage })] } },
      { name: 'waitstart', kubectl: { manifests: [deploymentManifest({ name: 'waitstart', image: cmdImage, command: ['node', 'server.js'] })] } },
    ],
    dev: {
      pods: [
        // DevSpace's default containerPath `.`: the image's WORKDIR
        { name: 'withcmd', selector: { labelSelector: { app: 'withcmd' } }, sync: [{ localPath: 'withcmd', containerPath: '.', initialSync: 'preferRemote', onUpload: { restartContainer: true } }] },
        { name: 'noshell', selector: { labelSelector: { app: 'noshell' } }, sync: [{ localPath: 'noshell', containerPath: '.', initialSync: 'mirrorRemote', onUpload: { restartContainer: true } }] },
        { name: 'waitstart', selector: { labelSelector: { app: 'waitstart' } }, sync: [{ localPath: 'waitstart', containerPath: '/srv/app', initialSync: 'preferLocal', startContainer: true }] },
      ],
    },
  };
  await w.kubectlApply(SESSION, spec);
  await w.waitReady(SESSION, 240_000);
});

afterAll(async () => {
  for (const s of Object.values(syncs)) await s.stop();
  await w?.close();
});

describe('a session applied with kubectl, no agent', () => {
  it('gets the native dev sidecar, the seed step and the sync volumes; the sidecar idles', async () => {
    for (const app of ['withcmd', 'noshell', 'waitstart']) {
      const { pod } = await podOf(app);
      const p = await w.readPod(pod);
      const inits = p.spec?.initContainers ?? [];
      expect({ app, inits: inits.map((c) => [c.name, c.restartPolicy ?? null]) }).toEqual({ app, inits: [['dsa-tools', null], ['dsa-seed', null], ['dsa-sync', 'Always']] });
      // the seed step runs the APP's image, through the static helper (no shell needed)
      expect(inits[1]?.image).toBe(p.spec?.containers[0]?.image);
      expect(inits[1]?.command?.slice(0, 2)).toEqual(['/.dsa/bin/dsa-helper', 'seed']);
      expect(p.spec?.containers.map((c) => c.name)).toEqual(['app']);
      expect(p.status?.initContainerStatuses?.find((c) => c.name === 'dsa-sync')?.started).toBe(true);
      // idle: the sidecar runs its daemon and nothing else until an agent execs `dsa-sidecar serve`
      const procs = await w.run(pod, 'dsa-sync', ['node', '-e', "const fs=require('fs');for(const d of fs.readdirSync('/proc')){if(!/^\\d+$/.test(d))continue;try{console.log(fs.readFileSync('/proc/'+d+'/cmdline','utf8').split('\\0').join(' ').trim())}catch{}}"]);
      const lines = procs.stdout.toString().trim().split('\n').filter((l) => l && !l.startsWith('node -e'));
      expect({ app, lines }).toEqual({ app, lines: [expect.stringMatching(/dsa-sidecar daemon$/)] });
    }
    const s = await w.h.getSession(SESSION);
    expect(s?.status?.phase).toBe('Ready');
    // no agent: nobody wrote the agent's status fields
    expect(s?.status?.sync).toBeUndefined();
    // startContainer: with no agent, the app has not started
    expect(await starts((await podOf('waitstart')).pod)).toEqual([]);
  });

  it('keeps the image\'s own files under the sync path visible, and resolves containerPath "." from the image WORKDIR', async () => {
    const { pod } = await podOf('withcmd');
    expect((await w.run(pod, 'app', ['cat', '/srv/app/version.txt'])).stdout.toString()).toBe('image\n');
    expect((await w.run(pod, 'app', ['cat', '/srv/app/lib/util.js'])).stdout.toString()).toBe('module.exports = 1;\n');
    const p = await w.readPod(pod);
    expect(p.spec?.containers[0]?.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'dsa-sync-0', mountPath: '/srv/app' })]));
    const paths = JSON.parse(p.spec?.initContainers?.find((c) => c.name === 'dsa-sync')?.env?.find((e) => e.name === 'DSA_SYNC_PATHS')?.value ?? '[]') as Array<{ containerPath: string }>;
    expect(paths.map((x) => x.containerPath)).toEqual(['/srv/app']);
    // the app's process is the supervisor running the image config's CMD
    expect(p.spec?.containers[0]?.command).toEqual(['/.dsa/bin/dsa-helper', 'supervise', '--ctl', '/.dsa/ctl', '--', 'node', 'server.js']);
    // and it saw the seeded files when it started
    expect(await starts(pod)).toEqual([expect.stringMatching(/^\d+ image$/)]);
  });

  it('seeds an image without a shell the same way', async () => {
    const { pod } = await podOf('noshell');
    const sh = await w.run(pod, 'app', ['sh', '-c', 'true']);
    expect(sh.code).not.toBe(0); // really no shell in there
    const p = await w.readPod(pod);
    expect(p.spec?.containers[0]?.volumeMounts).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'dsa-sync-0', mountPath: '/data' })]));
    expect(p.spec?.containers[0]?.command).toEqual(['/.dsa/bin/dsa-helper', 'supervise', '--ctl', '/.dsa/ctl', '--', '/pause']);
    // the same volume, seen from the sidecar
    const t = await w.tree(pod, 'dsa-sync', '/.dsa/sync/0');
    expect([...t.keys()].sort()).toEqual(['seed.txt', 'sub', 'sub/deep.txt']);
    expect((await supervisor(pod)).running).toBe(true);
  });
});

describe('with the agent', () => {
  it('the initial sync brings the image\'s files down, from both images', async () => {
    for (const app of ['withcmd', 'noshell']) {
      const local = path.join(w.work, app);
      syncs[app] = w.startSync({ session: app, devPod: app, paths: [{ ...spec.dev!.pods!.find((p) => p.name === app)!.sync![0]!, localPath: local }] });
    }
    await Promise.all([syncs.withcmd!.session.initialSyncDone, syncs.noshell!.session.initialSyncDone]);
    expect(fs.readFileSync(path.join(w.work, 'withcmd/version.txt'), 'utf8')).toBe('image\n');
    expect(fs.readFileSync(path.join(w.work, 'withcmd/lib/util.js'), 'utf8')).toBe('module.exports = 1;\n');
    expect(fs.readFileSync(path.join(w.work, 'noshell/seed.txt'), 'utf8')).toBe('seeded from an image without a shell\n');
    expect(fs.readFileSync(path.join(w.work, 'noshell/sub/deep.txt'), 'utf8')).toBe('deep\n');
  });

  it('onUpload.restartContainer restarts the process whose command came from the image config, not the pod; synced files survive', async () => {
    const before = await podOf('withcmd');
    const [first] = await starts(before.pod);
    const from = syncs.withcmd!.events.length;
    put(path.join(w.work, 'withcmd'), 'version.txt', 'v2\n');
    await syncs.withcmd!.waitEvent('the restart request', (e) => e.type === 'restart' && e.ok, { from });
    const lines = await waitFor('a second start', async () => {
      const l = await starts(before.pod);
      return l.length >= 2 ? l : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(lines.at(-1)).toMatch(/^\d+ v2$/); // the new process read the synced file
    expect(lines.at(-1)!.split(' ')[0]).not.toBe(first!.split(' ')[0]);
    const after = await podOf('withcmd');
    expect(after.uid).toBe(before.uid);
    expect(await appRestarts(after.pod)).toBe(0);
    expect((await w.run(after.pod, 'app', ['cat', '/srv/app/version.txt'])).stdout.toString()).toBe('v2\n');
    expect((await supervisor(after.pod)).restarts).toBeGreaterThanOrEqual(1);
  });

  it('restarts /pause in the image without a shell too', async () => {
    const { pod, uid } = await podOf('noshell');
    const r0 = (await supervisor(pod)).restarts ?? 0;
    const pid0 = (await supervisor(pod)).pid;
    put(path.join(w.work, 'noshell'), 'new.txt', 'uploaded');
    await eventually('the supervisor restarted /pause', async () => ((await supervisor(pod)).restarts ?? 0) > r0 && (await supervisor(pod)).running === true);
    expect((await supervisor(pod)).pid).not.toBe(pid0);
    expect((await w.tree(pod, 'dsa-sync', '/.dsa/sync/0')).get('new.txt')?.s).toBe(8);
    expect((await podOf('noshell')).uid).toBe(uid);
    expect(await appRestarts(pod)).toBe(0);
  });

  it('startContainer: the app starts once the initial sync is done, and sees the synced files', async () => {
    const { pod } = await podOf('waitstart');
    expect(await starts(pod)).toEqual([]);
    const local = path.join(w.work, 'waitstart');
    put(local, 'version.txt', 'from the laptop\n');
    syncs.waitstart = w.startSync({ session: 'waitstart', devPod: 'waitstart', paths: [{ ...spec.dev!.pods!.find((p) => p.name === 'waitstart')!.sync![0]!, localPath: local }] });
    await syncs.waitstart.session.initialSyncDone;
    const lines = await waitFor('the app to start', async () => {
      const l = await starts(pod);
      return l.length ? l : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(lines).toEqual([expect.stringMatching(/^\d+ from the laptop$/)]);
  });
});

describe('removing sync', () => {
  it('restores the original pod template', async () => {
    for (const s of Object.values(syncs)) await s.stop();
    const plain: DevSessionSpec = { ...spec, dev: { pods: spec.dev!.pods!.map(({ sync: _s, ...p }) => p) } };
    await w.kubectlApply(SESSION, plain);
    await w.waitReady(SESSION, 240_000);
    for (const app of ['withcmd', 'noshell', 'waitstart']) {
      const d = await w.apps.readNamespacedDeployment({ namespace: w.namespace, name: app });
      const manifest = JSON.parse(spec.deployments!.find((x) => x.name === app)!.kubectl!.manifests![0]!) as { spec: { template: { spec: Record<string, unknown> } } };
      const t = d.spec!.template;
      expect({ app, initContainers: t.spec?.initContainers ?? [], volumes: t.spec?.volumes ?? [], annotations: Object.keys(t.metadata?.annotations ?? {}).filter((k) => k.startsWith('dsa.dev/dev-sidecar')) }).toEqual({ app, initContainers: [], volumes: [], annotations: [] });
      const c = t.spec!.containers[0]!;
      const want = (manifest.spec.template.spec.containers as Array<Record<string, unknown>>)[0]!;
      expect({ app, image: c.image, command: c.command, volumeMounts: c.volumeMounts ?? [] }).toEqual({ app, image: want.image, command: want.command, volumeMounts: [] });
    }
    // and the pods that run now have no sidecar
    const { pod } = await w.runningPod('withcmd');
    expect((await w.readPod(pod)).spec?.initContainers ?? []).toEqual([]);
  });
});
