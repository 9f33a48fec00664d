// The CLI contract, through the real binary: exit codes, stdout/stderr separation, help, colour.
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ANSI, REPO_ROOT, baseEnv, mapLimit, runDsa, show, type RunResult } from './helpers.js';

interface Case {
  args: string[];
  env?: Record<string, string | undefined>;
  check: (r: RunResult) => void;
}

async function runCases(cases: Case[]): Promise<void> {
  const results = await mapLimit(cases, 2, (c) => runDsa(c.args, { env: c.env }));
  cases.forEach((c, i) => {
    const r = results[i]!;
    try {
      c.check(r);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${show(c.args, r)}`);
    }
  });
}

const STUBS = ['up', 'deploy', 'enter', 'logs', 'analyze', 'down'];

describe('dsa CLI (spawned)', () => {
  it('help: leads with examples, lists every command, documents exit codes; exit 0 on stdout', async () => {
    await runCases([
      {
        args: ['--help'],
        check: (r) => {
          expect(r.code).toBe(0);
          expect(r.stderr).toBe('');
          const examples = r.stdout.indexOf('Examples:');
          expect(examples).toBeGreaterThan(0);
          expect(examples).toBeLessThan(r.stdout.indexOf('Options:'));
          for (const cmd of [...STUBS, 'render', 'validate']) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
          expect(r.stdout).toContain('down|purge');
          expect(r.stdout).toMatch(/Exit codes:[\s\S]*0 +success[\s\S]*1 +runtime[\s\S]*2 +usage[\s\S]*130 +interrupted/);
          for (const flag of ['--config <file>', '-p, --profile <name>', '--var <KEY=VALUE>', '--kubeconfig <file>', '--context <name>', '-n, --namespace <ns>', '-o, --output <format>', '--no-color', '-v, --verbose', '--no-input'])
            expect(r.stdout).toContain(flag);
        },
      },
      {
        args: ['help', 'logs'],
        check: (r) => {
          expect(r.code).toBe(0);
          expect(r.stdout).toContain('-f, --follow');
          expect(r.stdout).toContain('--pick');
          expect(r.stdout).toContain('-c, --container <name>');
        },
      },
      {
        args: ['--version'],
        check: (r) => {
          expect(r.code).toBe(0);
          expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
        },
      },
    ]);
  }, 120_000);

  it('usage errors exit 2 with the message on stderr and nothing on stdout', async () => {
    const usage = (args: string[], message: RegExp): Case => ({
      args,
      check: (r) => {
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(message);
        expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      },
    });
    await runCases([
      usage([], /Usage: dsa/),
      usage(['frobnicate'], /unknown command 'frobnicate'/),
      usage(['render', '--no-such-flag'], /unknown option '--no-such-flag'/),
      usage(['render', '--var', 'NOEQUALS'], /--var <KEY=VALUE>.*NOEQUALS.*expected KEY=VALUE/),
      usage(['render', '-o', 'xml'], /Allowed choices are table, json, yaml/),
      usage(['render', '--kubeconfig', '/nonexistent/kubeconfig'], /^dsa render: --kubeconfig \/nonexistent\/kubeconfig: no such file$/m),
      // DevSpace: "Flags --skip-build & --force-build cannot be used together".
      usage(['deploy', '-b', '--skip-build'], /option '--skip-build' cannot be used with option '-b, --force-build'/),
    ]);
  }, 120_000);

  it('cluster commands with no cluster configured exit 1 with one line naming the command; purge is an alias of down', async () => {
    const config = new URL('../../../examples/node-kubectl/devspace.yaml', import.meta.url).pathname;
    const noCluster = { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent-home' };
    await runCases(
      ['up', 'deploy', 'enter', 'logs', 'down', 'purge', 'up --exit-after-deploy', 'up -t', 'deploy -d --build-sequential'].map(
        (line): Case => ({
          args: line === 'enter' ? [line, '--config', config, '--', 'ls', '-la'] : [...line.split(' '), '--config', config],
          env: noCluster,
          check: (r) => {
            expect(r.code).toBe(1);
            expect(r.stdout).toBe('');
            const cmd = line.split(' ')[0]!;
            const name = cmd === 'purge' ? 'down' : cmd;
            expect(r.stderr).toMatch(new RegExp(`^dsa ${name}: no cluster configured: [^\\n]+\\n$`));
          },
        }),
      ),
    );
  }, 120_000);

  it('analyze without a cluster (and without a devspace.yaml: it needs only a namespace) says so in one line, exit 1', async () => {
    await runCases([
      {
        args: ['analyze'],
        check: (r) => {
          expect(r.code).toBe(1);
          expect(r.stdout).toBe('');
          expect(r.stderr).toMatch(/^dsa analyze: no cluster configured: [^\n]*\n$/);
        },
      },
    ]);
  }, 60_000);

  it('colour: FORCE_COLOR colours stderr; --no-color, NO_COLOR and TERM=dumb win over it', async () => {
    const colored = (env: Record<string, string>, args: string[] = ['analyze']): Case => ({
      args,
      env,
      check: (r) => {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(ANSI);
      },
    });
    const plain = (env: Record<string, string>, args: string[] = ['analyze']): Case => ({
      args,
      env,
      check: (r) => {
        expect(r.code).toBe(1);
        expect(r.stderr).toContain('no cluster configured');
        expect(r.stderr + r.stdout).not.toMatch(ANSI);
      },
    });
    await runCases([
      colored({ FORCE_COLOR: '1' }),
      plain({ FORCE_COLOR: '1' }, ['analyze', '--no-color']),
      plain({ FORCE_COLOR: '1', NO_COLOR: '1' }),
      // Not a terminal and nothing forced: plain.
      plain({}),
    ]);
  }, 120_000);

  it('global options are accepted before and after the command; --kube-context is an alias of --context', async () => {
    // Unknown context → cluster error (1) naming it, whichever spelling and position is used.
    const ctxErr = (args: string[]): Case => ({
      args,
      check: (r) => {
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^dsa (render|validate): context "nope" not found in kubeconfig/m);
      },
    });
    await runCases([
      ctxErr(['--context', 'nope', 'render', '--config', 'examples/gitops-no-images/devspace.yaml']),
      ctxErr(['render', '--kube-context', 'nope', '--config', 'examples/gitops-no-images/devspace.yaml']),
    ]);
  }, 120_000);

  it('Ctrl-C: a second SIGINT exits 130 at once, without waiting for a command that ignores the first', async () => {
    // bin/dsa.js's wiring (runMain) around a command that does not honour its abort signal: the interval stands
    // for that command's work and keeps the process alive past the first Ctrl-C (then the exit comes after 3 s).
    const script = join(mkdtempSync(join(tmpdir(), 'dsa-sigint-')), 'stuck.mjs');
    writeFileSync(script, `const { runMain } = await import(${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'agent/src/main.ts')).href)});\nsetInterval(() => undefined, 1000);\nawait runMain(['version']);\nprocess.stderr.write('ready\\n');\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO_ROOT, env: baseEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    let stderr = '';
    await new Promise<void>((r) => child.stderr!.setEncoding('utf8').on('data', (c: string) => ((stderr += c), stderr.includes('ready') && r())));
    child.kill('SIGINT');
    const afterFirst = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 300))]);
    expect(afterFirst).toBe('running');
    const t0 = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(1_500);
  }, 30_000);
});
