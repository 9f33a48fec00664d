// Commands after sync: which runs a batch causes, their command lines, doublestar onChange globs,
// `once` marks on disk, and the local runner on real child processes.
import { afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1Status } from '@kubernetes/client-node';
import type { SyncExec } from '@dsa/api';
import type { ExecLike } from '../devloop/exec.js';
import { MAX_RUNS_PER_BATCH, OnceMarks, commandLabel, commandLine, commandRunner, globMatcher, planCommandRuns, shellQuote } from './sync-commands.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(tmpdir(), 'dsa-sync-cmd-'));
  dirs.push(d);
  return d;
};

const changed = (files: string[] = [], dirs: string[] = [], deleted: string[] = []) => ({ files, dirs, deleted });

describe('planCommandRuns', () => {
  const batch: SyncExec = { command: 'make' };
  const perFile: SyncExec = { command: 'touch', args: ['{}'], trigger: 'file' };
  const perDir: SyncExec = { command: 'chmod', args: ['755', '{}'], trigger: 'dir' };

  it('a batch command runs once per batch, in list order with the per-file and per-directory ones', () => {
    const { runs } = planCommandRuns([perFile, batch, perDir], changed(['a.ts', 'b.ts'], ['lib'], ['old.ts']), false);
    expect(runs.map((r) => [r.index, r.item])).toEqual([
      [0, 'a.ts'],
      [0, 'b.ts'],
      [1, undefined],
      [2, 'lib'],
    ]);
  });

  it('after the initial sync only batch commands run, once, with everything it changed', () => {
    const { runs } = planCommandRuns([perFile, batch, perDir], changed(['a.ts', 'b.ts'], ['lib']), true);
    expect(runs.map((r) => r.index)).toEqual([1]);
  });

  it('nothing changed, nothing runs', () => {
    expect(planCommandRuns([batch], changed(), false).runs).toEqual([]);
  });

  it('onChange filters (deletions count for batch commands), and names what matched', () => {
    const npm: SyncExec = { command: 'npm', args: ['install'], onChange: ['./package.json'] };
    expect(planCommandRuns([npm], changed(['src/a.ts']), false).runs).toEqual([]);
    expect(planCommandRuns([npm], changed(['src/a.ts', 'package.json']), false).runs).toEqual([{ index: 0, exec: npm, matched: 'package.json' }]);
    expect(planCommandRuns([npm], changed([], [], ['package.json']), false).runs).toHaveLength(1);
    const ts: SyncExec = { command: 'fmt', args: ['{}'], trigger: 'file', onChange: ['**/*.ts'] };
    expect(planCommandRuns([ts], changed(['a.ts', 'b.js', 'x/y/c.ts']), false).runs.map((r) => r.item)).toEqual(['a.ts', 'x/y/c.ts']);
  });

  it('bounds the runs per batch', () => {
    const many = Array.from({ length: MAX_RUNS_PER_BATCH + 5 }, (_, i) => `f${i}`);
    const { runs, dropped } = planCommandRuns([perFile], changed(many), false);
    expect(runs).toHaveLength(MAX_RUNS_PER_BATCH);
    expect(dropped).toBe(5);
  });
});

describe('command lines', () => {
  it('argv with {} replaced; a shell line with {} quoted', () => {
    expect(commandLine({ command: 'touch', args: ['{}', 'x{}y'] }, '/app/a b.ts')).toEqual({ argv: ['touch', '/app/a b.ts', 'x/app/a b.tsy'] });
    expect(commandLine({ command: 'cat {} | wc -c', shell: true }, "/app/it's")).toEqual({ shell: `cat '/app/it'\\''s' | wc -c` });
    expect(commandLine({ command: 'echo {}', shell: true }, undefined)).toEqual({ shell: 'echo {}' });
    expect(commandLabel({ command: 'npm', args: ['install', '--silent'] })).toBe('npm install --silent');
    expect(commandLabel({ name: 'deps', command: 'npm' })).toBe('deps');
    expect(commandLabel({ command: 'x'.repeat(200), shell: true })).toHaveLength(80);
  });

  it('shellQuote survives sh for any string', async () => {
    const run = commandRunner(async () => Promise.reject(new Error('no cluster')));
    const cwd = tmp();
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0')), async (s) => {
        const r = await run.local({ shell: `printf %s ${shellQuote(s)}` }, cwd, new AbortController().signal);
        expect(r).toMatchObject({ code: 0, output: s });
      }),
      { numRuns: 25 },
    );
  });
});

describe('globMatcher (doublestar)', () => {
  const m = (p: string, s: string) => globMatcher(p)(s);

  it('matches as doublestar does', () => {
    expect(m('*.ts', 'a.ts')).toBe(true);
    expect(m('*.ts', 'src/a.ts')).toBe(false); // `*` stays in one name
    expect(m('**/*.ts', 'a.ts')).toBe(true);
    expect(m('**/*.ts', 'src/deep/a.ts')).toBe(true);
    expect(m('src/**', 'src/a/b')).toBe(true);
    expect(m('src/**', 'src')).toBe(true);
    expect(m('src/**', 'srcx/a')).toBe(false);
    expect(m('src/**/test/*.js', 'src/test/a.js')).toBe(true);
    expect(m('src/**/test/*.js', 'src/x/y/test/a.js')).toBe(true);
    expect(m('?.md', 'a.md')).toBe(true);
    expect(m('?.md', 'ab.md')).toBe(false);
    expect(m('[a-c].txt', 'b.txt')).toBe(true);
    expect(m('[!a-c].txt', 'd.txt')).toBe(true);
    expect(m('[!a-c].txt', 'b.txt')).toBe(false);
    expect(m('[^/].txt', '/.txt')).toBe(false);
    expect(m('*.{js,ts}', 'a.ts')).toBe(true);
    expect(m('*.{js,ts}', 'a.md')).toBe(false);
    expect(m('{src,lib}/**/*.go', 'lib/x/y.go')).toBe(true);
    expect(m('\\*.txt', '*.txt')).toBe(true);
    expect(m('\\*.txt', 'a.txt')).toBe(false);
    expect(m('./package.json', 'package.json')).toBe(true);
    expect(m('a/../package.json', 'package.json')).toBe(true);
    expect(m('[z-a]', '[z-a]')).toBe(true); // not expressible: the pattern names one path
  });

  const name = fc.stringMatching(/^[a-zA-Z0-9._ -]{1,8}$/).filter((s) => s !== '.' && s !== '..');
  const relPath = fc.array(name, { minLength: 1, maxLength: 4 }).map((a) => a.join('/'));

  it('a path without special characters matches itself and nothing else of its length', () => {
    fc.assert(
      fc.property(relPath, relPath, (a, b) => {
        expect(m(a, a)).toBe(true);
        if (a !== b) expect(m(a, b)).toBe(false);
      }),
    );
  });

  it('`**/` + a name matches it at any depth; `*` never crosses a slash', () => {
    fc.assert(
      fc.property(fc.array(name, { maxLength: 4 }), name, (parents, leaf) => {
        const p = [...parents, leaf].join('/');
        expect(m(`**/${leaf.replace(/[[\]{}*?\\]/g, '\\$&')}`, p)).toBe(true);
        expect(m('*', p)).toBe(parents.length === 0);
      }),
    );
  });
});

describe('OnceMarks', () => {
  it('remembers per pod, on disk; another pod starts afresh', () => {
    const file = path.join(tmp(), 'sub', 'once.json');
    const a = new OnceMarks(file);
    expect(a.has('api-1', 'onUpload:0:0')).toBe(false);
    a.add('api-1', 'onUpload:0:0');
    const b = new OnceMarks(file); // an agent started again
    expect(b.has('api-1', 'onUpload:0:0')).toBe(true);
    expect(b.has('api-2', 'onUpload:0:0')).toBe(false);
    b.add('api-2', 'onUpload:0:1');
    expect(new OnceMarks(file).has('api-1', 'onUpload:0:0')).toBe(false);
    fs.writeFileSync(file, '{not json');
    expect(new OnceMarks(file).has('api-2', 'onUpload:0:1')).toBe(false);
  });
});

describe('local runner', () => {
  const run = commandRunner(async () => Promise.reject(new Error('no cluster')));

  it('runs argv and shell lines in the folder, with the exit code and the tail of the output', async () => {
    const cwd = tmp();
    fs.writeFileSync(path.join(cwd, 'f.txt'), 'content');
    expect(await run.local({ argv: ['cat', 'f.txt'] }, cwd, new AbortController().signal)).toEqual({ code: 0, output: 'content' });
    const failed = await run.local({ shell: 'echo out; echo err >&2; exit 3' }, cwd, new AbortController().signal);
    expect(failed.code).toBe(3);
    expect(failed.output).toContain('out\n');
    expect(failed.output).toContain('err\n');
    const big = await run.local({ shell: 'head -c 100000 /dev/zero | tr "\\0" x' }, cwd, new AbortController().signal);
    expect(big.output.length).toBe(4096);
  });

  it('a missing program and a stopped command say so', async () => {
    const cwd = tmp();
    expect(await run.local({ argv: ['dsa-no-such-program'] }, cwd, new AbortController().signal)).toMatchObject({ code: undefined, error: 'dsa-no-such-program: not found' });
    const ac = new AbortController();
    const p = run.local({ shell: 'sleep 30' }, cwd, ac.signal);
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    expect(await p).toMatchObject({ code: undefined, error: 'stopped' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('container runner', () => {
  it('execs into the app container without stdin or a TTY, and returns the command\'s exit code and output', async () => {
    const calls: unknown[] = [];
    const exec: ExecLike = {
      async exec(ns, pod, container, command, stdout, _stderr, stdin, tty, cb) {
        calls.push({ ns, pod, container, command, stdin, tty });
        const ws = Object.assign(new EventEmitter(), { close: () => ws.emit('close') });
        setTimeout(() => {
          stdout?.write('installing…\nnpm ERR! missing script\n');
          cb?.({ status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '3' }] } } as V1Status);
          ws.emit('close');
        }, 5);
        return ws;
      },
    };
    const run = commandRunner(async () => exec);
    const r = await run.container({ namespace: 'dev', pod: 'api-1', container: 'api' }, ['sh', '-c', 'npm run x'], new AbortController().signal);
    expect(r).toEqual({ code: 3, output: 'installing…\nnpm ERR! missing script\n' });
    expect(calls).toEqual([{ ns: 'dev', pod: 'api-1', container: 'api', command: ['sh', '-c', 'npm run x'], stdin: null, tty: false }]);
    const refused = commandRunner(async () => ({ exec: async () => Promise.reject(new Error('pods "api-1" not found')) }) as ExecLike);
    expect(await refused.container({ namespace: 'dev', pod: 'api-1', container: 'api' }, ['true'], new AbortController().signal)).toMatchObject({ code: undefined, error: 'cannot exec into api-1/api: pods "api-1" not found' });
  });
});
