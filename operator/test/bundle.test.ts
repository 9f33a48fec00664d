// The esbuild bundle (what the image runs) must work as plain `node operator.mjs`: CJS dependencies (express,
// pino, prom-client) need the createRequire banner, and the ops server, signal handling and exit codes must
// survive bundling. Builds a bundle into a temp dir and runs it against an unreachable API server.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtinModules } from 'node:module';

const REPO = resolve(new URL('.', import.meta.url).pathname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'dsa-bundle-test-'));
const out = join(dir, 'operator.mjs');

// Nothing listens on port 1: every API call fails fast with ECONNREFUSED.
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(REPO, 'operator/build/bundle.mjs'), '--outfile', out, '--version', 'test-1.2.3'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle failed:\n${r.stderr}`);
  writeFileSync(join(dir, 'kubeconfig'), KUBECONFIG);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runSync = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [out, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, ...env }, timeout: 20_000 });

describe('operator bundle', () => {
  test('is one self-contained ESM file with the require banner and no workspace imports left', () => {
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith("import { createRequire as __dsaCreateRequire } from 'node:module';")).toBe(true);
    // Only node built-ins may be imported at runtime: the image has no node_modules.
    const imports = [...text.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(3);
    for (const spec of imports) expect({ spec, builtin: spec!.startsWith('node:') || builtinModules.includes(spec!) }).toEqual({ spec, builtin: true });
  });

  test('--version prints the version baked in at bundle time; --help lists the flags', () => {
    const v = runSync(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe('dsa-operator test-1.2.3');
    const h = runSync(['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('--metrics-bind-address');
  });

  test('bad flags exit 2 with usage; no kubeconfig exits 2', () => {
    const bad = runSync(['--concurrency=zero', '--leader-elect=false']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--concurrency');
    const noKube = runSync(['--leader-elect=false'], { KUBECONFIG: join(dir, 'missing') });
    expect(noKube.status).toBe(2);
    expect(noKube.stdout).toContain('cannot load kubeconfig');
  });

  describe('running', () => {
    let child: ChildProcess;
    let stdout = '';
    let stderr = '';
    let port = 0;

    beforeAll(async () => {
      child = spawn(process.execPath, [out, '--leader-elect=false', '--metrics-bind-address=127.0.0.1:0', '--log-level=debug'], {
        env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
      const deadline = Date.now() + 15_000;
      while (!port && Date.now() < deadline) {
        for (const line of stdout.split('\n')) {
          if (!line.startsWith('{')) continue;
          const rec = JSON.parse(line);
          if (rec.msg === 'ops server listening') port = rec.port;
        }
        if (!port) await new Promise((r) => setTimeout(r, 50));
      }
      if (!port) throw new Error(`operator did not start its ops server:\n${stdout}\n${stderr}`);
    }, 20_000);

    afterAll(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    test('logs JSON lines to stdout', () => {
      const first = JSON.parse(stdout.split('\n').find((l) => l.includes('dsa operator starting'))!);
      expect(first).toMatchObject({ level: 'info', name: 'dsa-operator', version: 'test-1.2.3', leaderElect: false, server: 'https://127.0.0.1:1' });
    });

    test('serves /healthz, /metrics and a not-ready /readyz while the API server is unreachable', async () => {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('dsa_operator_reconcile_total');
      expect(metrics).toContain('process_resident_memory_bytes');
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      const body = (await ready.json()) as { reasons: string[] };
      // With controllers wired, their informers cannot sync against port 1.
      expect(ready.status).toBe(503);
      expect(body.reasons.join(' ')).toMatch(/not synced/);
      // Bundling mistakes in CJS dependencies (e.g. a dual package resolved to its ESM side) surface as errors
      // printed by express's final handler even when the response itself went out.
      await new Promise((r) => setTimeout(r, 200));
      expect(stderr).toBe('');
    });

    test('SIGTERM stops it gracefully with exit code 0', async () => {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      const code = await exited;
      expect(code).toBe(0);
      expect(stdout).toContain('manager stopped');
    }, 20_000);
  });
});
