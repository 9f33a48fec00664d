// In-process sync figures (no cluster): the engine and a real `dsa-sidecar serve` child on pipes,
// two temp dirs. Run: node --import tsx agent/src/sync/bench-local.ts [--files 10000] [--mb 100] [--edits 200] [--dir /dev/shm]
// (--dir: where the trees go; tmpfs takes a busy disk out of the comparison with tar).
// Prints a table; the cluster benchmark (`make bench-sync`) is separate.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SyncSession } from './session.js';
import { sidecarProcesses } from './sidecar-process.test-util.js';
import type { SyncEvent } from './events.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const FILES = arg('files', 10_000);
const MB = arg('mb', 100);
const EDITS = arg('edits', 200);

const dirArg = process.argv.indexOf('--dir');
const root = fs.mkdtempSync(path.join(dirArg > 0 ? process.argv[dirArg + 1]! : tmpdir(), 'dsa-sync-bench-'));
const dirs = { local: path.join(root, 'local'), remote: path.join(root, 'remote'), ctl: path.join(root, 'ctl'), state: path.join(root, 'state'), tarOut: path.join(root, 'tar-out') };
for (const d of [dirs.local, dirs.remote, dirs.ctl, dirs.tarOut]) fs.mkdirSync(d);

const rows: Array<[string, string]> = [];
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function makeTree(): void {
  const total = MB * 1024 * 1024;
  const perDir = 100;
  let written = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(dirs.local, `d${Math.floor(i / perDir)}`);
    if (i % perDir === 0) fs.mkdirSync(dir, { recursive: true });
    // Sizes spread around the mean so the total is MB.
    const left = FILES - i;
    const mean = (total - written) / left;
    const size = i === FILES - 1 ? total - written : Math.max(0, Math.round(mean * (0.5 + Math.random())));
    fs.writeFileSync(path.join(dir, `f${i}.dat`), randomBytes(size));
    written += size;
  }
}

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error('timeout');
    await new Promise((r) => setImmediate(r));
  }
}

const readOr = (p: string) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

function session(events: SyncEvent[]) {
  const procs = sidecarProcesses([dirs.remote], dirs.ctl);
  const s = new SyncSession({ connect: procs.connect, paths: [{ devPod: 'api', sync: 0, localPath: dirs.local, containerPath: '/app0' }], stateDir: dirs.state, sessionKey: 'bench' });
  s.on((e) => events.push(e));
  return { s, procs };
}

/** Flush dirty pages first: the disk's writeback of an earlier phase must not slow the next one. */
function settleDisk(): void {
  spawnSync('sync');
}

async function tarBaseline(): Promise<number> {
  fs.rmSync(dirs.tarOut, { recursive: true, force: true });
  fs.mkdirSync(dirs.tarOut);
  settleDisk();
  const t0 = performance.now();
  const c = spawn('tar', ['c', '-C', dirs.local, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const x = spawn('tar', ['x', '-C', dirs.tarOut], { stdio: ['pipe', 'ignore', 'inherit'] });
  // The same pipe setup as the sync: parent process in the middle, with backpressure.
  for await (const chunk of c.stdout!) if (!x.stdin!.write(chunk)) await new Promise((r) => x.stdin!.once('drain', r));
  x.stdin!.end();
  await new Promise((r) => x.once('exit', r));
  const ms = performance.now() - t0;
  fs.rmSync(dirs.tarOut, { recursive: true, force: true });
  return ms;
}

async function main(): Promise<void> {
  process.stderr.write(`making ${FILES} files, ${MB} MB in ${root}\n`);
  makeTree();
  const tarBefore = await tarBaseline();

  const events: SyncEvent[] = [];
  let { s, procs } = session(events);
  settleDisk();
  const t0 = performance.now();
  s.start();
  await s.initialSyncDone;
  const wall = performance.now() - t0;
  const done = events.find((e): e is Extract<SyncEvent, { type: 'initial-done' }> => e.type === 'initial-done')!;
  const tarAfter = await tarBaseline();
  rows.push([`initial sync, ${FILES} files / ${MB} MB (engine, from path setup)`, ms(done.ms)]);
  rows.push(['  same, wall clock incl. starting the sidecar process (tsx)', ms(wall)]);
  rows.push([`  tar c | node | tar x of the same tree, before / after`, `${ms(tarBefore)} / ${ms(tarAfter)}`]);
  rows.push(['  ratio (engine / mean tar)', (done.ms / ((tarBefore + tarAfter) / 2)).toFixed(2)]);

  // Latency, laptop → container.
  const up: number[] = [];
  const file = path.join(dirs.local, 'edit.txt');
  const rfile = path.join(dirs.remote, 'edit.txt');
  for (let i = 0; i < EDITS; i++) {
    const content = `edit ${i} ${'x'.repeat(i % 50)}`;
    const ts = performance.now();
    fs.writeFileSync(file, content);
    await waitUntil(() => readOr(rfile) === content);
    up.push(performance.now() - ts);
    await new Promise((r) => setTimeout(r, 5));
  }
  rows.push([`save → in the container, ${EDITS} edits: p50 / p99`, `${ms(pct(up, 50))} / ${ms(pct(up, 99))}`]);

  const down: number[] = [];
  const rf = path.join(dirs.remote, 'from-pod.txt');
  const lf = path.join(dirs.local, 'from-pod.txt');
  for (let i = 0; i < EDITS; i++) {
    const content = `pod edit ${i}`;
    const ts = performance.now();
    fs.writeFileSync(rf, content);
    await waitUntil(() => readOr(lf) === content);
    down.push(performance.now() - ts);
    await new Promise((r) => setTimeout(r, 5));
  }
  rows.push([`container write → on the laptop, ${EDITS} edits: p50 / p99`, `${ms(pct(down, 50))} / ${ms(pct(down, 99))}`]);

  const tb = performance.now();
  fs.mkdirSync(path.join(dirs.local, 'burst'));
  for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(dirs.local, 'burst', `b${i}.txt`), `burst ${i}`);
  await waitUntil(() => readOr(path.join(dirs.remote, 'burst', 'b99.txt')) === 'burst 99' && fs.readdirSync(path.join(dirs.remote, 'burst')).length === 100);
  rows.push(['burst of 100 new files → all in the container', ms(performance.now() - tb)]);

  // Unchanged tree: a new engine with the persisted base.
  await s.stop();
  for (const c of procs.all) c.kill('SIGKILL');
  events.length = 0;
  ({ s, procs } = session(events));
  const t1 = performance.now();
  s.start();
  await s.initialSyncDone;
  const again = events.find((e): e is Extract<SyncEvent, { type: 'initial-done' }> => e.type === 'initial-done')!;
  rows.push([`re-sync of the unchanged tree (new engine, persisted base): engine / wall`, `${ms(again.ms)} / ${ms(performance.now() - t1)}`]);
  rows.push(['  transferred', `${again.uploaded + again.downloaded} files`]);
  await s.stop();
  for (const c of procs.all) c.kill('SIGKILL');

  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`\n${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n`);
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
