// File sync on the local cluster (issue 7, P1 and P2; P3 is bench/watcher-bench.ts), one run, one table:
//
//   P1  save on the laptop → content visible IN the app container, one small file, N edits: p50 / p99;
//       the same from the container to the laptop; a burst of 100 new files each way.
//   P2  initial sync of 10,000 files / 100 MB against raw `tar c | kubectl exec -i … tar x` timed in the
//       same run (before and after); a re-sync of the unchanged tree by a new engine (persisted base).
//   P3  the watchers: `--watchers` runs bench/watcher-bench.ts and appends its table (long: a 100,000-file
//       tree); otherwise the row points to it.
//
// The world is the sync suites' (test-e2e/lib/sync-harness.ts): the DevSession controller in this process
// with the dev sidecar image, one dev pod, the agent's engine (SyncSession over pods/exec) in this process.
//
// "Visible in the container" is observed in the container, not taken from the sidecar's answer: a probe
// (a small node program in the APP container, on a second exec of its own) watches the target with
// inotify and reports the moment it reads the expected content, on CLOCK_MONOTONIC
// (process.hrtime), which the containers and this process share (one kernel: checked at start). For the
// other direction the probe writes the file and reports when, and this process watches the local file.
// See bench/README.md, "Sync".
//
// Usage: make bench-sync
//   node --import tsx bench/sync-bench.ts [--edits 200] [--files 10000] [--mb 100] [--rounds 1] [--only p1|p2] [--watchers] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { SyncWorld, deploymentManifest, registryImages, type RunningSync } from '../test-e2e/lib/sync-harness.js';
import { kubectlPath } from '../test-e2e/lib/exec.js';
import type { SyncEvent } from '../agent/src/sync/index.js';

const { values: args } = parseArgs({
  options: {
    edits: { type: 'string', default: '200' },
    files: { type: 'string', default: '10000' },
    mb: { type: 'string', default: '100' },
    burst: { type: 'string', default: '100' },
    watchers: { type: 'boolean', default: false },
    /** Run only P1 or only P2. */
    only: { type: 'string' },
    /** P2: this many initial syncs, each between two raw tar runs (the ratio is the median). */
    rounds: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const EDITS = Number(args.edits);
const FILES = Number(args.files);
const MB = Number(args.mb);
const BURST = Number(args.burst);
const here = path.dirname(fileURLToPath(import.meta.url));
const APP = 'syncbench';
const log = (s: string) => process.stderr.write(`[sync-bench] ${s}\n`);

type Row = [what: string, value: string, target: string];
const rows: Row[] = [];
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const hr = () => process.hrtime.bigint();
const toMs = (a: bigint, b: bigint) => Number(b - a) / 1e6;

// ---------------------------------------------------------------------------------------------
// The probe in the app container: JSON commands on stdin, JSON answers on stdout.
//   {op:'clock'}                          → {t}
//   {op:'expect', file, content}          → {t} when the file holds exactly `content` (inotify on its dir + 20 ms poll)
//   {op:'expectAll', dir, n, prefix}      → {t} when dir holds n files `${prefix}${i}` with content `${prefix}${i}` (2 ms poll)
//   {op:'write', file, content}           → {t} right before the write (in place, like an editor)
//   {op:'writeMany', dir, n, prefix}      → {t} right before the first write
const PROBE = String.raw`
const fs = require('fs'), path = require('path');
const now = () => process.hrtime.bigint().toString();
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
let pending = null, watcher = null, timer = null;
const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return null; } };
function check() {
  if (!pending) return;
  const p = pending;
  let ok;
  if (p.op === 'expect') ok = read(p.file) === p.content;
  else { ok = true; for (let i = 0; i < p.n && ok; i++) ok = read(path.join(p.dir, p.prefix + i)) === p.prefix + i; }
  if (!ok) return;
  const t = now();
  pending = null;
  if (watcher) { watcher.close(); watcher = null; }
  clearInterval(timer);
  out({ id: p.id, t });
}
function watchDir(dir) {
  try { watcher = fs.watch(dir, check); } catch { /* not there yet: the poll covers it */ }
}
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const c = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    if (c.op === 'clock') out({ id: c.id, t: now() });
    else if (c.op === 'write') { const t = now(); fs.writeFileSync(c.file, c.content); out({ id: c.id, t }); }
    else if (c.op === 'writeMany') { fs.mkdirSync(c.dir, { recursive: true }); const t = now(); for (let k = 0; k < c.n; k++) fs.writeFileSync(path.join(c.dir, c.prefix + k), c.prefix + k); out({ id: c.id, t }); }
    else {
      pending = c;
      if (c.op === 'expect') watchDir(path.dirname(c.file));
      timer = setInterval(check, c.op === 'expect' ? 20 : 2);
      check();
    }
  }
});
process.stdin.on('end', () => process.exit(0));
`;

class Probe {
  private next = 1;
  private readonly waiting = new Map<number, (t: bigint) => void>();
  private stdin!: PassThrough;
  private ws: { close(): void } | undefined;

  static async start(kc: k8s.KubeConfig, namespace: string, pod: string): Promise<Probe> {
    const p = new Probe();
    p.stdin = new PassThrough();
    let line = '';
    const stdout = new Writable({
      write: (c: Buffer, _e, cb) => {
        line += c.toString();
        let i;
        while ((i = line.indexOf('\n')) >= 0) {
          const msg = JSON.parse(line.slice(0, i)) as { id: number; t: string };
          line = line.slice(i + 1);
          p.waiting.get(msg.id)?.(BigInt(msg.t));
          p.waiting.delete(msg.id);
        }
        cb();
      },
    });
    let err = '';
    const stderr = new Writable({ write: (c: Buffer, _e, cb) => ((err += c.toString()), cb()) });
    p.ws = await new k8s.Exec(kc).exec(namespace, pod, 'app', ['node', '-e', PROBE], stdout, stderr, p.stdin, false);
    (p.ws as unknown as { on(e: string, f: () => void): void }).on('close', () => {
      // Questions still open then time out with their own message; say why the probe went.
      if (p.waiting.size) log(`the probe ended: ${err.trim() || 'its exec closed'}`);
    });
    return p;
  }

  ask(cmd: Record<string, unknown>, timeoutMs = 60_000): Promise<bigint> {
    const id = this.next++;
    return new Promise<bigint>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`probe: no answer to ${JSON.stringify(cmd).slice(0, 120)} in ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(id, (v) => {
        clearTimeout(t);
        resolve(v);
      });
      this.stdin.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  close(): void {
    this.stdin.end();
    this.ws?.close();
  }
}

/** Resolves with hr() once the local file holds `content` (fs.watch on its dir + 20 ms poll). */
function localSeen(file: string, content: string, timeoutMs = 60_000): Promise<bigint> {
  return new Promise((resolve, reject) => {
    const dir = path.dirname(file);
    const check = () => {
      let c: string | undefined;
      try {
        c = fs.readFileSync(file, 'utf8');
      } catch {
        return;
      }
      if (c !== content) return;
      const t = hr();
      finish();
      resolve(t);
    };
    const finish = () => {
      w.close();
      clearInterval(iv);
      clearTimeout(to);
    };
    fs.mkdirSync(dir, { recursive: true });
    const w = fs.watch(dir, check);
    const iv = setInterval(check, 20);
    const to = setTimeout(() => {
      finish();
      reject(new Error(`${file} never held ${JSON.stringify(content)}`));
    }, timeoutMs);
    check();
  });
}

function localAllSeen(dir: string, n: number, prefix: string, timeoutMs = 60_000): Promise<bigint> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const iv = setInterval(() => {
      let ok = true;
      for (let i = 0; i < n && ok; i++) {
        try {
          ok = fs.readFileSync(path.join(dir, `${prefix}${i}`), 'utf8') === `${prefix}${i}`;
        } catch {
          ok = false;
        }
      }
      if (ok) {
        clearInterval(iv);
        resolve(hr());
      } else if (Date.now() - t0 > timeoutMs) {
        clearInterval(iv);
        reject(new Error(`${dir}: the burst never arrived`));
      }
    }, 2);
  });
}

function makeTree(root: string): void {
  const total = MB * 1024 * 1024;
  let written = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
    const left = FILES - i;
    const mean = (total - written) / left;
    const size = i === FILES - 1 ? total - written : Math.max(0, Math.round(mean * (0.5 + Math.random())));
    fs.writeFileSync(path.join(dir, `f${i}.dat`), randomBytes(size));
    written += size;
  }
}

/** `tar c -C dir . | kubectl exec -i … -- tar x -C target`, wall clock in ms. */
async function rawTar(w: SyncWorld, pod: string, dir: string, target: string): Promise<number> {
  const clean = await w.run(pod, 'app', ['sh', '-c', `rm -rf ${target}/* && sync`]);
  if (clean.code !== 0) throw new Error(`cleaning ${target}: ${clean.stderr}`);
  const kubectl = kubectlPath();
  settleDisk();
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const sh = spawn('sh', ['-c', `tar c -C "$1" . | "$2" exec -i -n "$3" "$4" -c app -- tar x -C "$5"`, 'sh', dir, kubectl, w.namespace, pod, target], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    sh.stderr.on('data', (d: Buffer) => (err += d.toString()));
    sh.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar | kubectl exec exited ${code}: ${err.trim()}`))));
  });
  const took = performance.now() - t0;
  const n = (await w.sh(pod, 'app', `find ${target} -type f | wc -l`)).trim();
  if (Number(n) !== FILES) throw new Error(`raw tar: ${n} files arrived, not ${FILES}`);
  return took;
}

/**
 * Flush dirty pages (one kernel: the containers' volumes too) before a timed phase, so that neither side
 * pays for the writeback of the one before it (100 MB each).
 */
function settleDisk(): void {
  spawnSync('sync');
}

function doneEvent(s: RunningSync, from: number): Extract<SyncEvent, { type: 'initial-done' }> | undefined {
  return s.events.slice(from).find((e): e is Extract<SyncEvent, { type: 'initial-done' }> => e.type === 'initial-done');
}

async function main(): Promise<void> {
  const load0 = os.loadavg();
  log(`load average ${load0.map((x) => x.toFixed(1)).join(' ')}; ${os.cpus().length} cores`);
  const w = await SyncWorld.start('dsa-sync-bench');
  const local = w.dir('local');
  const p1 = path.join(local, 'p1');
  const p2 = path.join(local, 'p2');
  fs.mkdirSync(p1, { recursive: true });
  let probe: Probe | undefined;
  const syncs: RunningSync[] = [];
  try {
    await w.apply(APP, {
      project: 'sync-bench',
      images: registryImages([w.env.nodeImage]),
      deployments: [{ name: APP, kubectl: { manifests: [deploymentManifest({ name: APP, image: w.env.nodeImage, command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'] })] } }],
      dev: {
        pods: [
          {
            name: 'app',
            selector: { labelSelector: { app: APP } },
            // /bench/tar is never synced: an emptyDir like the others, for the raw tar baseline
            sync: [{ localPath: 'p1', containerPath: '/bench/p1' }, { localPath: 'p2', containerPath: '/bench/p2' }, { localPath: 'unused', containerPath: '/bench/tar' }],
          },
        ],
      },
    });
    await w.waitReady(APP);
    const { pod } = await w.runningPod(APP);
    probe = await Probe.start(w.kc, w.namespace, pod);

    // One kernel, one monotonic clock: the probe's reading lies between ours before and after asking.
    const a = hr();
    const c = await probe.ask({ op: 'clock' });
    const b = hr();
    if (!(a <= c && c <= b)) throw new Error(`the container's monotonic clock is not this machine's (${a} ≤ ${c} ≤ ${b} fails): the latency method needs a single-node local cluster`);
    log(`clock check: the probe answered in ${toMs(a, b).toFixed(1)} ms`);

    // --- P1 ------------------------------------------------------------------------------------
    if (args.only !== 'p2') {
    const s1 = w.startSync({ session: APP, devPod: 'app', paths: [{ localPath: p1, containerPath: '/bench/p1', sync: 0 }] });
    syncs.push(s1);
    await s1.session.initialSyncDone;
    const up: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const content = `edit ${i} ${'x'.repeat(i % 64)}`;
      const seen = probe.ask({ op: 'expect', file: '/bench/p1/edit.txt', content });
      await new Promise((r) => setTimeout(r, 2)); // the probe is watching before the save
      const t0 = hr();
      fs.writeFileSync(path.join(p1, 'edit.txt'), content);
      up.push(toMs(t0, await seen));
      await new Promise((r) => setTimeout(r, 10 + (i % 5) * 5));
    }
    rows.push([`P1 save → visible in the container, 1 small file, ${EDITS} edits: p50 / p99`, `${ms(pct(up, 50))} / ${ms(pct(up, 99))}`, '≤ 50 / 150 ms']);
    rows.push(['   min / mean / max', `${ms(Math.min(...up))} / ${ms(up.reduce((x, y) => x + y, 0) / up.length)} / ${ms(Math.max(...up))}`, '']);

    const down: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      const content = `pod edit ${i} ${'y'.repeat(i % 64)}`;
      const seen = localSeen(path.join(p1, 'from-pod.txt'), content);
      const t0 = await probe.ask({ op: 'write', file: '/bench/p1/from-pod.txt', content });
      down.push(toMs(t0, await seen));
      await new Promise((r) => setTimeout(r, 10 + (i % 5) * 5));
    }
    rows.push([`P1 write in the container → on the laptop, ${EDITS} edits: p50 / p99`, `${ms(pct(down, 50))} / ${ms(pct(down, 99))}`, '≤ 50 / 150 ms']);
    rows.push(['   min / mean / max', `${ms(Math.min(...down))} / ${ms(down.reduce((x, y) => x + y, 0) / down.length)} / ${ms(Math.max(...down))}`, '']);

    const burstUp = probe.ask({ op: 'expectAll', dir: '/bench/p1/burst-up', n: BURST, prefix: 'b' });
    await new Promise((r) => setTimeout(r, 20));
    const tb = hr();
    fs.mkdirSync(path.join(p1, 'burst-up'));
    for (let i = 0; i < BURST; i++) fs.writeFileSync(path.join(p1, 'burst-up', `b${i}`), `b${i}`);
    rows.push([`P1 burst of ${BURST} new files, laptop → all visible in the container`, ms(toMs(tb, await burstUp)), '']);
    const burstDownSeen = localAllSeen(path.join(p1, 'burst-down'), BURST, 'c');
    const td = await probe.ask({ op: 'writeMany', dir: '/bench/p1/burst-down', n: BURST, prefix: 'c' });
    rows.push([`P1 burst of ${BURST} new files, container → all on the laptop`, ms(toMs(td, await burstDownSeen)), '']);
    await s1.stop();
    }

    // --- P2 ------------------------------------------------------------------------------------
    if (args.only !== 'p1') {
    log(`making ${FILES} files, ${MB} MB`);
    makeTree(p2);
    const rounds = Math.max(1, Number(args.rounds));
    const tars: number[] = [await rawTar(w, pod, p2, '/bench/tar')];
    const walls: number[] = [];
    const engine: number[] = [];
    const ratios: number[] = [];
    let lastState = '';
    for (let r = 0; r < rounds; r++) {
      if (r > 0) await w.sh(pod, 'app', 'rm -rf /bench/p2/*');
      settleDisk();
      const s2 = w.startSync({ session: APP, devPod: 'app', paths: [{ localPath: p2, containerPath: '/bench/p2', sync: 1 }] });
      syncs.push(s2);
      const t0 = performance.now();
      await s2.session.initialSyncDone;
      walls.push(performance.now() - t0);
      engine.push(doneEvent(s2, 0)!.ms);
      lastState = s2.stateDir;
      await s2.stop();
      const remoteCount = Number((await w.sh(pod, 'app', 'find /bench/p2 -type f | wc -l')).trim());
      if (remoteCount !== FILES) throw new Error(`the initial sync left ${remoteCount} files in the container, not ${FILES}`);
      tars.push(await rawTar(w, pod, p2, '/bench/tar'));
      ratios.push(walls[r]! / ((tars[r]! + tars[r + 1]!) / 2));
      log(`P2 round ${r + 1}: sync ${ms(walls[r]!)}, tar ${ms(tars[r]!)} / ${ms(tars[r + 1]!)}, ratio ${ratios[r]!.toFixed(2)}`);
    }
    const list = (xs: number[]) => xs.map(ms).join(', ');
    rows.push([`P2 initial sync, ${FILES} files / ${MB} MB (start → done, incl. the exec connect)`, list(walls), '']);
    rows.push(['   engine\'s own figure (path setup → done)', list(engine), '']);
    rows.push(['   raw tar c | kubectl exec -i … tar x, around each sync', list(tars), '']);
    rows.push([`   ratio sync / raw tar (the tars before and after)${rounds > 1 ? ', median of rounds' : ''}`, `${pct(ratios, 50).toFixed(2)}×${rounds > 1 ? ` (${ratios.map((x) => x.toFixed(2)).join(', ')})` : ''}`, '≤ 1.2×']);

    // the container holds the tree of the last sync (the tar went to /bench/tar): nothing changed since
    settleDisk();
    const s3 = w.startSync({ session: APP, devPod: 'app', paths: [{ localPath: p2, containerPath: '/bench/p2', sync: 1 }], stateDir: lastState });
    syncs.push(s3);
    const t1 = performance.now();
    await s3.session.initialSyncDone;
    const again = performance.now() - t1;
    const d3 = doneEvent(s3, 0)!;
    rows.push(['P2 re-sync of the unchanged tree (new engine, persisted base; start → done)', ms(again), '≤ 1 s']);
    rows.push(['   transferred', `${d3.uploaded + d3.downloaded} files`, '0']);
    await s3.stop();
    }

    // --- P3 ------------------------------------------------------------------------------------
    let watcherTable = '';
    if (args.watchers) {
      log('P3: running bench/watcher-bench.ts (a 100,000-file tree; minutes)');
      watcherTable = await new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'watcher-bench.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        c.stdout.on('data', (d: Buffer) => (out += d.toString()));
        c.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`watcher-bench exited ${code}`))));
      });
    } else {
      rows.push(['P3 watchers on a 100,000-file tree', 'make bench-watchers (or --watchers)', 'ready ≤ 5 s, RSS ≤ 300 MB']);
    }

    const load1 = os.loadavg();
    rows.push(['machine: cores / load average at start → end (1, 5, 15 min)', `${os.cpus().length} / ${load0.map((x) => x.toFixed(1)).join(' ')} → ${load1.map((x) => x.toFixed(1)).join(' ')}`, '']);
    const wa = Math.max(...rows.map((r) => r[0].length), 6);
    const wb = Math.max(...rows.map((r) => r[1].length), 5);
    const line = (r: Row) => `${r[0].padEnd(wa)}  ${r[1].padEnd(wb)}  ${r[2]}`.trimEnd();
    process.stdout.write(`\n${line(['figure', 'value', 'target'])}\n${line(['-'.repeat(wa), '-'.repeat(wb), '------'])}\n${rows.map(line).join('\n')}\n`);
    if (watcherTable) process.stdout.write(`\nP3 (bench/watcher-bench.ts):\n${watcherTable}`);
  } finally {
    probe?.close();
    for (const s of syncs) await s.stop().catch(() => undefined);
    if (!args.keep) await w.close();
    else log(`kept namespace ${w.namespace} and ${w.work}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
