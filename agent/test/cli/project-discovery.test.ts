// Which devspace.yaml a command uses (cli/project-discovery.ts): the pure plan, the search over a real
// temporary tree, and the CLI end to end (in-process, real loader) from a sub-folder, with DEVSPACE_CONFIG
// and with nothing to find.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { discoverConfig, planConfigSearch } from '../../src/cli/project-discovery.js';
import { UsageError } from '../../src/errors.js';
import { EXAMPLES_DIR, runInProcess } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'dsa-discovery-'));

function tree(files: string[]): string {
  const dir = mkdtempSync(join(root, 't-'));
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    if (!f.endsWith('/')) writeFileSync(join(dir, f), 'version: v2beta1\nname: x\n');
  }
  return dir;
}

describe('planConfigSearch (pure)', () => {
  it('--config wins over DEVSPACE_CONFIG, both relative to cwd', () => {
    expect(planConfigSearch({ flag: 'a.yaml', env: { DEVSPACE_CONFIG: 'b.yaml' }, cwd: '/p/q', homeDir: '/h' })).toEqual({ kind: 'explicit', source: 'flag', given: 'a.yaml', path: '/p/q/a.yaml' });
    expect(planConfigSearch({ env: { DEVSPACE_CONFIG: '../b.yaml' }, cwd: '/p/q', homeDir: '/h' })).toEqual({ kind: 'explicit', source: 'env', given: '../b.yaml', path: '/p/b.yaml' });
    expect(planConfigSearch({ env: { DEVSPACE_CONFIG: '' }, cwd: '/p', homeDir: '/h' }).kind).toBe('walk');
  });

  it('walks from cwd to /, skipping the home folder unless it is cwd', () => {
    expect(planConfigSearch({ env: {}, cwd: '/home/u/src/app', homeDir: '/home/u' })).toEqual({ kind: 'walk', dirs: ['/home/u/src/app', '/home/u/src', '/home', '/'], skipped: ['/home/u'] });
    expect(planConfigSearch({ env: {}, cwd: '/home/u', homeDir: '/home/u' })).toEqual({ kind: 'walk', dirs: ['/home/u', '/home', '/'], skipped: [] });
  });

  it('finds the nearest devspace.yaml at or above cwd (property)', () => {
    const segment = fc.stringMatching(/^[a-z]{1,6}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 8 }), fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }), fc.nat(8), (segments, present, homeAt) => {
        const cwd = sep + segments.join(sep);
        const dirs = segments.map((_, i) => sep + segments.slice(0, segments.length - i).join(sep)).concat(sep);
        const home = dirs[Math.min(homeAt, dirs.length - 1)]!;
        const has = new Set(dirs.filter((_, i) => present[i]).map((d) => join(d, 'devspace.yaml')));
        const expected = dirs.find((d, i) => present[i] && (d !== home || i === 0));
        let found: string | undefined;
        try {
          found = discoverConfig({ env: {}, cwd, homeDir: home }, (p) => has.has(p)).path;
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
        }
        expect(found).toBe(expected === undefined ? undefined : join(expected, 'devspace.yaml'));
      }),
    );
  });
});

describe('discoverConfig (real files)', () => {
  it('finds devspace.yaml in cwd, else in the nearest parent', () => {
    const dir = tree(['proj/devspace.yaml', 'proj/svc/devspace.yaml', 'proj/svc/src/deep/']);
    expect(discoverConfig({ env: {}, cwd: join(dir, 'proj'), homeDir: '/nonexistent' })).toEqual({ path: join(dir, 'proj/devspace.yaml'), source: 'cwd' });
    expect(discoverConfig({ env: {}, cwd: join(dir, 'proj/svc/src/deep'), homeDir: '/nonexistent' })).toEqual({ path: join(dir, 'proj/svc/devspace.yaml'), source: 'parent' });
  });

  it('a folder named devspace.yaml is not a config', () => {
    const dir = tree(['p/devspace.yaml', 'p/q/devspace.yaml/']);
    expect(discoverConfig({ env: {}, cwd: join(dir, 'p/q'), homeDir: '/nonexistent' }).path).toBe(join(dir, 'p/devspace.yaml'));
  });

  it('does not climb into the home folder; the error names every folder it looked in', () => {
    const dir = tree(['home/devspace.yaml', 'home/work/']);
    const home = join(dir, 'home');
    let err: unknown;
    try {
      discoverConfig({ env: {}, cwd: join(home, 'work'), homeDir: home });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as UsageError).message;
    expect(message).toMatch(new RegExp(`^no devspace.yaml in ${join(home, 'work')} or its parent folders \\(looked in ${join(home, 'work')}, ${dir}, `));
    expect(message).toContain(`the home folder ${home} is not searched`);
    expect((err as UsageError).hint).toBe('run dsa in a project folder, pass --config <file> or set DEVSPACE_CONFIG');
    // In the home folder itself the file is found (it is the current folder).
    expect(discoverConfig({ env: {}, cwd: home, homeDir: home }).path).toBe(join(home, 'devspace.yaml'));
  });

  it('a named file is returned as named, existing or not (the loader reports a missing one)', () => {
    expect(discoverConfig({ flag: 'missing.yaml', env: {}, cwd: '/x', homeDir: '/h' }, () => false)).toEqual({ path: '/x/missing.yaml', source: 'flag' });
    expect(discoverConfig({ env: { DEVSPACE_CONFIG: '/abs/dev.yaml' }, cwd: '/x', homeDir: '/h' }, () => false)).toEqual({ path: '/abs/dev.yaml', source: 'env' });
  });
});

describe('the CLI finds the project (in-process, real loader)', () => {
  const project = mkdtempSync(join(root, 'example-'));
  cpSync(join(EXAMPLES_DIR, 'node-kubectl'), project, { recursive: true });
  mkdirSync(join(project, 'src/deep'), { recursive: true });
  const elsewhere = mkdtempSync(join(root, 'elsewhere-'));

  it('from a sub-folder: uses the parent devspace.yaml and says so on stderr', async () => {
    const r = await runInProcess(['validate'], { cwd: join(project, 'src/deep') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid \(1 image/);
    expect(r.stderr).toBe(`using ${join(project, 'devspace.yaml')}\n`);
  });

  it('DEVSPACE_CONFIG names the file; --config wins over it', async () => {
    const viaEnv = await runInProcess(['validate'], { cwd: elsewhere, env: { DEVSPACE_CONFIG: join(project, 'devspace.yaml') } });
    expect(viaEnv.code).toBe(0);
    expect(viaEnv.stderr).toBe('');
    const flagWins = await runInProcess(['validate', '--config', join(project, 'devspace.yaml')], { cwd: elsewhere, env: { DEVSPACE_CONFIG: join(elsewhere, 'nope.yaml') } });
    expect(flagWins.code).toBe(0);
    const missing = await runInProcess(['validate'], { cwd: project, env: { DEVSPACE_CONFIG: 'nope.yaml' } });
    expect(missing).toMatchObject({ code: 2, stderr: `${join(project, 'nope.yaml')}:1:1: config file not found\n` });
  });

  it('nothing to find: exit 2, one line naming where it looked', async () => {
    const r = await runInProcess(['render'], { cwd: elsewhere });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(new RegExp(`^dsa render: no devspace.yaml in ${elsewhere} or its parent folders \\(looked in ${elsewhere}, ${root}, .*, /\\) \\(run dsa in a project folder, pass --config <file> or set DEVSPACE_CONFIG\\)\\n$`));
  });
});
