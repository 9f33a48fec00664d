// Full-node tier, file sync (issue 7): what travels between a laptop folder and a real dev pod, both
// ways, through the operator-injected sidecar over pods/exec: creates, edits, deletes, renames, empty
// directories, the exec bit, binary and 100 MB files, symlinks inside the tree (kept) and escaping ones
// (refused), excludes each way with .gitignore semantics and the *ExcludeFile variants, what a
// malicious container cannot do to the laptop (names it cannot use: one warning each); `initialSync: disabled`, `noWatch`, `bandwidthLimits`
// and `reversePorts` (v2beta1).
//
// The session comes from a real v2beta1 devspace.yaml (`dsa render`, the loader reading the exclude
// files), applied like `dsa up` applies it; the agent's sync engine (SyncSession + execTransport) is
// driven directly with the rendered sync paths.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import {
  SyncWorld,
  comparable,
  eventually,
  localTree,
  put,
  renderConfig,
  specSyncPaths,
  type PodRef,
  type RunningSync,
} from '../../lib/sync-harness.js';

jest.setTimeout(300_000);

const APP = 'files';
const config = (echoPort: number) => `version: v2beta1
name: sync-files
vars:
  NODE_IMAGE: {source: env, default: node:20}
deployments:
  files:
    kubectl:
      inlineManifest: |-
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: files}
        spec:
          replicas: 1
          strategy: {type: Recreate}
          selector: {matchLabels: {app: files}}
          template:
            metadata: {labels: {app: files}}
            spec:
              terminationGracePeriodSeconds: 1
              enableServiceLinks: false
              containers:
                - name: app
                  image: \${NODE_IMAGE}
                  command: [node, -e, "setInterval(() => {}, 1 << 30)"]
dev:
  app:
    labelSelector: {app: files}
    container: app
    reversePorts:
      - port: "${echoPort}:9200"
    sync:
      - path: ./tree:/app
        excludePaths: [node_modules/, "*.tmp", "!keep.tmp"]
        excludeFile: .syncignore
        uploadExcludePaths: ["*.log"]
        uploadExcludeFile: .uploadignore
        downloadExcludePaths: [gen/]
        downloadExcludeFile: .downloadignore
      - path: ./big:/big
      - path: ./disabled:/disabled
        initialSync: disabled
      - path: ./nowatch:/nowatch
        noWatch: true
      - path: ./slow:/slow
        bandwidthLimits: {upload: 200, download: 200}
`;

let w: SyncWorld;
let pod: PodRef;
let project: string;
let tree: string;
let big: string;
let outside: string;
let sync: RunningSync;
let echo: Server;
let initialMs = 0;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const exists = (p: string) => {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const remote = () => w.tree(pod.pod, 'app', '/app');
/** A name with a control character or a backslash (never valid from the other side). */
const hostile = (name: string) => [...name].some((c) => c.charCodeAt(0) < 0x20 || c === '\\');
/** Paths both sides sync (what the excludes leave on each side is checked separately). */
const synced = (p: string) => !/^(node_modules|gen)(\/|$)|\.cache$|\.log$|^local-only\.txt$|^secret\.env$|^build(\/|$)|\.tmp$/.test(p) || p === 'keep.tmp';

beforeAll(async () => {
  w = await SyncWorld.start('e2e-sync-files');
  project = w.dir('project');
  tree = path.join(project, 'tree');
  big = path.join(project, 'big');
  outside = path.join(project, 'outside');
  fs.mkdirSync(outside, { recursive: true });
  fs.mkdirSync(big, { recursive: true });
  // The exclude files live in the sync's local folder (DevSpace resolves them there); git's reading rules.
  put(tree, '.syncignore', '# excluded both ways\nsecret.env\n/build/\n');
  put(tree, '.uploadignore', '\uFEFFlocal-only.txt\r\n');
  put(tree, '.downloadignore', '*.cache\n');
  const configFile = path.join(project, 'devspace.yaml');
  echo = createServer((c) => c.pipe(c));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  fs.writeFileSync(configFile, config((echo.address() as AddressInfo).port));
  const session = await renderConfig(configFile, { NODE_IMAGE: w.env.nodeImage });
  // The exclude files' lines reached the DevSession (so a kubectl-applied copy needs no files).
  expect(session.spec.dev?.pods?.[0]?.sync?.[0]).toMatchObject({
    excludePaths: ['node_modules/', '*.tmp', '!keep.tmp', 'secret.env', '/build/'],
    uploadExcludePaths: ['*.log', 'local-only.txt'],
    downloadExcludePaths: ['gen/', '*.cache'],
  });
  await w.apply(APP, session.spec);
  await w.waitReady(APP);
  pod = await w.runningPod(APP);

  // The laptop side before the first sync.
  put(tree, 'src/app.js', 'console.log(1)\n');
  put(tree, 'run.sh', '#!/bin/sh\necho hi\n', 0o755);
  fs.mkdirSync(path.join(tree, 'empty/nested'), { recursive: true });
  put(tree, 'bin.dat', randomBytes(200_000));
  fs.symlinkSync('src/app.js', path.join(tree, 'link'));
  fs.symlinkSync('src', path.join(tree, 'dirlink'));
  fs.symlinkSync('../../etc/passwd', path.join(tree, 'escape'));
  fs.symlinkSync('/etc/passwd', path.join(tree, 'absolute'));
  put(tree, 'node_modules/x/index.js', 'module');
  put(tree, 'cache.tmp', 'scratch');
  put(tree, 'keep.tmp', 're-included by !keep.tmp');
  put(tree, 'secret.env', 'TOKEN=1');
  put(tree, 'build/out.o', 'anchored /build/ from the exclude file');
  put(tree, 'sub/build/x.txt', 'not anchored: synced');
  put(tree, 'debug.log', 'upload-excluded');
  put(tree, 'local-only.txt', 'upload-excluded by the upload exclude file');
  // The container side before the first sync.
  await w.writeRemote(pod.pod, 'app', '/app', {
    'stale.txt': 'only in the container: mirrorLocal deletes it',
    'gen/out.txt': 'download-excluded: invisible, kept',
    'pod.cache': 'download-excluded by the download exclude file',
    'node_modules/y/index.js': 'excluded both ways: kept',
    'server.log': 'upload-excluded here, so it comes down',
  });
  put(path.join(project, 'nowatch'), 'first.txt', 'in the initial sync');
  put(path.join(project, 'slow'), 'up.bin', randomBytes(700 * 1024));
  put(path.join(project, 'disabled'), 'local-only.txt', 'l');
  put(path.join(project, 'disabled'), 'differ.txt', 'local');
  await w.writeRemote(pod.pod, 'app', '/disabled', { 'remote-only.txt': 'r', 'differ.txt': 'remote' });
  sync = w.startSync({ session: APP, devPod: 'app', paths: specSyncPaths(session.spec, 'app', project), reversePorts: session.spec.dev!.pods![0]!.reversePorts! });
  const t0 = Date.now();
  await sync.session.initialSyncDone;
  initialMs = Date.now() - t0;
});

afterAll(async () => {
  await sync?.stop();
  await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  await w?.close();
});

describe('initial sync (mirrorLocal) from a v2beta1 devspace.yaml', () => {
  it('mirrors the laptop: contents, exec bit, empty directories, binary, symlinks inside the tree', async () => {
    const r = await remote();
    const l = localTree(tree);
    const inTree = (p: string) => synced(p) && p !== 'escape' && p !== 'absolute' && p !== 'stale.txt';
    expect(comparable(r, inTree)).toEqual(comparable(l, inTree));
    expect(r.get('run.sh')?.m).toBe(0o755);
    expect(r.get('empty/nested')?.t).toBe('d');
    expect(r.get('link')).toMatchObject({ t: 'l', l: 'src/app.js' });
    expect(r.get('dirlink')).toMatchObject({ t: 'l', l: 'src' });
    expect(r.get('bin.dat')?.h).toBe(l.get('bin.dat')?.h);
    // mtimes travel (whole ms), so a later compare by mtime finds them equal
    const st = await w.sh(pod.pod, 'app', 'stat -c %Y /app/src/app.js');
    expect(Number(st.trim())).toBe(Math.floor(fs.statSync(path.join(tree, 'src/app.js')).mtimeMs / 1000));
  });

  it('refuses symlinks that leave the tree, with a warning', async () => {
    const r = await remote();
    expect(r.has('escape')).toBe(false);
    expect(r.has('absolute')).toBe(false);
    const warnings = sync.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message).join('\n');
    expect(warnings).toMatch(/escape/);
    expect(warnings).toMatch(/absolute/);
  });

  it('applies excludes each way with .gitignore semantics, inline and from the exclude files', async () => {
    const r = await remote();
    // excluded both ways: never uploaded, and the container's own copies are neither deleted nor downloaded
    expect(r.has('node_modules/x')).toBe(false);
    expect(r.get('node_modules/y/index.js')?.t).toBe('f');
    expect(exists(path.join(tree, 'node_modules/y'))).toBe(false);
    expect(r.has('cache.tmp')).toBe(false);
    expect(r.get('keep.tmp')?.t).toBe('f'); // `!keep.tmp` re-includes
    expect(r.has('secret.env')).toBe(false); // excludeFile
    expect(r.has('build')).toBe(false); // `/build/` is anchored …
    expect(r.get('sub/build/x.txt')?.t).toBe('f'); // … so sub/build is synced
    // upload-excluded: not uploaded; a container version comes down (mirrorLocal may not upload over it)
    expect(r.has('debug.log')).toBe(false);
    expect(r.has('local-only.txt')).toBe(false); // uploadExcludeFile (BOM and CRLF read as git does)
    expect(fs.readFileSync(path.join(tree, 'server.log'), 'utf8')).toBe('upload-excluded here, so it comes down');
    // download-excluded: invisible to the sync, kept in the container
    expect(r.get('gen/out.txt')?.t).toBe('f');
    expect(r.get('pod.cache')?.t).toBe('f'); // downloadExcludeFile
    expect(exists(path.join(tree, 'gen'))).toBe(false);
    expect(exists(path.join(tree, 'pod.cache'))).toBe(false);
    // mirrorLocal deleted what only the container had
    expect(r.has('stale.txt')).toBe(false);
  });
});

describe('initialSync: disabled (v2beta1)', () => {
  it('transfers nothing at start; later changes travel', async () => {
    const d = path.join(project, 'disabled');
    const r = await w.tree(pod.pod, 'app', '/disabled');
    expect([...r.keys()].sort()).toEqual(['differ.txt', 'remote-only.txt']);
    expect(fs.readdirSync(d).sort()).toEqual(['differ.txt', 'local-only.txt']);
    expect(fs.readFileSync(path.join(d, 'differ.txt'), 'utf8')).toBe('local');
    put(d, 'later.txt', 'after the start');
    await w.writeRemote(pod.pod, 'app', '/disabled', { 'later-remote.txt': 'after the start' });
    await eventually('both later changes', async () => exists(path.join(d, 'later-remote.txt')) && (await w.tree(pod.pod, 'app', '/disabled')).has('later.txt'));
  });
});

describe('noWatch and bandwidthLimits (v2beta1)', () => {
  it('noWatch: the initial sync only; later changes stay where they are', async () => {
    expect((await w.tree(pod.pod, 'app', '/nowatch')).get('first.txt')?.s).toBe(19);
    await sync.waitEvent('the stopped path', (e) => e.type === 'state' && e.path.containerPath === '/nowatch' && e.state === 'stopped');
    put(path.join(project, 'nowatch'), 'later.txt', 'not synced');
    await w.writeRemote(pod.pod, 'app', '/nowatch', { 'later-remote.txt': 'not synced' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await w.tree(pod.pod, 'app', '/nowatch')).has('later.txt')).toBe(false);
    expect(exists(path.join(project, 'nowatch/later-remote.txt'))).toBe(false);
  });

  it('bandwidthLimits: 700 KiB at 200 KiB/s take more than 2 s each way, and arrive intact', async () => {
    // the initial sync waited for the slow path: 700 KiB after a 256 KiB burst at 200 KiB/s ≥ 2.2 s
    expect(initialMs).toBeGreaterThan(2_000);
    const l = path.join(project, 'slow');
    expect((await w.tree(pod.pod, 'app', '/slow')).get('up.bin')?.h).toBe(localTree(l).get('up.bin')?.h);
    const t0 = Date.now();
    await w.sh(pod.pod, 'app', 'head -c 716800 /dev/urandom > /slow/.part && mv /slow/.part /slow/down.bin');
    const want = (await w.tree(pod.pod, 'app', '/slow')).get('down.bin')?.h;
    await eventually('the download', () => localTree(l).get('down.bin')?.h === want, 30_000);
    const took = Date.now() - t0;
    console.log(`bandwidthLimits 200 KiB/s: 700 KiB initial sync ${initialMs} ms (whole session), download ${took} ms`);
    expect(took).toBeGreaterThan(2_000);
  });
});

describe('reverse forwarding (v2beta1 reversePorts)', () => {
  it('a process in the container that connects to localhost:9200 reaches the laptop', async () => {
    await sync.waitEvent('the listener in the pod', (e) => e.type === 'tunnel' && e.ok);
    const script = `const c = require('net').connect(9200, 'localhost');
const want = require('crypto').randomBytes(100000).toString('hex');
let got = '';
c.on('data', (d) => { got += d; if (got.length >= want.length) { c.end(); process.stdout.write(got === want ? 'echoed intact' : 'corrupted'); } });
c.on('error', (e) => { console.error(e.message); process.exit(1); });
c.write(want);`;
    const r = await w.run(pod.pod, 'app', ['node', '-e', script]);
    expect({ out: r.stdout.toString(), err: r.stderr }).toEqual({ out: 'echoed intact', err: '' });
  });
});

describe('live sync', () => {
  it('laptop → container: creates, edits, deletes, renames, empty directories, chmod, symlink changes; excluded files stay home', async () => {
    put(tree, 'src/app.js', 'console.log(2)\n');
    put(tree, 'src/new/deep.txt', 'deep');
    fs.chmodSync(path.join(tree, 'run.sh'), 0o644);
    fs.renameSync(path.join(tree, 'bin.dat'), path.join(tree, 'moved.dat'));
    fs.renameSync(path.join(tree, 'sub'), path.join(tree, 'sub-renamed'));
    fs.rmSync(path.join(tree, 'empty'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'fresh-empty/inner'), { recursive: true });
    fs.unlinkSync(path.join(tree, 'link'));
    fs.symlinkSync('run.sh', path.join(tree, 'link'));
    fs.unlinkSync(path.join(tree, 'keep.tmp'));
    put(tree, 'again.log', 'upload-excluded');
    put(tree, 'more.tmp', 'excluded');
    put(tree, 'build/more.o', 'excluded');
    put(tree, 'node_modules/z/index.js', 'excluded');
    await eventually('the laptop edits in the container', async () => {
      const r = await remote();
      return (
        r.get('src/app.js')?.s === 15 &&
        r.get('src/new/deep.txt')?.t === 'f' &&
        r.get('run.sh')?.m === 0o644 &&
        r.has('moved.dat') &&
        !r.has('bin.dat') &&
        r.get('sub-renamed/build/x.txt')?.t === 'f' &&
        !r.has('sub') &&
        !r.has('empty') &&
        r.get('fresh-empty/inner')?.t === 'd' &&
        r.get('link')?.l === 'run.sh' &&
        !r.has('keep.tmp')
      );
    });
    const r = await remote();
    const l = localTree(tree);
    const inTree = (p: string) => synced(p) && p !== 'escape' && p !== 'absolute' && p !== 'server.log';
    expect(comparable(r, inTree)).toEqual(comparable(l, inTree));
    for (const p of ['again.log', 'more.tmp', 'build', 'node_modules/z']) expect(r.has(p)).toBe(false);
    const up = sync.events.filter((e) => e.type === 'batch' && e.direction === 'up');
    expect(up.length).toBeGreaterThan(0);
  });

  it('container → laptop: creates, edits, deletes, renames, empty directories, chmod, symlinks, binary; excluded files stay in the pod', async () => {
    const bin = randomBytes(300_000);
    await w.sh(
      pod.pod,
      'app',
      [
        'set -e',
        'cd /app',
        "printf 'from the container' > src/app.js",
        'mkdir -p made/in/pod && echo made > made/in/pod/file.txt',
        'mkdir -p pod-empty/dir',
        'rm -rf src/new',
        'mv moved.dat moved-again.dat',
        'chmod 700 run.sh',
        'ln -s made/in/pod/file.txt pod-link',
        'cat > pod.bin',
        'echo still-invisible > gen/more.txt',
        'echo never > other.cache',
        'echo comes-down > pod.log',
      ].join('\n'),
      bin,
    );
    await eventually('the container edits on the laptop', async () => {
      const l = localTree(tree);
      return (
        fs.readFileSync(path.join(tree, 'src/app.js'), 'utf8') === 'from the container' &&
        l.get('made/in/pod/file.txt')?.t === 'f' &&
        l.get('pod-empty/dir')?.t === 'd' &&
        !l.has('src/new') &&
        l.has('moved-again.dat') &&
        !l.has('moved.dat') &&
        l.get('run.sh')?.m === 0o700 &&
        l.get('pod-link')?.l === 'made/in/pod/file.txt' &&
        l.get('pod.bin')?.s === bin.length &&
        l.has('pod.log')
      );
    });
    expect(sha(fs.readFileSync(path.join(tree, 'pod.bin')))).toBe(sha(bin));
    expect(exists(path.join(tree, 'gen'))).toBe(false);
    expect(exists(path.join(tree, 'other.cache'))).toBe(false);
    // what came down does not go back up as a change (echo suppression)
    const ups = sync.events.filter((e) => e.type === 'uploaded').length;
    await new Promise((r) => setTimeout(r, 500));
    expect(sync.events.filter((e) => e.type === 'uploaded').length).toBe(ups);
    expect(fs.readdirSync(tree).filter((n) => n.includes('.dsa-conflict-'))).toEqual([]);
  });

  it('a 100 MB file goes up and another comes down, intact', async () => {
    const upFile = path.join(big, 'up.bin');
    const fd = fs.openSync(upFile, 'w');
    const block = randomBytes(1 << 20);
    const h = createHash('sha256');
    for (let i = 0; i < 100; i++) {
      block.writeUInt32LE(i, 0);
      fs.writeSync(fd, block);
      h.update(block);
    }
    fs.closeSync(fd);
    const upSha = h.digest('hex');
    const t0 = Date.now();
    await eventually('100 MB in the container', async () => (await w.tree(pod.pod, 'app', '/big', { hashMax: 0 })).get('up.bin')?.s === 100 << 20, 120_000);
    const tUp = Date.now() - t0;
    expect((await w.sh(pod.pod, 'app', 'sha256sum /big/up.bin')).split(' ')[0]).toBe(upSha);

    const t1 = Date.now();
    await w.sh(pod.pod, 'app', 'head -c 104857600 /dev/urandom > /big/.down.partial && mv /big/.down.partial /big/down.bin');
    const downSha = (await w.sh(pod.pod, 'app', 'sha256sum /big/down.bin')).split(' ')[0];
    await eventually('100 MB on the laptop', () => exists(path.join(big, 'down.bin')) && fs.statSync(path.join(big, 'down.bin')).size === 100 << 20, 120_000);
    const tDown = Date.now() - t1;
    const got = createHash('sha256');
    for (const chunk of [fs.readFileSync(path.join(big, 'down.bin'))]) got.update(chunk);
    expect(got.digest('hex')).toBe(downSha);
    console.log(`100 MB up: ${tUp} ms (until visible in the container); down: ${tDown} ms (incl. writing it in the pod)`);
  });
});

describe('safety', () => {
  it('nothing the container does writes outside the local root: escaping symlinks, a symlinked directory, hostile names', async () => {
    const before = localTree(project);
    const outsideBefore = comparable(localTree(outside));
    await w.sh(
      pod.pod,
      'app',
      [
        'set -e',
        'cd /app',
        'ln -s /etc evil-abs',
        'ln -s ../../../../tmp evil-up',
        'ln -s .. evil-parent',
        // a synced directory replaced by a link out of the tree, then written "through"
        'rm -rf made && ln -s / made',
        "printf x > \"$(printf 'ctl\\001name')\"",
        "printf x > \"$(printf 'new\\nline')\"",
        "printf x > 'back\\slash'",
        'mkdir -p deep && ln -s ../../../.. deep/up && echo marker > after.txt',
      ].join('\n'),
    );
    await eventually('the changes after them', () => exists(path.join(tree, 'after.txt')));
    await new Promise((r) => setTimeout(r, 500));
    const l = localTree(tree);
    for (const p of ['evil-abs', 'evil-up', 'evil-parent', 'deep/up', 'made']) expect({ p, there: l.has(p) }).toEqual({ p, there: false });
    const names = [...l.keys()];
    expect(names.filter(hostile)).toEqual([]);
    // every symlink that came from the container stays inside the tree (escape and absolute are the laptop's own)
    for (const [p, e] of l) {
      if (e.t !== 'l' || p === 'escape' || p === 'absolute') continue;
      const target = path.resolve(path.dirname(path.join(tree, p)), e.l!);
      expect({ p, inside: target.startsWith(`${tree}${path.sep}`) }).toEqual({ p, inside: true });
    }
    // outside the sync root nothing changed
    expect(comparable(localTree(outside))).toEqual(outsideBefore);
    const projectNow = localTree(project);
    const outsideTree = (m: Map<string, unknown>) => [...m.keys()].filter((p) => !p.startsWith('tree/') && p !== 'tree' && !p.startsWith('big'));
    expect(outsideTree(projectNow)).toEqual(outsideTree(before));
    // the hostile names do exist in the container (the test did what it meant to)
    const r = await remote();
    expect([...r.keys()].filter(hostile).sort()).toEqual(['back\\slash', 'ctl\u0001name', 'new\nline']);
    // and the sidecar told the agent about each, once, with why (escaped: nothing reaches a terminal raw)
    const refused = sync.events.flatMap((e) => (e.type === 'warning' && e.message.startsWith('container: skipped') ? [e.message.replace(/; names like that.*$/, '')] : []));
    expect(refused.sort()).toEqual(['container: skipped "back\\\\slash": contains a backslash', 'container: skipped "ctl\\u0001name": contains a control character', 'container: skipped "new\\nline": contains a control character']);
    expect(r.get('made')).toMatchObject({ t: 'l', l: '/' });
  });
});
