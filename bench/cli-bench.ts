// Start-up of the dsa CLI next to `kubectl version --client`, in ONE run (issue 10): the same machine, the
// same moment, so the ratios hold on a loaded machine better than absolute times do.
//
//   make bench-cli
//   # which is: eval "$(test-e2e/cluster/ensure.sh controlplane)"; node agent/build/bundle.mjs;
//   node --import tsx bench/cli-bench.ts [--runs 20] [--sea] [--source]
//
// Commands run round-robin (one run of each, then the next round), each under GNU time for its CPU time
// and peak RSS; wall time is measured here. What is measured is what users run: `dsa` is the installed
// launcher (agent/bin/dsa.js) running the bundle (DSA_BUNDLE=1 makes the checkout behave as an install);
// --sea adds the single executable (agent/dist/sea/, `node agent/build/sea.mjs`), --source the tsx
// launcher the repository uses (the "before"). Prints a table; asserts nothing.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TIME = '/usr/bin/time';
const EXAMPLE = join(REPO, 'examples/node-kubectl/devspace.yaml');

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, sea: { type: 'boolean', default: false }, source: { type: 'boolean', default: false } } });
const runs = Number(values.runs);

interface Case {
  name: string;
  argv: string[];
  env?: Record<string, string>;
  /** Exit code the command must end with (a check that it did what the row says). */
  expectCode: number;
  expectStderr?: RegExp;
  /** Ratio to kubectl the issue asks for (wall, median). */
  target?: number;
  runs?: number;
}

interface Sample {
  wallMs: number;
  cpuMs: number;
  rssKiB: number;
}

function die(message: string): never {
  process.stderr.write(`cli-bench: ${message}\n`);
  process.exit(2);
}

/** One run under GNU time: wall (measured here), user+sys CPU and peak RSS (time's %U %S %M). */
function measure(c: Case): Promise<Sample> {
  const out = join(tmpdir(), `dsa-cli-bench-${process.pid}.time`);
  return new Promise((ok, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(TIME, ['-o', out, '-f', '%U %S %M', ...c.argv], { env: { ...process.env, ...c.env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', fail);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== c.expectCode || (c.expectStderr && !c.expectStderr.test(stderr))) {
        return fail(new Error(`${c.name}: exit ${code} (want ${c.expectCode})\n${stderr.slice(0, 1000)}`));
      }
      const [user, sys, rss] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      ok({ wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000, rssKiB: rss ?? 0 });
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const min = (xs: number[]) => Math.min(...xs);
const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);

async function main(): Promise<void> {
  if (!existsSync(TIME)) die(`${TIME} is missing (Debian package "time")`);
  const kubectl = process.env.DSA_KUBE_BIN ? join(process.env.DSA_KUBE_BIN, 'kubectl') : 'kubectl';
  try {
    execFileSync(kubectl, ['version', '--client'], { stdio: 'ignore' });
  } catch {
    die(`${kubectl} does not run: eval "$(make -s cluster-env)" first (DSA_KUBE_BIN)`);
  }
  if (!existsSync(join(REPO, 'agent/dist/bundle/dsa.mjs'))) die('agent/dist/bundle/dsa.mjs is missing: node agent/build/bundle.mjs');
  const cluster = Boolean(process.env.KUBECONFIG);
  const home = mkdtempSync(join(tmpdir(), 'dsa-cli-bench-home-'));
  // The installed layout: launcher → bundle. HOME without ~/.kube: the cluster comes from KUBECONFIG only.
  const bundleEnv = { DSA_BUNDLE: '1', HOME: home };
  const dsa = [process.execPath, join(REPO, 'agent/bin/dsa.js')];
  const missing = `dsa-bench-missing-${process.pid}`;
  const flavours: Array<{ label: string; argv: string[]; env: Record<string, string>; runs?: number }> = [{ label: 'dsa', argv: dsa, env: bundleEnv }];
  const sea = join(REPO, `agent/dist/sea/dsa-${process.platform}-${process.arch}`);
  if (values.sea) {
    if (!existsSync(sea)) die(`${sea} is missing: node agent/build/sea.mjs`);
    flavours.push({ label: 'dsa (single executable)', argv: [sea], env: { HOME: home } });
  }
  if (values.source) flavours.push({ label: 'dsa from source (tsx)', argv: dsa, env: { HOME: home }, runs: Math.min(runs, 5) });

  const cases: Case[] = [{ name: 'kubectl version --client', argv: [kubectl, 'version', '--client'], expectCode: 0 }];
  for (const f of flavours) {
    const r = f.runs === undefined ? {} : { runs: f.runs };
    cases.push({ name: `${f.label} --help`, argv: [...f.argv, '--help'], env: f.env, expectCode: 0, target: 3, ...r });
    cases.push({ name: `${f.label} validate (examples/node-kubectl)`, argv: [...f.argv, 'validate', '--config', EXAMPLE], env: f.env, expectCode: 0, target: 5, ...r });
    if (cluster)
      cases.push({
        name: `${f.label} logs (no such session)`,
        argv: [...f.argv, 'logs', '--config', EXAMPLE, '-n', missing],
        env: f.env,
        expectCode: 1,
        expectStderr: /no DevSession for this project/,
        target: 8,
        ...r,
      });
  }

  const load0 = loadavg()[0]!;
  const samples = new Map<Case, Sample[]>(cases.map((c) => [c, []]));
  // Warm the page cache and V8's lazy parts of node itself, then measure round-robin.
  for (const c of cases) await measure(c);
  for (let i = 0; i < runs; i++) for (const c of cases) if (i < (c.runs ?? runs)) samples.get(c)!.push(await measure(c));
  const load1 = loadavg()[0]!;
  rmSync(home, { recursive: true, force: true });

  const ref = samples.get(cases[0]!)!;
  const refWall = median(ref.map((s) => s.wallMs));
  const refCpu = median(ref.map((s) => s.cpuMs));
  const refMin = min(ref.map((s) => s.wallMs));
  const rows = cases.map((c) => {
    const s = samples.get(c)!;
    const wall = median(s.map((x) => x.wallMs));
    const ratio = wall / refWall;
    return [
      c.name,
      String(s.length),
      ms(wall),
      ms(min(s.map((x) => x.wallMs))),
      ms(median(s.map((x) => x.cpuMs))),
      `${(median(s.map((x) => x.rssKiB)) / 1024).toFixed(0)} MiB`,
      c === cases[0] ? '1' : `${ratio.toFixed(1)}×`,
      c === cases[0] ? '1' : `${(min(s.map((x) => x.wallMs)) / refMin).toFixed(1)}×`,
      c === cases[0] ? '1' : `${(median(s.map((x) => x.cpuMs)) / refCpu).toFixed(1)}×`,
      c.target === undefined ? '' : `≤ ${c.target}× ${ratio <= c.target ? '✓' : '✗'}`,
    ];
  });
  const head = ['command', 'runs', 'wall (median)', 'wall (min)', 'CPU user+sys (median)', 'peak RSS (median)', 'ratio wall', 'ratio min wall', 'ratio CPU', 'target (ratio wall)'];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  process.stdout.write(
    [
      `dsa CLI start-up, ${runs} runs per command round-robin, node ${process.version}, ${cpus().length} cores, load average ${load0.toFixed(1)} → ${load1.toFixed(1)}${cluster ? '' : ' (no KUBECONFIG: logs row skipped)'}`,
      '',
      line(head),
      line(head.map(() => '---')),
      ...rows.map(line),
      '',
    ].join('\n'),
  );
  if (values.sea) {
    const size = (p: string) => `${(Number(execFileSync('stat', ['-c', '%s', p], { encoding: 'utf8' })) / 1024 / 1024).toFixed(1)} MiB`;
    process.stdout.write(`single executable: ${size(sea)} (node binary ${size(process.execPath)})\n`);
  }
}

main().catch((e: unknown) => die(e instanceof Error ? e.message : String(e)));
