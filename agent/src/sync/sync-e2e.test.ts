// The engine and the real `dsa-sidecar serve` (a child process on pipes), two real temp dirs.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, FrameDecoder, FrameType, RecordReader, RecordWriter, SYNC_PROTOCOL_VERSION, parseWriteResults, type SyncStrategy, type WriteResult } from '@dsa/api/sync';
import { Duplex } from 'node:stream';
import type { TransportFactory } from './session.js';
import type { SyncEvent, SyncPathConfig } from './events.js';
import { SyncSession, type SyncSessionOptions } from './session.js';
import { sidecarProcesses, type SidecarProcesses } from './sidecar-process.test-util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface World {
  root: string;
  local: string;
  remote: string;
  ctl: string;
  state: string;
}

function world(): World {
  const root = fs.mkdtempSync(path.join(tmpdir(), 'dsa-sync-e2e-'));
  const w = { root, local: path.join(root, 'local'), remote: path.join(root, 'remote'), ctl: path.join(root, 'ctl'), state: path.join(root, 'state') };
  for (const d of [w.local, w.remote, w.ctl]) fs.mkdirSync(d);
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  return w;
}

interface Running {
  session: SyncSession;
  events: SyncEvent[];
  procs: SidecarProcesses;
}

function startSession(w: World, cfg: Partial<SyncPathConfig> = {}, extra: Partial<SyncSessionOptions> = {}): Running {
  const procs = sidecarProcesses([w.remote], w.ctl);
  const session = new SyncSession({
    connect: procs.connect,
    paths: [{ devPod: 'api', sync: 0, localPath: w.local, containerPath: '/app0', ...cfg }],
    stateDir: w.state,
    sessionKey: 'e2e',
    ...extra,
  });
  const events: SyncEvent[] = [];
  session.on((e) => events.push(e));
  session.start();
  cleanups.push(async () => {
    await session.stop();
    for (const c of procs.all) c.kill('SIGKILL');
  });
  return { session, events, procs };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const read = (p: string) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};
const exists = (p: string) => {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const put = (root: string, rel: string, content: string | Buffer = rel) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
};
/** Written in one step (temp + rename), as editors save: a watcher never sees the file half written. */
const putAtomic = (root: string, rel: string, content: string) => {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp-${process.pid}`, content);
  fs.renameSync(`${file}.tmp-${process.pid}`, file);
};
const sha = (p: string) => createHash('sha256').update(fs.readFileSync(p)).digest('hex');
const conflictFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.includes('.dsa-conflict-'));

describe('initial sync and live sync through a real sidecar process', () => {
  it('mirrors both ways: creates, edits, deletes, renames, empty dirs, exec bit, binary, symlinks, excludes', async () => {
    const w = world();
    put(w.local, 'src/app.js', 'console.log(1)');
    put(w.local, 'run.sh', '#!/bin/sh\necho hi');
    fs.chmodSync(path.join(w.local, 'run.sh'), 0o755);
    fs.mkdirSync(path.join(w.local, 'empty/nested'), { recursive: true });
    put(w.local, 'bin.dat', randomBytes(70_000));
    fs.symlinkSync('src/app.js', path.join(w.local, 'link'));
    fs.symlinkSync('../../etc/passwd', path.join(w.local, 'escape'));
    put(w.local, 'debug.log', 'local log');
    put(w.local, 'node_modules/x/index.js', 'module');
    put(w.remote, 'stale.txt', 'only remote: mirrorLocal deletes it');
    put(w.remote, 'gen/out.txt', 'generated in the container');
    const { session, events } = startSession(w, { excludePaths: ['node_modules/'], uploadExcludePaths: ['*.log'], downloadExcludePaths: ['gen/'], onUpload: { restartContainer: true } });
    await session.initialSyncDone;

    expect(read(path.join(w.remote, 'src/app.js'))).toBe('console.log(1)');
    expect(fs.statSync(path.join(w.remote, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(w.remote, 'empty/nested')).isDirectory()).toBe(true);
    expect(sha(path.join(w.remote, 'bin.dat'))).toBe(sha(path.join(w.local, 'bin.dat')));
    expect(fs.readlinkSync(path.join(w.remote, 'link'))).toBe('src/app.js');
    expect(exists(path.join(w.remote, 'escape'))).toBe(false);
    expect(events.some((e) => e.type === 'warning' && /pointing outside the sync root: escape/.test(e.message))).toBe(true);
    expect(exists(path.join(w.remote, 'debug.log'))).toBe(false); // upload-excluded
    expect(exists(path.join(w.remote, 'node_modules'))).toBe(false); // excluded both ways
    expect(exists(path.join(w.remote, 'stale.txt'))).toBe(false); // mirrorLocal
    expect(read(path.join(w.remote, 'gen/out.txt'))).toBe('generated in the container'); // invisible: kept
    expect(exists(path.join(w.local, 'gen'))).toBe(false); // download-excluded
    expect(fs.statSync(path.join(w.remote, 'src/app.js')).mtimeMs).toBeCloseTo(fs.statSync(path.join(w.local, 'src/app.js')).mtimeMs, -1);
    // startContainer signal, and a restart because the initial sync changed the container
    await waitFor('the start signal', () => exists(path.join(w.ctl, 'start')));
    await waitFor('restart after the initial sync', () => read(path.join(w.ctl, 'restart')) === '1\n');

    // live: local → remote
    put(w.local, 'src/app.js', 'console.log(2)');
    put(w.local, 'src/new/deep.txt', 'deep');
    fs.chmodSync(path.join(w.local, 'run.sh'), 0o644);
    fs.renameSync(path.join(w.local, 'bin.dat'), path.join(w.local, 'moved.dat'));
    fs.rmSync(path.join(w.local, 'empty'), { recursive: true });
    fs.mkdirSync(path.join(w.local, 'fresh-empty'));
    fs.unlinkSync(path.join(w.local, 'link'));
    fs.symlinkSync('run.sh', path.join(w.local, 'link'));
    put(w.local, 'again.log', 'never uploaded');
    await waitFor('local changes in the container', () =>
      read(path.join(w.remote, 'src/app.js')) === 'console.log(2)' &&
      read(path.join(w.remote, 'src/new/deep.txt')) === 'deep' &&
      (fs.statSync(path.join(w.remote, 'run.sh')).mode & 0o777) === 0o644 &&
      exists(path.join(w.remote, 'moved.dat')) &&
      !exists(path.join(w.remote, 'bin.dat')) &&
      !exists(path.join(w.remote, 'empty')) &&
      exists(path.join(w.remote, 'fresh-empty')) &&
      fs.readlinkSync(path.join(w.remote, 'link')) === 'run.sh',
    );
    expect(sha(path.join(w.remote, 'moved.dat'))).toBe(sha(path.join(w.local, 'moved.dat')));
    expect(exists(path.join(w.remote, 'again.log'))).toBe(false);
    await waitFor('the batch events', () => events.some((e) => e.type === 'batch' && e.direction === 'up') && events.some((e) => e.type === 'uploaded' && e.files.includes('src/app.js')));
    await waitFor('a restart after the upload batch', () => Number(read(path.join(w.ctl, 'restart'))) >= 2);
    // a direct restart request reports the supervisor's state file
    fs.writeFileSync(path.join(w.ctl, 'supervisor.json'), JSON.stringify({ pid: 42, restarts: 2, running: true }));
    const before = Number(read(path.join(w.ctl, 'restart')));
    expect(await session.restart()).toEqual({ ok: true, counter: before + 1, supervisor: { pid: 42, restarts: 2, running: true } });

    // live: remote → local (including a file too big to ride with its event)
    put(w.remote, 'src/app.js', 'console.log(3) from the container');
    put(w.remote, 'made-in-pod/x.bin', randomBytes(300_000));
    fs.chmodSync(path.join(w.remote, 'made-in-pod/x.bin'), 0o700);
    fs.rmSync(path.join(w.remote, 'src/new'), { recursive: true });
    fs.symlinkSync('/etc/shadow', path.join(w.remote, 'pod-escape'));
    put(w.remote, 'gen/more.txt', 'still not downloaded');
    put(w.remote, 'pod.log', 'logs come down (only upload-excluded)');
    await waitFor('remote changes locally', () =>
      read(path.join(w.local, 'src/app.js')) === 'console.log(3) from the container' &&
      exists(path.join(w.local, 'made-in-pod/x.bin')) &&
      !exists(path.join(w.local, 'src/new')) &&
      read(path.join(w.local, 'pod.log')) !== undefined,
    );
    await waitFor('the big file completely', () => sha(path.join(w.local, 'made-in-pod/x.bin')) === sha(path.join(w.remote, 'made-in-pod/x.bin')));
    expect(fs.statSync(path.join(w.local, 'made-in-pod/x.bin')).mode & 0o777).toBe(0o700);
    expect(exists(path.join(w.local, 'pod-escape'))).toBe(false);
    expect(exists(path.join(w.local, 'gen'))).toBe(false);
    // echo suppression: what came down does not go back up as a change
    const ups = events.filter((e) => e.type === 'uploaded').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(events.filter((e) => e.type === 'uploaded').length).toBe(ups);
    expect(conflictFiles(w.local)).toEqual([]);
  }, 40_000);

  it('a 100 MB file goes up streamed, intact', async () => {
    const w = world();
    const big = path.join(w.local, 'big.bin');
    const fd = fs.openSync(big, 'w');
    const block = randomBytes(1 << 20);
    for (let i = 0; i < 100; i++) {
      block[0] = i;
      fs.writeSync(fd, block);
    }
    fs.closeSync(fd);
    const { session } = startSession(w);
    await session.initialSyncDone;
    expect(fs.statSync(path.join(w.remote, 'big.bin')).size).toBe(100 << 20);
    expect(sha(path.join(w.remote, 'big.bin'))).toBe(sha(big));
  }, 40_000);
});

describe('initial strategies', () => {
  // local-only, remote-only and a file differing in size (local newer) on each side
  const expected: Record<SyncStrategy, { localOnly: [boolean, boolean]; remoteOnly: [boolean, boolean]; differ: string }> = {
    mirrorLocal: { localOnly: [true, true], remoteOnly: [false, false], differ: 'local!' },
    mirrorRemote: { localOnly: [false, false], remoteOnly: [true, true], differ: 'remote' },
    preferLocal: { localOnly: [true, true], remoteOnly: [true, true], differ: 'local!' },
    preferRemote: { localOnly: [true, true], remoteOnly: [true, true], differ: 'remote' },
    preferNewest: { localOnly: [true, true], remoteOnly: [true, true], differ: 'local!' },
    keepAll: { localOnly: [true, true], remoteOnly: [true, true], differ: 'split' },
    disabled: { localOnly: [true, false], remoteOnly: [false, true], differ: 'split' },
  };
  it('each strategy does what DevSpace does', async () => {
    const worlds = Object.keys(expected).map((s) => [s as SyncStrategy, world()] as const);
    const runs = worlds.map(([strategy, w]) => {
      put(w.local, 'local-only.txt', 'l');
      put(w.remote, 'remote-only.txt', 'r');
      put(w.local, 'differ.txt', 'local!');
      put(w.remote, 'differ.txt', 'remote');
      fs.utimesSync(path.join(w.remote, 'differ.txt'), new Date(2020, 1, 1), new Date(2020, 1, 1));
      return startSession(w, { initialSync: strategy });
    });
    await Promise.all(runs.map((r) => r.session.initialSyncDone));
    for (const [i, [strategy, w]] of worlds.entries()) {
      const e = expected[strategy];
      const got = {
        localOnly: [exists(path.join(w.local, 'local-only.txt')), exists(path.join(w.remote, 'local-only.txt'))],
        remoteOnly: [exists(path.join(w.local, 'remote-only.txt')), exists(path.join(w.remote, 'remote-only.txt'))],
        differ: read(path.join(w.local, 'differ.txt')) === read(path.join(w.remote, 'differ.txt')) ? read(path.join(w.local, 'differ.txt')) : 'split',
      };
      expect({ strategy, ...got }).toEqual({ strategy, ...e });
      expect(runs[i]!.events.filter((x) => x.type === 'conflict')).toEqual([]);
    }
  }, 40_000);

  it('initial sync: a large set moves over three read and three file-write channels, a small one over one each', async () => {
    /** The kinds of the channels the agent opens, read off the bytes it sends the real sidecar. */
    const tapped = (procs: SidecarProcesses, opens: string[]): TransportFactory => async (signal) => {
      const inner = await procs.connect(signal);
      const decoder = new FrameDecoder();
      const outer = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          for (const f of decoder.push(chunk)) if (f.type === FrameType.Open) opens.push((JSON.parse(f.payload.toString()) as { kind: string }).kind);
          inner.write(chunk, cb);
        },
        final(cb) {
          inner.end(cb);
        },
        destroy(err, cb) {
          inner.destroy();
          cb(err);
        },
      });
      inner.on('data', (c: Buffer) => outer.push(c));
      inner.on('end', () => outer.push(null));
      inner.on('error', (e) => outer.destroy(e));
      return outer;
    };
    const count = (opens: string[], kind: string) => opens.filter((k) => k === kind).length;
    for (const files of [100, 10]) {
      const w = world();
      for (let i = 0; i < files; i++) {
        put(w.local, `up/f${i}.txt`, `local ${i}`);
        put(w.remote, `down/f${i}.txt`, `remote ${i}`);
      }
      const procs = sidecarProcesses([w.remote], w.ctl);
      const opens: string[] = [];
      const { session } = startSession(w, { initialSync: 'preferLocal' }, { connect: tapped(procs, opens) });
      cleanups.push(() => void procs.all.forEach((c) => c.kill('SIGKILL')));
      await session.initialSyncDone;
      expect(read(path.join(w.local, `down/f${files - 1}.txt`))).toBe(`remote ${files - 1}`);
      expect(read(path.join(w.remote, `up/f${files - 1}.txt`))).toBe(`local ${files - 1}`);
      // Uploads: the directories first on one channel, then the files spread over three.
      expect([files, count(opens, 'read'), count(opens, 'write')]).toEqual(files >= 64 ? [files, 3, 4] : [files, 1, 1]);
    }
  }, 30_000);

  it('same size and different mtime: content hashes decide, nothing is transferred when equal', async () => {
    const w = world();
    put(w.local, 'same.txt', 'identical');
    put(w.remote, 'same.txt', 'identical');
    put(w.local, 'diff.txt', 'aaaa');
    put(w.remote, 'diff.txt', 'bbbb');
    fs.utimesSync(path.join(w.remote, 'same.txt'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    fs.utimesSync(path.join(w.remote, 'diff.txt'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    const { session, events } = startSession(w);
    await session.initialSyncDone;
    const done = events.find((e) => e.type === 'initial-done');
    expect(done).toMatchObject({ uploaded: 1 });
    expect(read(path.join(w.remote, 'diff.txt'))).toBe('aaaa');
  }, 20_000);
});

describe('conflicts', () => {
  it('live, remote event first: the local edit wins in place, the container version is kept beside it', async () => {
    const w = world();
    put(w.local, 'c.txt', 'v0');
    const { session, events } = startSession(w, {}, { settleMs: 400 });
    await session.initialSyncDone;
    put(w.local, 'c.txt', 'local edit');
    putAtomic(w.remote, 'c.txt', 'container edit');
    await waitFor('the local version in the container', () => read(path.join(w.remote, 'c.txt')) === 'local edit');
    const copies = conflictFiles(w.local);
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^c\.dsa-conflict-remote-\d{8}T\d{6}\.txt$/);
    expect(read(path.join(w.local, copies[0]!))).toBe('container edit');
    expect(events.some((e) => e.type === 'conflict' && e.winner === 'local')).toBe(true);
    // conflict copies never go up
    await new Promise((r) => setTimeout(r, 200));
    expect(conflictFiles(w.remote)).toEqual([]);
  }, 20_000);

  it('live, upload first: the sidecar refuses the stale write (compare-and-swap); nothing is lost', async () => {
    const w = world();
    put(w.local, 'c.txt', 'v0');
    // polling with the default 1 s period: the container's edit is not seen before our upload arrives
    const { session, events } = startSession(w, { polling: true });
    await session.initialSyncDone;
    put(w.remote, 'c.txt', 'container edit');
    put(w.local, 'c.txt', 'local edit');
    await waitFor('the conflict copy', () => conflictFiles(w.local).length === 1);
    await waitFor('the local version in the container', () => read(path.join(w.remote, 'c.txt')) === 'local edit');
    expect(read(path.join(w.local, conflictFiles(w.local)[0]!))).toBe('container edit');
    expect(events.some((e) => e.type === 'conflict' && /changed on both sides/.test(e.message))).toBe(true);
  }, 20_000);

  it('both sides changed while disconnected: the strategy picks the winner, the loser stays on the laptop', async () => {
    const w = world();
    put(w.local, 'x.txt', 'v0');
    put(w.local, 'y.txt', 'v0');
    const first = startSession(w, { initialSync: 'mirrorRemote' });
    await first.session.initialSyncDone;
    await first.session.stop();
    put(w.local, 'x.txt', 'local while away');
    put(w.remote, 'x.txt', 'remote while away');
    fs.utimesSync(path.join(w.remote, 'x.txt'), new Date(2030, 1, 1), new Date(2030, 1, 1));
    put(w.local, 'y.txt', 'only local changed');
    const second = startSession(w, { initialSync: 'mirrorRemote' });
    await second.session.initialSyncDone;
    expect(read(path.join(w.local, 'x.txt'))).toBe('remote while away');
    const copies = conflictFiles(w.local);
    expect(copies).toEqual([expect.stringMatching(/^x\.dsa-conflict-local-\d{8}T\d{6}\.txt$/)]);
    expect(read(path.join(w.local, copies[0]!))).toBe('local while away');
    // a one-sided change is not a conflict: even mirrorRemote takes the local edit up
    expect(read(path.join(w.remote, 'y.txt'))).toBe('only local changed');
  }, 30_000);
});

describe('reliability', () => {
  it('kill -9 of the engine, edits on both sides while it is gone, restart: every edit arrives, nothing overwritten', async () => {
    const w = world();
    for (const n of ['a', 'c', 'd', 'f', 'g']) put(w.local, `${n}.txt`, `${n}0`);
    const child = (): ChildProcess => {
      const c = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'engine-child.test-util.ts'), JSON.stringify(w)], { stdio: ['ignore', 'pipe', 'inherit'] });
      cleanups.push(() => void c.kill('SIGKILL'));
      return c;
    };
    const ready = (c: ChildProcess) =>
      new Promise<void>((resolve, reject) => {
        let buf = '';
        c.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('"type":"ready"')) resolve();
        });
        c.once('exit', (code) => reject(new Error(`engine exited (${code}) before the initial sync: ${buf.slice(-500)}`)));
      });
    const e1 = child();
    await ready(e1);
    put(w.local, 'a.txt', 'a1 live');
    await waitFor('a live edit', () => read(path.join(w.remote, 'a.txt')) === 'a1 live');
    e1.kill('SIGKILL');
    await new Promise((r) => e1.once('exit', r));

    put(w.local, 'a.txt', 'a2 while away');
    put(w.local, 'b.txt', 'b created while away');
    fs.unlinkSync(path.join(w.local, 'c.txt'));
    put(w.remote, 'd.txt', 'd changed in the container');
    put(w.remote, 'e.txt', 'e created in the container');
    fs.unlinkSync(path.join(w.remote, 'f.txt'));
    put(w.local, 'g.txt', 'g local');
    put(w.remote, 'g.txt', 'g remote');

    const e2 = child();
    await ready(e2);
    expect(read(path.join(w.remote, 'a.txt'))).toBe('a2 while away');
    expect(read(path.join(w.remote, 'b.txt'))).toBe('b created while away');
    expect(exists(path.join(w.remote, 'c.txt'))).toBe(false);
    expect(read(path.join(w.local, 'd.txt'))).toBe('d changed in the container');
    expect(read(path.join(w.local, 'e.txt'))).toBe('e created in the container');
    expect(exists(path.join(w.local, 'f.txt'))).toBe(false);
    // both changed g: mirrorLocal's winner is local; the container's version is kept on the laptop
    expect(read(path.join(w.remote, 'g.txt'))).toBe('g local');
    const copies = conflictFiles(w.local);
    expect(copies).toHaveLength(1);
    expect(read(path.join(w.local, copies[0]!))).toBe('g remote');
    e2.kill('SIGKILL');
  }, 40_000);

  it('the sidecar process killed: the engine reconnects within a second and resumes without re-transferring', async () => {
    const w = world();
    for (let i = 0; i < 50; i++) put(w.local, `f${i}.txt`, `content ${i}`);
    const { session, events, procs } = startSession(w);
    await session.initialSyncDone;
    const first = procs.current()!;
    first.kill('SIGKILL');
    const t0 = Date.now();
    await waitFor('the disconnect', () => events.some((e) => e.type === 'disconnected'));
    put(w.local, 'during.txt', 'written while the sidecar was down');
    put(w.remote, 'f1.txt', 'changed in the container meanwhile');
    await waitFor('the edits after the reconnect', () => read(path.join(w.remote, 'during.txt')) !== undefined && read(path.join(w.local, 'f1.txt')) === 'changed in the container meanwhile');
    await waitFor('the second initial sync', () => events.filter((e) => e.type === 'initial-done').length === 2);
    const dis = events.find((e) => e.type === 'disconnected');
    expect(dis).toMatchObject({ retryInMs: 100 });
    expect(procs.all.length).toBeGreaterThanOrEqual(2);
    const dones = events.filter((e): e is Extract<SyncEvent, { type: 'initial-done' }> => e.type === 'initial-done');
    expect(dones).toHaveLength(2);
    expect(dones[1]).toMatchObject({ uploaded: 1, downloaded: 1, deletedLocal: 0, deletedRemote: 0, conflicts: 0 });
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 30_000);

  it('refuses a sidecar speaking another protocol version, for good, with the reason', async () => {
    const w = world();
    const { session, events } = startSession(w, {}, { connection: { protocolVersion: SYNC_PROTOCOL_VERSION + 1 } });
    await expect(session.initialSyncDone).rejects.toThrow(/the operator's sidecar image is older than this dsa/);
    expect(events.filter((e) => e.type === 'error' && e.fatal)).toHaveLength(1);
  }, 20_000);

  it('the sidecar applies the excludes itself: refuses upload-excluded writes sent anyway, never reports download-excluded paths', async () => {
    const w = world();
    put(w.remote, 'debug.log', 'container log');
    put(w.remote, 'gen/out.txt', 'generated');
    put(w.remote, 'keep.txt', 'keep');
    const procs = sidecarProcesses([w.remote], w.ctl);
    cleanups.push(() => void procs.all.forEach((c) => c.kill('SIGKILL')));
    // A raw agent: the protocol by hand, without the engine's own filtering.
    const conn = await Connection.establish(await procs.connect(new AbortController().signal), { role: 'agent', software: 'raw test' });
    cleanups.push(() => conn.close('test over'));
    const pathCh = conn.open({ kind: 'path', path: 0, devPod: 'api', sync: 0, excludes: { exclude: [], uploadExclude: ['*.log'], downloadExclude: ['gen/'] } });
    expect(await pathCh.readMsg()).toMatchObject({ ok: true });
    await pathCh.end();
    const records = async (ch: ReturnType<Connection['open']>) => {
      const r = new RecordReader(ch);
      const got: string[] = [];
      for (let rec = await r.next(); rec; rec = await r.next()) {
        if ((rec.tag === 'S' || rec.tag === 'H') && rec.change) got.push(`${rec.tag} ${rec.change.p}`);
        else if (rec.tag === 'C') await r.content(() => undefined).catch(() => undefined);
        else if (rec.tag === 'X') got.push(`X ${rec.p}: ${rec.message}`);
      }
      return got;
    };
    // Scan: gen/ is not reported.
    const scanCh = conn.open({ kind: 'scan', path: 0 });
    await scanCh.end();
    expect((await records(scanCh)).sort()).toEqual(['S debug.log', 'S keep.txt']);
    // Watch: a change under gen/ is not pushed; one beside it is.
    const watchCh = conn.open({ kind: 'watch', path: 0 });
    expect(await watchCh.readMsg()).toEqual({ ready: true });
    put(w.remote, 'gen/later.txt', 'generated later');
    await new Promise((r) => setTimeout(r, 100));
    put(w.remote, 'later.txt', 'later');
    const pushed: string[] = [];
    const wr0 = new RecordReader(watchCh);
    while (!pushed.includes('later.txt')) {
      const rec = await wr0.next();
      if (rec && (rec.tag === 'S' || rec.tag === 'H') && rec.change) pushed.push(rec.change.p);
    }
    expect(pushed.filter((p) => p.startsWith('gen'))).toEqual([]);
    watchCh.reset('done');
    // Read: asking for gen/out.txt gets a refusal, not the file.
    const readCh = conn.open({ kind: 'read', path: 0 });
    await readCh.send({ paths: ['gen/out.txt'] });
    await readCh.end();
    expect(await records(readCh)).toEqual(['X gen/out.txt: excluded from download']);
    // Write: debug.log (upload-excluded) is refused and left alone; new.txt is written.
    const writeCh = conn.open({ kind: 'write', path: 0 });
    const wr = new RecordWriter(writeCh);
    for (const [p, body] of [
      ['debug.log', 'overwritten?'],
      ['new.txt', 'new'],
    ] as const) {
      await wr.head({ p, t: 'f', s: body.length, m: 1_700_000_000_000, c: 0, x: 0o644 });
      await wr.content(Buffer.from(body));
      await wr.endFile(true);
    }
    await wr.flush();
    await writeCh.end();
    const results: WriteResult[] = [];
    for (let m = await writeCh.readMsg(); m !== null; m = await writeCh.readMsg()) results.push(...parseWriteResults(m));
    expect(results).toEqual([{ p: 'debug.log', error: 'excluded from upload' }, expect.objectContaining({ p: 'new.txt', ok: true })]);
    expect(read(path.join(w.remote, 'debug.log'))).toBe('container log');
    expect(read(path.join(w.remote, 'new.txt'))).toBe('new');
  }, 20_000);

  it('refuses a sync path the pod does not serve, with a clear message', async () => {
    const w = world();
    const { events } = startSession(w, { devPod: 'other' });
    await waitFor('the path error', () => events.some((e) => e.type === 'state' && e.state === 'error'));
    const e = events.find((x) => x.type === 'state' && x.state === 'error');
    expect(e).toMatchObject({ message: expect.stringMatching(/this pod has no sync path 0 of dev pod other \(it serves api\[0\] \/app0\)/) });
  }, 20_000);
});

describe('options', () => {
  it('file: true syncs one file of the folder and nothing else', async () => {
    const w = world();
    put(w.local, 'conf/app [1].json', '{"v":1}');
    put(w.local, 'conf/other.json', 'not synced');
    put(w.remote, 'untouched.txt', 'stays');
    const { session } = startSession(w, { localPath: path.join(w.local, 'conf/app [1].json'), containerPath: '/app0/app [1].json', file: true });
    await session.initialSyncDone;
    expect(fs.readdirSync(w.remote).sort()).toEqual(['app [1].json', 'untouched.txt']);
    put(w.local, 'conf/app [1].json', '{"v":2}');
    put(w.local, 'conf/other.json', 'still not synced');
    await waitFor('the edit', () => read(path.join(w.remote, 'app [1].json')) === '{"v":2}');
    expect(fs.readdirSync(w.remote).sort()).toEqual(['app [1].json', 'untouched.txt']);
  }, 20_000);

  it('throttleChangeDetection reaches the sidecar: its polling walk pauses after every 100 entries', async () => {
    const w = world();
    for (let i = 0; i < 1000; i++) put(w.remote, `zz/f${i}`, '');
    put(w.remote, 'a.txt', 'v1');
    const { session } = startSession(w, { initialSync: 'preferRemote', polling: true, throttleChangeDetection: 150 });
    await session.initialSyncDone;
    await waitFor('the tree', () => read(path.join(w.local, 'a.txt')) === 'v1');
    const t0 = Date.now();
    put(w.remote, 'a.txt', 'v2');
    await waitFor('the change', () => read(path.join(w.local, 'a.txt')) === 'v2');
    // ≥ 10 pauses of 150 ms between a change and the end of the walk that reports it; unthrottled it
    // arrives within the poll period (1 s) plus one walk of 1000 lstat calls (a few ms).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
  }, 30_000);

  it('noWatch stops after the initial sync; bandwidthLimits slow transfers down', async () => {
    const w = world();
    put(w.local, 'a.bin', randomBytes(700 * 1024));
    const t0 = Date.now();
    const { session, events } = startSession(w, { noWatch: true, bandwidthLimits: { upload: 200 } });
    await session.initialSyncDone;
    // 700 KiB at 200 KiB/s after a 256 KiB burst: at least 2.2 s.
    expect(Date.now() - t0).toBeGreaterThan(2000);
    expect(sha(path.join(w.remote, 'a.bin'))).toBe(sha(path.join(w.local, 'a.bin')));
    await waitFor('the stopped state', () => events.some((e) => e.type === 'state' && e.state === 'stopped'));
    expect(events.find((e) => e.type === 'uploaded')).toMatchObject({ initial: true, files: ['a.bin'] });
    put(w.local, 'later.txt', 'not synced: noWatch');
    await new Promise((r) => setTimeout(r, 300));
    expect(exists(path.join(w.remote, 'later.txt'))).toBe(false);
  }, 20_000);
});

describe('a failing path fails alone', () => {
  /** Two paths of one dev pod: `bad` (local folder under a file: unusable until the file goes) and `good`. */
  function twoPaths(extra: Partial<SyncSessionOptions> = {}) {
    const w = world();
    const goodLocal = path.join(w.root, 'good');
    const goodRemote = path.join(w.root, 'good-remote');
    fs.mkdirSync(goodLocal);
    fs.mkdirSync(goodRemote);
    put(w.root, 'blocker', 'a file where the bad path wants a folder');
    const badLocal = path.join(w.root, 'blocker/sub');
    const procs = sidecarProcesses([w.remote, goodRemote], w.ctl);
    const session = new SyncSession({
      connect: procs.connect,
      paths: [
        { devPod: 'api', sync: 0, localPath: badLocal, containerPath: '/app0' },
        { devPod: 'api', sync: 1, localPath: goodLocal, containerPath: '/app1' },
      ],
      stateDir: w.state,
      sessionKey: 'e2e',
      pathRetryDelaysMs: [100, 200, 400],
      ...extra,
    });
    const events: SyncEvent[] = [];
    const times: number[] = [];
    session.on((e) => {
      events.push(e);
      times.push(Date.now());
    });
    session.start();
    cleanups.push(async () => {
      await session.stop();
      for (const c of procs.all) c.kill('SIGKILL');
    });
    return { w, session, events, times, procs, goodLocal, goodRemote, badLocal };
  }

  it('an unusable local folder: the other path syncs, the broken one says why, retries with growing pauses, and recovers once fixed', async () => {
    const { w, session, events, times, procs, goodLocal, goodRemote, badLocal } = twoPaths();
    put(goodLocal, 'a.txt', 'good path');
    await session.initialSyncDone; // a failed path does not hold it back
    expect(read(path.join(goodRemote, 'a.txt'))).toBe('good path');
    expect(events.some((e) => e.type === 'error' && e.fatal)).toBe(false);
    const failures = () => events.flatMap((e, i) => (e.type === 'state' && e.state === 'error' && e.path.sync === 0 ? [times[i]!] : []));
    await waitFor('three failed attempts', () => failures().length >= 3);
    expect(events.find((e) => e.type === 'state' && e.state === 'error')).toMatchObject({ path: { sync: 0 }, message: expect.stringMatching(/^local sync path .*blocker\/sub: .*(ENOTDIR|EEXIST|not a directory)/) });
    const [t1, t2, t3] = failures();
    expect(t2! - t1!).toBeGreaterThanOrEqual(90);
    expect(t3! - t2!).toBeGreaterThanOrEqual(190); // the pause grows
    // Live sync on the good path goes on meanwhile, both ways.
    put(goodLocal, 'b.txt', 'up');
    put(goodRemote, 'c.txt', 'down');
    await waitFor('the good path live', () => read(path.join(goodRemote, 'b.txt')) === 'up' && read(path.join(goodLocal, 'c.txt')) === 'down');
    expect(session.status().map((x) => x.state)).toEqual(['error', 'watching']);
    // Fixed: the folder can be created now; the path comes back by itself, on the same connection.
    fs.rmSync(path.join(w.root, 'blocker'));
    await waitFor('both watching', () => session.status().every((x) => x.state === 'watching'), 15_000);
    put(w.remote, 'from-container.txt', 'reaches the repaired path');
    await waitFor('the repaired path live', () => read(path.join(badLocal, 'from-container.txt')) === 'reaches the repaired path');
    expect(procs.all).toHaveLength(1);
  }, 30_000);

  it('the local folder removed while syncing: that path starts over (creating it again), the other goes on', async () => {
    const { w, session, events, goodLocal, goodRemote, badLocal } = twoPaths({ pathRetryDelaysMs: [100] });
    fs.rmSync(path.join(w.root, 'blocker'));
    await session.initialSyncDone;
    await waitFor('both watching', () => session.status().every((x) => x.state === 'watching'));
    put(badLocal, 'x.txt', 'before');
    await waitFor('the upload', () => read(path.join(w.remote, 'x.txt')) === 'before');
    const from = events.length;
    fs.rmSync(badLocal, { recursive: true });
    await waitFor('the path error', () => events.slice(from).some((e) => e.type === 'state' && e.state === 'error' && e.path.sync === 0));
    await waitFor('the path back', () => events.slice(from).some((e) => e.type === 'state' && e.state === 'watching' && e.path.sync === 0), 15_000);
    expect(fs.statSync(badLocal).isDirectory()).toBe(true);
    // The folder's removal was a local deletion: it reached the container (mirrorLocal, base known).
    expect(exists(path.join(w.remote, 'x.txt'))).toBe(false);
    put(goodLocal, 'still.txt', 'fine');
    await waitFor('the other path', () => read(path.join(goodRemote, 'still.txt')) === 'fine');
    put(badLocal, 'y.txt', 'after');
    await waitFor('the repaired path live', () => read(path.join(w.remote, 'y.txt')) === 'after');
  }, 30_000);

  it('restartPath: that path runs its initial sync again, the other is left alone', async () => {
    const { w, session, events } = twoPaths({ pathRetryDelaysMs: [50] });
    fs.rmSync(path.join(w.root, 'blocker'));
    await session.initialSyncDone;
    await waitFor('both watching', () => session.status().every((x) => x.state === 'watching'));
    const from = events.length;
    session.restartPath(1, 'onDownload command check failed');
    await waitFor('the initial sync of path 1', () => events.slice(from).some((e) => e.type === 'initial-done' && e.path.sync === 1));
    expect(events.slice(from).find((e) => e.type === 'error')).toMatchObject({ path: { sync: 1 }, message: 'onDownload command check failed', fatal: false });
    expect(events.slice(from).filter((e) => e.type === 'initial-done' && e.path.sync === 0)).toEqual([]);
  }, 30_000);
});

describe('names the container has that cannot be synced', () => {
  it('are skipped with one warning per name, over reconnects too; later ones as they appear', async () => {
    const w = world();
    put(w.remote, 'ok.txt', 'fine');
    put(w.remote, 'ctl\x01name', 'x');
    put(w.remote, 'back\\slash', 'x');
    put(w.remote, 'bad\x02dir/inside.txt', 'x');
    put(w.remote, 'csi\u009b31m', 'x');
    const { session, events, procs } = startSession(w, { initialSync: 'preferRemote' });
    await session.initialSyncDone;
    const said = () => events.filter((e): e is Extract<SyncEvent, { type: 'warning' }> => e.type === 'warning' && e.message.startsWith('container: skipped')).map((e) => e.message);
    await waitFor('the warnings', () => said().length === 4).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(events.filter((x) => x.type === 'warning'))} ${procs.stderr.join('')}`);
    });
    expect(said().sort()).toEqual(
      [
        'container: skipped "back\\\\slash": contains a backslash; names like that cannot be synced safely, it stays in the container',
        'container: skipped "bad\\u0002dir": contains a control character; names like that cannot be synced safely, it stays in the container',
        'container: skipped "csi\\u009b31m": contains a control character; names like that cannot be synced safely, it stays in the container',
        'container: skipped "ctl\\u0001name": contains a control character; names like that cannot be synced safely, it stays in the container',
      ].sort(),
    );
    expect(fs.readdirSync(w.local).sort()).toEqual(['ok.txt']);
    // A new one while live: said once, even when it changes again.
    put(w.remote, 'new\nline', 'x');
    put(w.remote, 'after.txt', 'synced');
    await waitFor('the next file', () => read(path.join(w.local, 'after.txt')) === 'synced');
    await waitFor('its warning', () => said().length === 5);
    put(w.remote, 'new\nline', 'changed');
    put(w.remote, 'after.txt', 'synced again');
    await waitFor('the next change', () => read(path.join(w.local, 'after.txt')) === 'synced again');
    // A new connection scans again: nothing said twice.
    procs.current()!.kill('SIGKILL');
    await waitFor('the second initial sync', () => events.filter((e) => e.type === 'initial-done').length === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(said()).toHaveLength(5);
    expect(fs.readdirSync(w.local).sort()).toEqual(['after.txt', 'ok.txt']);
  }, 30_000);

  it('are bounded: 1000 names, then one line for the rest', async () => {
    const w = world();
    for (let i = 0; i < 1010; i++) put(w.remote, `bad\x01${i}`, '');
    const { session, events } = startSession(w);
    await session.initialSyncDone;
    const warnings = () => events.filter((e) => e.type === 'warning' && e.message.startsWith('container: '));
    await waitFor('the warnings', () => warnings().length === 1001);
    expect(warnings().at(-1)).toMatchObject({ message: 'container: more names that cannot be synced here are skipped; not listed' });
  }, 30_000);
});

describe('reverse port forwarding', () => {
  async function echoServer(): Promise<number> {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => echo.close(() => r())));
    return (echo.address() as AddressInfo).port;
  }
  async function freePort(): Promise<number> {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    return port;
  }
  function roundTrip(host: string, port: number, payload: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const c = netConnect({ host, port });
      const parts: Buffer[] = [];
      let n = 0;
      c.on('data', (d: Buffer) => {
        parts.push(d);
        n += d.length;
        if (n >= payload.length) {
          c.end();
          resolve(Buffer.concat(parts));
        }
      });
      c.on('error', reject);
      c.write(payload);
    });
  }
  // This machine's own non-loopback IPv4 address (the "pod's" address in these tests: the sidecar runs here).
  const ownAddress = () =>
    Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  const tunnelOk = (events: SyncEvent[]) => events.find((e) => e.type === 'tunnel' && e.ok) as (SyncEvent & { message: string }) | undefined;

  it('a connection to the port in the pod reaches the laptop (TCP echo); without bindAddress only on loopback', async () => {
    const w = world();
    const localPort = await echoServer();
    const remotePort = await freePort();
    const { session, events } = startSession(w, {}, { reversePorts: [{ remotePort, localPort }] });
    await session.initialSyncDone;
    await waitFor('the listener in the pod', () => !!tunnelOk(events));
    expect(tunnelOk(events)!.message).toContain(`127.0.0.1:${remotePort}`);
    expect(tunnelOk(events)!.message).not.toContain(`0.0.0.0`);
    const payload = randomBytes(3 << 20);
    expect((await roundTrip('127.0.0.1', remotePort, payload)).equals(payload)).toBe(true);
    const other = ownAddress();
    if (other) await expect(roundTrip(other, remotePort, Buffer.from('x'))).rejects.toThrow(/ECONNREFUSED/);
  }, 20_000);

  it('bindAddress is where the pod listens: 0.0.0.0 accepts on the pod\'s own address too', async () => {
    const other = ownAddress();
    expect(other).toBeDefined(); // every machine that runs this suite has one (the harness's node IP)
    const w = world();
    const localPort = await echoServer();
    const remotePort = await freePort();
    const { session, events } = startSession(w, {}, { reversePorts: [{ remotePort, localPort, bindAddress: '0.0.0.0' }] });
    await session.initialSyncDone;
    await waitFor('the listener in the pod', () => !!tunnelOk(events));
    expect(tunnelOk(events)!.message).toContain(`0.0.0.0:${remotePort}`);
    const payload = randomBytes(64 << 10);
    expect((await roundTrip(other!, remotePort, payload)).equals(payload)).toBe(true);
  }, 20_000);

  it('a bindAddress that is not an IP address is warned about and the pod listens on loopback', async () => {
    const w = world();
    const localPort = await echoServer();
    const remotePort = await freePort();
    const { session, events } = startSession(w, {}, { reversePorts: [{ remotePort, localPort, bindAddress: 'my-laptop.example' }] });
    await session.initialSyncDone;
    await waitFor('the listener in the pod', () => !!tunnelOk(events));
    expect(events.some((e) => e.type === 'warning' && e.message.includes('bindAddress "my-laptop.example" is not an IP address'))).toBe(true);
    const payload = Buffer.from('hello');
    expect((await roundTrip('127.0.0.1', remotePort, payload)).equals(payload)).toBe(true);
  }, 20_000);
});
