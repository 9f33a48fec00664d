// Full-node tier, DevSpace's sync options on a real dev pod (issue 7, docs/sync.md "Options"): every
// `initialSync` strategy, `initialSyncCompareBy: size`, `disableUpload`/`disableDownload`, `polling`
// (both sides walk the tree instead of inotify: checked in /proc), and reverse forwarding
// (`dev.ports[].reverseForward`). The session comes from a v1beta11 devspace.yaml (DevSpace 5's
// spelling: `dev.sync[]` entries grouped into one dev pod by their selector), rendered by `dsa render`.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import * as fs from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import type { DevSession } from '@dsa/api';
import type { SyncStrategy } from '@dsa/api/sync';
import {
  REMOTE_INOTIFY_SCRIPT,
  SyncWorld,
  eventually,
  localInotifyInodes,
  put,
  renderConfig,
  specSyncPaths,
  type PodRef,
  type RunningSync,
} from '../../lib/sync-harness.js';

jest.setTimeout(300_000);

const APP = 'options';
// `disabled` is v2beta1 only: sync-files.test.ts covers it.
const STRATEGIES: Array<Exclude<SyncStrategy, 'disabled'>> = ['mirrorLocal', 'mirrorRemote', 'preferLocal', 'preferRemote', 'preferNewest', 'keepAll'];
const REMOTE_PORT = 9100;

let w: SyncWorld;
let pod: PodRef;
let project: string;
let session: DevSession;
let sync: RunningSync;
let echo: Server;
let localPort: number;
const dirs: Record<string, number> = {};

const L = (dir: string, rel: string) => path.join(project, 's', dir, rel);
const readL = (dir: string, rel: string) => {
  try {
    return fs.readFileSync(L(dir, rel), 'utf8');
  } catch {
    return undefined;
  }
};
const remoteFiles = async (): Promise<Record<string, string>> => {
  const r = await w.run(pod.pod, 'app', ['node', '-e', "const fs=require('fs'),p=require('path');const o={};const walk=(d,r)=>{for(const n of fs.readdirSync(d)){const a=p.join(d,n),k=r?r+'/'+n:n;const s=fs.lstatSync(a);if(s.isDirectory())walk(a,k);else if(s.isFile())o[k]=fs.readFileSync(a,'utf8')}};walk('/s','');process.stdout.write(JSON.stringify(o))"]);
  return JSON.parse(r.stdout.toString()) as Record<string, string>;
};

function config(manifest: string): string {
  const entry = (dir: string, extra: string) => `  - labelSelector: {app: ${APP}}
    containerName: app
    localSubPath: ./s/${dir}
    containerPath: /s/${dir}
${extra}`;
  return [
    'version: v1beta11',
    'deployments:',
    `- name: ${APP}`,
    '  kubectl:',
    `    manifests: [${manifest}]`,
    'dev:',
    '  ports:',
    `  - labelSelector: {app: ${APP}}`,
    '    containerName: app',
    '    reverseForward:',
    `    - port: ${localPort}`,
    `      remotePort: ${REMOTE_PORT}`,
    '  sync:',
    ...STRATEGIES.map((s) => entry(s, `    initialSync: ${s}\n`)),
    entry('bysize', '    initialSyncCompareBy: size\n'),
    entry('bymtime', '    initialSyncCompareBy: mtime\n'),
    entry('noupload', '    disableUpload: true\n'),
    entry('nodownload', '    disableDownload: true\n'),
    entry('polling', '    polling: true\n'),
    entry('watching', ''),
    '',
  ].join('\n');
}

beforeAll(async () => {
  w = await SyncWorld.start('e2e-sync-opts');
  project = w.dir('project');
  fs.mkdirSync(project, { recursive: true });
  echo = createServer((s) => {
    s.write('hello from the laptop: ');
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  localPort = (echo.address() as AddressInfo).port;
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: APP },
    spec: {
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app: APP } },
      template: {
        metadata: { labels: { app: APP } },
        spec: { terminationGracePeriodSeconds: 1, enableServiceLinks: false, containers: [{ name: 'app', image: w.env.nodeImage, command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'] }] },
      },
    },
  };
  fs.writeFileSync(path.join(project, 'deployment.yaml'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(project, 'devspace.yaml'), config('deployment.yaml'));
  session = await renderConfig(path.join(project, 'devspace.yaml'));
  expect(session.spec.dev?.pods).toHaveLength(1); // v1beta entries with one selector → one dev pod
  expect(session.spec.dev?.pods?.[0]?.reversePorts).toEqual([{ localPort, remotePort: REMOTE_PORT }]);
  await w.apply(APP, session.spec);
  await w.waitReady(APP);
  pod = await w.runningPod(APP);
  (session.spec.dev!.pods![0]!.sync ?? []).forEach((s, i) => (dirs[path.basename(s.containerPath)] = i));

  // Both sides before the first sync.
  const old = '202002010000.00'; // touch -t (busybox and coreutils)
  const remote: Record<string, string | null> = {};
  for (const s of STRATEGIES) {
    put(L(s, ''), 'local-only.txt', 'l');
    put(L(s, ''), 'differ.txt', 'local!'); // newer, and another size than the container's
    remote[`${s}/remote-only.txt`] = 'r';
    remote[`${s}/differ.txt`] = 'remote';
  }
  // same size, different content, the container's older: `size` sees them equal, `mtime` does not
  for (const d of ['bysize', 'bymtime']) {
    put(L(d, ''), 'same-size.txt', 'aaaa');
    remote[`${d}/same-size.txt`] = 'bbbb';
  }
  put(L('noupload', ''), 'local.txt', 'never uploaded');
  remote['noupload/remote.txt'] = 'stays only in the container (mirrorLocal may not delete it)';
  put(L('nodownload', ''), 'local.txt', 'uploaded');
  remote['nodownload/remote.txt'] = 'deleted by mirrorLocal (an upload-direction action)';
  await w.writeRemote(pod.pod, 'app', '/s', remote);
  await w.sh(pod.pod, 'app', `cd /s && touch -t ${old} */differ.txt */same-size.txt`);
  const devPod = session.spec.dev!.pods![0]!.name;
  sync = w.startSync({ session: APP, devPod, paths: specSyncPaths(session.spec, devPod, project), reversePorts: session.spec.dev!.pods![0]!.reversePorts! });
  await sync.session.initialSyncDone;
});

afterAll(async () => {
  await sync?.stop();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  await w?.close();
});

describe('initialSync', () => {
  // local-only, container-only, and a file that differs (the laptop's newer): [laptop has it, container has it]
  const expected: Record<(typeof STRATEGIES)[number], { localOnly: [boolean, boolean]; remoteOnly: [boolean, boolean]; differ: string }> = {
    mirrorLocal: { localOnly: [true, true], remoteOnly: [false, false], differ: 'local!' },
    mirrorRemote: { localOnly: [false, false], remoteOnly: [true, true], differ: 'remote' },
    preferLocal: { localOnly: [true, true], remoteOnly: [true, true], differ: 'local!' },
    preferRemote: { localOnly: [true, true], remoteOnly: [true, true], differ: 'remote' },
    preferNewest: { localOnly: [true, true], remoteOnly: [true, true], differ: 'local!' },
    keepAll: { localOnly: [true, true], remoteOnly: [true, true], differ: 'split' },
  };
  it.each(STRATEGIES)('%s does what DevSpace does', async (s) => {
    const r = await remoteFiles();
    const got = {
      localOnly: [readL(s, 'local-only.txt') !== undefined, r[`${s}/local-only.txt`] !== undefined],
      remoteOnly: [readL(s, 'remote-only.txt') !== undefined, r[`${s}/remote-only.txt`] !== undefined],
      differ: readL(s, 'differ.txt') === r[`${s}/differ.txt`] ? readL(s, 'differ.txt') : 'split',
    };
    expect(got).toEqual(expected[s]);
    // a first sync has nothing to arbitrate: no conflict copies
    expect(fs.readdirSync(L(s, '')).filter((n) => n.includes('.dsa-conflict-'))).toEqual([]);
  });
});

describe('initialSyncCompareBy', () => {
  it('size: same-size files count as equal and stay as they are; mtime: the hashes differ, the laptop wins', async () => {
    const r = await remoteFiles();
    expect([readL('bysize', 'same-size.txt'), r['bysize/same-size.txt']]).toEqual(['aaaa', 'bbbb']);
    expect([readL('bymtime', 'same-size.txt'), r['bymtime/same-size.txt']]).toEqual(['aaaa', 'aaaa']);
  });
});

describe('one direction', () => {
  it('disableUpload: nothing goes up, not even deletions; the container\'s changes come down', async () => {
    const r = await remoteFiles();
    expect(r['noupload/local.txt']).toBeUndefined();
    expect(r['noupload/remote.txt']).toBeDefined();
    put(L('noupload', ''), 'live-local.txt', 'never uploaded');
    await w.writeRemote(pod.pod, 'app', '/s/noupload', { 'live-remote.txt': 'comes down' });
    await eventually('the container change on the laptop', () => readL('noupload', 'live-remote.txt') === 'comes down');
    await new Promise((res) => setTimeout(res, 500));
    expect((await remoteFiles())['noupload/live-local.txt']).toBeUndefined();
  });

  it('disableDownload: the laptop\'s changes go up; nothing comes down', async () => {
    const r = await remoteFiles();
    expect(r['nodownload/local.txt']).toBe('uploaded');
    expect(r['nodownload/remote.txt']).toBeUndefined();
    await w.writeRemote(pod.pod, 'app', '/s/nodownload', { 'live-remote.txt': 'stays in the container' });
    put(L('nodownload', ''), 'live-local.txt', 'goes up');
    await eventually('the laptop change in the container', async () => (await remoteFiles())['nodownload/live-local.txt'] === 'goes up');
    await new Promise((res) => setTimeout(res, 500));
    expect(readL('nodownload', 'live-remote.txt')).toBeUndefined();
  });
});

describe('polling', () => {
  it('both sides walk the tree (no inotify watch on it) and changes still travel both ways', async () => {
    const idx = { polling: dirs.polling!, watching: dirs.watching! };
    const remoteRoots = [`/.dsa/sync/${idx.polling}`, `/.dsa/sync/${idx.watching}`];
    const rr = JSON.parse((await w.run(pod.pod, 'dsa-sync', ['node', '-e', REMOTE_INOTIFY_SCRIPT, ...remoteRoots])).stdout.toString()) as { watched: number[]; paths: Record<string, number> };
    const watched = new Set(rr.watched);
    expect({ polling: watched.has(rr.paths[remoteRoots[0]!]!), watching: watched.has(rr.paths[remoteRoots[1]!]!) }).toEqual({ polling: false, watching: true });
    const local = localInotifyInodes();
    expect({ polling: local.has(fs.statSync(L('polling', '')).ino), watching: local.has(fs.statSync(L('watching', '')).ino) }).toEqual({ polling: false, watching: true });

    put(L('polling', ''), 'up.txt', 'polled up');
    await w.writeRemote(pod.pod, 'app', '/s/polling', { 'down.txt': 'polled down' });
    await eventually('both changes', async () => readL('polling', 'down.txt') === 'polled down' && (await remoteFiles())['polling/up.txt'] === 'polled up', 20_000);
  });
});

describe('reverse forwarding (v1beta dev.ports[].reverseForward)', () => {
  it('a process in the container that connects to localhost:PORT reaches the server on the laptop', async () => {
    await sync.waitEvent('the listener in the pod', (e) => e.type === 'tunnel' && e.ok);
    const script = `const net = require('net');
const c = net.connect(${REMOTE_PORT}, 'localhost');
const want = require('crypto').randomBytes(300000).toString('base64');
let got = '';
c.on('data', (d) => { got += d; if (got.length >= want.length + 23) { c.end(); process.stdout.write(got.slice(0, 23) + (got.slice(23) === want ? 'echoed intact' : 'corrupted')); } });
c.on('error', (e) => { console.error(e.message); process.exit(1); });
c.write(want);`;
    const r = await w.run(pod.pod, 'app', ['node', '-e', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('hello from the laptop: echoed intact');
  });
});
