// File watcher benchmark (issue 7, P3; ADR 0005): chokidar, @parcel/watcher and our watchTree (kernel events
// and polling) side by side on the same generated 100,000-file tree, in one run.
//
// Every candidate runs in a fresh child process, so RSS and CPU are its own, and measures there:
//   ready        subscribe → ready (initial crawl and every watch in place)
//   watches      inotify watches the process holds (/proc/self/fdinfo)
//   RSS          after ready, next to the child's RSS before it loaded the watcher (node + tsx baseline), and peak
//   idle CPU     process.cpuUsage over 10 s with nothing changing, as % of one core
//   latency      write a file → its event delivered: 200 edits 5–25 ms apart (an editor saving, a formatter), and
//                10 edits 600 ms apart (@parcel/watcher's debounce lets the first event of a quiet period through)
//   correctness  create, modify, rename, delete, mkdir + files written right after, delete of a whole directory,
//                a directory tree moved in from outside then written into, an atomic save (write temp, rename over)
// Prints one table and asserts nothing. Usage: `make bench-watchers` or
//   node --import tsx bench/watcher-bench.ts [--files 100000] [--dirs 5000] [--samples 200] [--idle 10] [--only dsa,parcel]
//     [--dir /dev/shm] [--tree DIR (kept and reused across runs)]
import { fork } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { unlink, writeFile } from 'node:fs/promises';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '100000' },
    dirs: { type: 'string', default: '5000' },
    samples: { type: 'string', default: '200' },
    isolated: { type: 'string', default: '10' },
    idle: { type: 'string', default: '10' },
    only: { type: 'string' },
    /** Keep the generated tree in this directory and reuse it on the next run (faster iterations). */
    tree: { type: 'string' },
    /** Where the temporary tree goes (default: the OS temp dir); e.g. /dev/shm when the disk is busy. */
    dir: { type: 'string' },
    child: { type: 'string' },
    root: { type: 'string' },
    outside: { type: 'string' },
  },
});

const CANDIDATES = ['chokidar', 'parcel', 'dsa', 'dsa-polling'] as const;
type CandidateName = (typeof CANDIDATES)[number];
const require = createRequire(import.meta.url);
/** A package's version, found next to its entry point (chokidar's exports hide package.json). */
function versionOf(pkg: string): string {
  for (let dir = path.dirname(require.resolve(pkg)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const meta = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (meta.name === pkg) return meta.version ?? '?';
    } catch {
      // no package.json at this level
    }
  }
  return '?';
}
const LABEL: Record<CandidateName, string> = {
  chokidar: `chokidar ${versionOf('chokidar')}`,
  parcel: `@parcel/watcher ${versionOf('@parcel/watcher')}`,
  dsa: 'dsa watchTree',
  'dsa-polling': 'dsa polling 1 s',
};
/** Latency files per candidate, cycled so a late event of one edit never counts for the next. */
const LAT_FILES = 10;
const MKDIR_TRIES = 5;

interface SpotResult {
  name: string;
  ok: boolean;
  ms: number;
  missing: string[];
  tries: number;
  failed: number;
}
interface ChildResult {
  name: CandidateName;
  error?: string;
  readyMs?: number;
  /** CPU the process spent getting ready: on a busy machine the fairer figure. */
  readyCpuMs?: number;
  watches?: number;
  baseRssMb?: number;
  rssMb?: number;
  peakRssMb?: number;
  idleCpuPct?: number;
  lat?: { p50: number; p99: number; max: number; lost: number; n: number };
  iso?: { p50: number; max: number; lost: number; n: number };
  spots?: SpotResult[];
}

// ---------------------------------------------------------------------------------------------------------
// Tree

/** Small deterministic PRNG so every run builds the same tree. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A project the way people sync it: src/ with a few levels of modules, and a node_modules of packages
 * (lib/, dist/esm, dist/cjs, some tests, and nested node_modules a few levels deep), about `files` files in
 * about `dirs` directories. Returns the number of files and directories written.
 */
async function generateTree(root: string, files: number, dirs: number): Promise<{ files: number; dirs: number }> {
  const rand = rng(7);
  const all = new Set<string>(); // every directory, intermediate ones included
  const mk = (rel: string): string => {
    mkdirSync(path.join(root, rel), { recursive: true });
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) all.add(parts.slice(0, i).join('/'));
    return rel;
  };
  const srcDirs = Math.round(dirs * 0.06);
  for (let i = 0; i < srcDirs; i++) {
    const depth = 1 + Math.floor(rand() * 6);
    const parts = ['src'];
    for (let d = 0; d < depth; d++) parts.push(`m${Math.floor(rand() * (d === 0 ? 12 : 4))}`);
    mk(parts.join('/'));
  }
  let pkg = 0;
  while (all.size < dirs) {
    const base = rand() < 0.15 && pkg > 10 ? `node_modules/p${Math.floor(rand() * pkg)}/node_modules/q${pkg}` : `node_modules/p${pkg}`;
    pkg++;
    for (const sub of ['', 'lib', 'lib/internal', 'dist', 'dist/esm', 'dist/cjs']) mk(sub ? `${base}/${sub}` : base);
    if (rand() < 0.3) mk(`${base}/test/fixtures/deep/a/b/c`);
  }
  const unique = [...all];
  const plan = Array.from({ length: files }, (_, i) => ({ file: path.join(root, unique[Math.floor(rand() * unique.length)] as string, `f${i}.js`), size: 40 + Math.floor(rand() * 1500) }));
  // Writes in parallel: one at a time costs ~4× more wall time on a virtual disk.
  await parallel(plan, ({ file, size }) => writeFile(file, 'x'.repeat(size)));
  // Scratch space for each candidate's edits: existing directories with existing latency files.
  for (const c of CANDIDATES) {
    mk(`scratch/${c}`);
    for (let i = 0; i < LAT_FILES; i++) writeFileSync(path.join(root, 'scratch', c, `lat${i}.txt`), 'x');
  }
  return countTree(root);
}

/** A tree kept from an earlier run (--tree): only the scratch space is rebuilt. */
function reuseTree(root: string): { files: number; dirs: number } {
  rmSync(path.join(root, 'scratch'), { recursive: true, force: true });
  for (const c of CANDIDATES) {
    mkdirSync(path.join(root, 'scratch', c), { recursive: true });
    for (let i = 0; i < LAT_FILES; i++) writeFileSync(path.join(root, 'scratch', c, `lat${i}.txt`), 'x');
  }
  return countTree(root);
}

function countTree(root: string): { files: number; dirs: number } {
  let files = 0;
  let dirs = 0;
  const walk = (dir: string): void => {
    dirs++;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else files++;
    }
  };
  walk(root);
  return { files, dirs };
}

// ---------------------------------------------------------------------------------------------------------
// Child: one candidate

type Kind = 'create' | 'update' | 'delete';
interface Seen {
  kind: Kind;
  path: string;
  t: number;
}
interface Running {
  stop(): Promise<void>;
}

async function startCandidate(name: CandidateName, root: string, onEvent: (kind: Kind, rel: string) => void): Promise<Running> {
  const rel = (abs: string): string => path.relative(root, abs).split(path.sep).join('/');
  switch (name) {
    case 'chokidar': {
      const { watch } = await import('chokidar');
      const w = watch(root, { ignoreInitial: true, persistent: true });
      const map: Record<string, Kind> = { add: 'create', addDir: 'create', change: 'update', unlink: 'delete', unlinkDir: 'delete' };
      w.on('all', (ev: string, p: string) => {
        const k = map[ev];
        if (k) onEvent(k, rel(p));
      });
      await new Promise<void>((resolve, reject) => {
        w.once('ready', () => resolve());
        w.once('error', (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
      });
      return { stop: () => w.close() };
    }
    case 'parcel': {
      const parcel = await import('@parcel/watcher');
      const sub = await parcel.subscribe(root, (err, events) => {
        if (err) throw err;
        for (const e of events) onEvent(e.type, rel(e.path));
      });
      return { stop: () => sub.unsubscribe() };
    }
    case 'dsa':
    case 'dsa-polling': {
      const { watchTree } = await import('../api/src/sync/watcher.js');
      const w = watchTree(root, {
        polling: name === 'dsa-polling',
        onEvents: (es) => es.forEach((e) => onEvent(e.kind, e.path)),
        onError: (e) => console.error(`${name}: ${e.message}`),
      });
      await w.ready;
      return { stop: () => w.close() };
    }
  }
}

function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (!readlinkSync(`/proc/self/fd/${fd}`).includes('inotify')) continue;
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // fd closed meanwhile
    }
  }
  return n;
}

const mb = (bytes: number): number => Math.round(bytes / 1048576);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function runChild(name: CandidateName, root: string, outside: string): Promise<ChildResult> {
  const res: ChildResult = { name };
  const events: Seen[] = [];
  const waiters = new Set<{ match: (e: Seen) => boolean; resolve: (e: Seen) => void }>();
  const onEvent = (kind: Kind, rel: string): void => {
    const e = { kind, path: rel, t: performance.now() };
    events.push(e);
    if (events.length > 100000) events.splice(0, 50000);
    for (const w of waiters) {
      if (!w.match(e)) continue;
      waiters.delete(w);
      w.resolve(e);
    }
  };
  /** Resolves with the first event (already seen since `since`, or coming) that matches, or undefined after `timeoutMs`. */
  const waitFor = (match: (e: Seen) => boolean, since: number, timeoutMs: number): Promise<Seen | undefined> => {
    const old = events.find((e) => e.t >= since && match(e));
    if (old) return Promise.resolve(old);
    return new Promise((resolve) => {
      const w = { match: (e: Seen) => e.t >= since && match(e), resolve: (e: Seen | undefined) => (clearTimeout(timer), resolve(e)) };
      const timer = setTimeout(() => (waiters.delete(w), resolve(undefined)), timeoutMs);
      waiters.add(w);
    });
  };

  res.baseRssMb = mb(process.memoryUsage.rss());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let running: Running;
  try {
    running = await startCandidate(name, root, onEvent);
  } catch (err) {
    res.error = (err as Error).message.split('\n')[0];
    return res;
  }
  res.readyMs = performance.now() - t0;
  const cpuReady = process.cpuUsage(cpu0);
  res.readyCpuMs = (cpuReady.user + cpuReady.system) / 1000;
  res.watches = inotifyWatches();
  res.rssMb = mb(process.memoryUsage.rss());
  res.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

  await sleep(1000);
  const idleSec = Number(args.idle);
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(idleSec * 1000);
  const c1 = process.cpuUsage(c0);
  res.idleCpuPct = ((c1.user + c1.system) / 1000 / (performance.now() - w0)) * 100;

  const scratch = `scratch/${name}`;
  const polling = name === 'dsa-polling';
  const latency = async (n: number, gap: () => number, timeoutMs: number): Promise<{ ms: number[]; lost: number }> => {
    const ms: number[] = [];
    let lost = 0;
    for (let i = 0; i < n; i++) {
      const rel = `${scratch}/lat${i % LAT_FILES}.txt`;
      const start = performance.now();
      writeFileSync(path.join(root, rel), `edit ${i} ${'y'.repeat(i % 50)}`);
      const e = await waitFor((x) => x.path === rel, start, timeoutMs);
      if (e) ms.push(e.t - start);
      else lost++;
      await sleep(gap());
    }
    return { ms: ms.sort((a, b) => a - b), lost };
  };
  const rand = rng(11);
  const samples = polling ? Math.min(10, Number(args.samples)) : Number(args.samples);
  // Polling: edits at random phases of the 1 s period (right after an event they would all land just after a tick).
  const lat = await latency(samples, () => (polling ? rand() * 1000 : 5 + rand() * 20), polling ? 5000 : 2000);
  res.lat = { p50: pct(lat.ms, 50), p99: pct(lat.ms, 99), max: lat.ms.at(-1) ?? Number.NaN, lost: lat.lost, n: samples };
  if (!polling) {
    const isoN = Number(args.isolated);
    const iso = await latency(isoN, () => 600, 2000);
    res.iso = { p50: pct(iso.ms, 50), max: iso.ms.at(-1) ?? Number.NaN, lost: iso.lost, n: isoN };
  }

  // Correctness spot checks: do the operation, then wait for every expected event (extra events are fine).
  // Not for polling: each would wait for a full crawl; api/src/sync/watcher.test.ts covers polling's correctness.
  if (polling) {
    await running.stop();
    return res;
  }
  const spots: SpotResult[] = [];
  const timeout = 1500;
  const abs = (rel: string): string => path.join(root, scratch, rel);
  const spot = async (label: string, op: () => void, expect: Array<[Kind[], string]>): Promise<void> => {
    await sleep(150); // the previous check's late events settle first
    const start = performance.now();
    op();
    const found = await Promise.all(
      expect.map(([kinds, rel]) => waitFor((e) => e.path === `${scratch}/${rel}` && kinds.includes(e.kind), start, timeout)),
    );
    const missing = expect.filter((_, i) => !found[i]).map(([kinds, rel]) => `${kinds.join('|')} ${rel}`);
    const ms = Math.max(...found.map((e) => (e ? e.t : start))) - start;
    const prev = spots.find((s) => s.name === label);
    if (!prev) spots.push({ name: label, ok: missing.length === 0, ms, missing, tries: 1, failed: missing.length ? 1 : 0 });
    else {
      // Repeated check: worst time, every miss, and how many tries missed something.
      prev.tries++;
      prev.failed += missing.length ? 1 : 0;
      prev.ok &&= missing.length === 0;
      prev.ms = Math.max(prev.ms, ms);
      prev.missing.push(...missing);
    }
  };
  const C: Kind[] = ['create'];
  const U: Kind[] = ['update'];
  const D: Kind[] = ['delete'];
  const ANY: Kind[] = ['create', 'update'];
  await spot('create file', () => writeFileSync(abs('new.txt'), 'hello'), [[C, 'new.txt']]);
  await spot('modify file', () => appendFileSync(abs('new.txt'), ' world'), [[U, 'new.txt']]);
  await spot('rename file', () => renameSync(abs('new.txt'), abs('moved.txt')), [[D, 'new.txt'], [C, 'moved.txt']]);
  await spot('delete file', () => rmSync(abs('moved.txt')), [[D, 'moved.txt']]);
  // A race (files written before the watcher looks inside the new directory), so tried several times.
  for (let i = 0; i < MKDIR_TRIES; i++) {
    await spot(
      `mkdir, files written right after (${MKDIR_TRIES} tries)`,
      () => {
        mkdirSync(abs(`d${i}`));
        for (const f of ['a', 'b', 'c']) writeFileSync(abs(`d${i}/${f}`), f);
        mkdirSync(abs(`d${i}/x/y`), { recursive: true });
        writeFileSync(abs(`d${i}/x/y/f`), 'f');
      },
      [[C, `d${i}/a`], [C, `d${i}/b`], [C, `d${i}/c`], [C, `d${i}/x/y/f`]],
    );
    await spot(`write into the new nested dir (${MKDIR_TRIES} tries)`, () => writeFileSync(abs(`d${i}/x/y/g`), 'g'), [[C, `d${i}/x/y/g`]]);
  }
  await spot('delete a whole directory', () => rmSync(abs('d0'), { recursive: true }), [[D, 'd0']]);
  const pkg = path.join(outside, name);
  mkdirSync(path.join(pkg, 'lib/deep'), { recursive: true });
  writeFileSync(path.join(pkg, 'lib/deep/index.js'), 'x');
  await spot('tree moved in from outside', () => renameSync(pkg, abs('pkg')), [[C, 'pkg']]);
  await spot('write inside the moved-in tree', () => writeFileSync(abs('pkg/lib/deep/new.js'), 'y'), [[C, 'pkg/lib/deep/new.js']]);
  writeFileSync(abs('atomic.txt'), 'v1');
  await spot(
    'atomic save (temp + rename over)',
    () => {
      writeFileSync(abs('.atomic.tmp'), 'v2');
      renameSync(abs('.atomic.tmp'), abs('atomic.txt'));
    },
    [[ANY, 'atomic.txt']],
  );
  res.spots = spots;
  await running.stop();
  return res;
}

// ---------------------------------------------------------------------------------------------------------
// Parent

function runInChild(name: CandidateName, root: string, outside: string, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', name, '--root', root, '--outside', outside, '--idle', String(args.idle), '--samples', String(args.samples), '--isolated', String(args.isolated)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: ChildResult | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (m) => (result = m as ChildResult));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(result ?? { name, error: signal === 'SIGKILL' ? `no result within ${timeoutMs / 1000} s` : `child exited ${code ?? signal}` });
    });
  });
}

const f0 = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(1) : Math.round(n).toString());

function table(results: ChildResult[]): string {
  const rows: Array<[string, ...string[]]> = [];
  const row = (label: string, fn: (r: ChildResult) => string): void => {
    rows.push([label, ...results.map((r) => (r.error ? (label.startsWith('ready') ? `FAILED: ${r.error}` : '') : fn(r)))]);
  };
  row('ready (CPU time)', (r) => `${((r.readyMs ?? 0) / 1000).toFixed(2)} s (${((r.readyCpuMs ?? 0) / 1000).toFixed(2)} s)`);
  row('inotify watches', (r) => String(r.watches));
  row('RSS after ready (process baseline)', (r) => `${r.rssMb} MB (${r.baseRssMb})`);
  row('peak RSS', (r) => `${r.peakRssMb} MB`);
  row(`idle CPU over ${args.idle} s`, (r) => `${(r.idleCpuPct ?? 0).toFixed(2)} %`);
  row('latency, edits 5–25 ms apart: p50 / p99 / max', (r) => (r.lat ? `${f0(r.lat.p50)} / ${f0(r.lat.p99)} / ${f0(r.lat.max)} ms (n=${r.lat.n}${r.lat.lost ? `, LOST ${r.lat.lost}` : ''})` : '-'));
  row('latency, edits 600 ms apart: p50 / max', (r) => (r.iso ? `${f0(r.iso.p50)} / ${f0(r.iso.max)} ms (n=${r.iso.n}${r.iso.lost ? `, LOST ${r.iso.lost}` : ''})` : '-'));
  const names = results.find((r) => r.spots)?.spots?.map((s) => s.name) ?? [];
  for (const n of names) {
    row(n, (r) => {
      const s = r.spots?.find((x) => x.name === n);
      if (!s) return '-';
      if (s.ok) return `ok ${f0(s.ms)} ms`;
      const tries = s.tries > 1 ? `${s.failed}/${s.tries} tries: ` : '';
      const shown = s.missing.slice(0, 3).join(', ') + (s.missing.length > 3 ? ` +${s.missing.length - 3}` : '');
      return `MISSED ${tries}${shown}`;
    });
  }
  const header: [string, ...string[]] = ['', ...results.map((r) => LABEL[r.name])];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  if (args.child) {
    const name = args.child as CandidateName;
    const result = await runChild(name, args.root as string, args.outside as string);
    process.send?.(result, () => process.exit(0));
    return;
  }
  const only = args.only ? (args.only.split(',') as CandidateName[]) : [...CANDIDATES];
  for (const c of only) if (!CANDIDATES.includes(c)) throw new Error(`unknown candidate ${c}; one of ${CANDIDATES.join(', ')}`);
  const t0 = performance.now();
  const base = mkdtempSync(path.join(args.dir ? path.resolve(args.dir) : os.tmpdir(), 'dsa-watcher-bench-'));
  const root = args.tree ? path.resolve(args.tree) : path.join(base, 'tree');
  const cleanupNow = (): void => {
    rmSync(base, { recursive: true, force: true });
    if (args.tree) rmSync(path.join(root, 'scratch'), { recursive: true, force: true });
  };
  process.on('SIGINT', () => (cleanupNow(), process.exit(130)));
  try {
    const outside = path.join(base, 'outside');
    mkdirSync(outside);
    const g0 = performance.now();
    const reuse = args.tree !== undefined && existsSync(path.join(root, 'node_modules'));
    const tree = reuse ? reuseTree(root) : await generateTree(root, Number(args.files), Number(args.dirs));
    const cpu = os.cpus();
    process.stderr.write(
      `tree: ${tree.files} files, ${tree.dirs} directories, generated in ${((performance.now() - g0) / 1000).toFixed(1)} s\n` +
        `machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${mb(os.totalmem())} MB, Linux ${os.release()}, Node ${process.version}, ` +
        `max_user_watches ${readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()}, ${new Date().toISOString().slice(0, 10)}, ` +
        `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`,
    );
    const results: ChildResult[] = [];
    for (const name of only) {
      const c0 = performance.now();
      results.push(await runInChild(name, root, outside, 150_000));
      process.stderr.write(`${LABEL[name]}: done in ${((performance.now() - c0) / 1000).toFixed(1)} s (load average ${os.loadavg()[0]?.toFixed(1)})\n`);
    }
    process.stdout.write(`\n${table(results)}\n`);
  } finally {
    // Files first, in parallel (one unlink at a time is several times slower on a virtual disk), then the rest.
    const c0 = performance.now();
    if (!args.tree) await parallel(listFiles(base), (f) => unlink(f));
    cleanupNow();
    process.stderr.write(`cleaned up in ${((performance.now() - c0) / 1000).toFixed(1)} s; whole run ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** Runs `fn` over `items`, 16 at a time. */
async function parallel<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

await main();
