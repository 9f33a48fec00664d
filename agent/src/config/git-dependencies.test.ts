// Git dependencies with the real `git` against local repositories (file://, no network): clone,
// branch/tag/revision/subPath, the cache and its updates, and what the loader makes of them.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { ConfigError } from './errors.js';
import { cloneCommand, createGitFetcher, dependencyCacheDir, dependencyCacheKey, redactUrl, updateCommand, type GitRunner } from './git-dependencies.js';
import { loadProject } from './load.js';

const root = mkdtempSync(path.join(tmpdir(), 'dsa-gitdeps-'));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1', HOME: root };
const git = (args: string[], cwd: string) => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' }).trim();
const write = (file: string, text: string) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
};
const depConfig = (name: string, image: string) => `version: v2beta1\nname: ${name}\ndeployments:\n  ${name}:\n    kubectl:\n      inlineManifest: |\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {name: ${name}}\n        data: {image: "${image}"}\n`;

let repo: string;
let url: string;
let first: string;
let tagged: string;

beforeAll(() => {
  repo = path.join(root, 'origin');
  mkdirSync(repo);
  git(['init', '-q', '-b', 'main'], repo);
  write(path.join(repo, 'svc/devspace.yaml'), depConfig('svc', 'v1'));
  write(path.join(repo, 'other/devspace.yaml'), depConfig('other', 'v1'));
  git(['add', '-A'], repo);
  git(['commit', '-q', '-m', 'one'], repo);
  first = git(['rev-parse', 'HEAD'], repo);
  git(['tag', 'v1'], repo);
  tagged = first;
  write(path.join(repo, 'svc/devspace.yaml'), depConfig('svc', 'v2'));
  git(['commit', '-qam', 'two'], repo);
  git(['checkout', '-q', '-b', 'feature'], repo);
  write(path.join(repo, 'svc/devspace.yaml'), depConfig('svc', 'feature'));
  git(['commit', '-qam', 'feature'], repo);
  git(['checkout', '-q', 'main'], repo);
  url = `file://${repo}`;
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A root project with one git dependency; returns the loaded dependency's ConfigMap image value. */
async function loadWith(dep: Record<string, unknown>, cache: string, opts: { checkFiles?: boolean } = {}) {
  const dir = mkdtempSync(path.join(root, 'proj-'));
  const yaml = `version: v2beta1\nname: root\ndependencies:\n  svc:\n${Object.entries(dep).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}\n`).join('')}`;
  write(path.join(dir, 'devspace.yaml'), yaml);
  const project = await loadProject({ configPath: path.join(dir, 'devspace.yaml'), env: { ...gitEnv, XDG_CACHE_HOME: cache }, checkFiles: opts.checkFiles ?? true });
  const d = project.dependencies[0]!;
  const manifest = (d.project?.deployments[0] as { inlineManifest?: string } | undefined)?.inlineManifest ?? '';
  return { project, dep: d, image: /image: "([^"]+)"/.exec(manifest)?.[1] };
}

describe('cache keys and git commands (pure)', () => {
  test('the key ignores credentials and subPath, and changes with the ref and clone args', () => {
    const base = { url: 'https://github.com/org/repo.git' };
    expect(dependencyCacheKey({ ...base, subPath: 'a' })).toBe(dependencyCacheKey({ ...base, subPath: 'b' }));
    expect(dependencyCacheKey({ url: 'https://user:secret@github.com/org/repo.git' })).toBe(dependencyCacheKey(base));
    const keys = [base, { ...base, branch: 'main' }, { ...base, tag: 'main' }, { ...base, revision: 'main' }, { ...base, cloneArgs: ['--recursive'] }, { ...base, disableShallow: true }].map(dependencyCacheKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys[0]).toMatch(/^[0-9a-f]{24}$/);
  });

  test('property: a key is a fixed-size folder name, whatever the source', () => {
    fc.assert(
      fc.property(fc.record({ url: fc.string(), branch: fc.option(fc.string(), { nil: undefined }), cloneArgs: fc.option(fc.array(fc.string()), { nil: undefined }) }), (src) => /^[0-9a-f]{24}$/.test(dependencyCacheKey(src))),
    );
  });

  test('clone is shallow unless a revision is pinned or disableShallow; updates follow the branch or tag', () => {
    expect(cloneCommand({ url: 'u', branch: 'b' }, '/d')).toEqual(['clone', '--quiet', '--branch', 'b', '--depth', '1', '--', 'u', '/d']);
    expect(cloneCommand({ url: 'u', tag: 't', cloneArgs: ['--recursive'] }, '/d')).toEqual(['clone', '--quiet', '--branch', 't', '--depth', '1', '--recursive', '--', 'u', '/d']);
    expect(cloneCommand({ url: 'u', revision: 'abc' }, '/d')).toEqual(['clone', '--quiet', '--', 'u', '/d']);
    expect(cloneCommand({ url: 'u', disableShallow: true }, '/d')).toEqual(['clone', '--quiet', '--', 'u', '/d']);
    expect(updateCommand({ url: 'u' })).toEqual(['fetch', '--quiet', '--depth', '1', 'origin', 'HEAD']);
    expect(updateCommand({ url: 'u', tag: 'v1' })).toEqual(['fetch', '--quiet', '--depth', '1', 'origin', 'refs/tags/v1']);
    expect(updateCommand({ url: 'u', revision: 'abc' })).toBeUndefined();
    expect(updateCommand({ url: 'u', disablePull: true })).toBeUndefined();
  });

  test('credentials are removed from URLs', () => {
    expect(redactUrl(' https://u:p@h/x.git ')).toBe('https://h/x.git');
    expect(redactUrl('git@github.com:org/x.git')).toBe('git@github.com:org/x.git');
    expect(dependencyCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/dsa/dependencies');
    expect(dependencyCacheDir({}, '/home/a')).toBe('/home/a/.cache/dsa/dependencies');
    expect(dependencyCacheDir({ DSA_CACHE: '/d', XDG_CACHE_HOME: '/c' })).toBe('/d/dependencies');
  });
});

describe('the loader with real git', () => {
  test('branch, tag, revision and subPath each load the right content', async () => {
    const cache = mkdtempSync(path.join(root, 'cache-'));
    expect((await loadWith({ git: url, subPath: 'svc' }, cache)).image).toBe('v2');
    expect((await loadWith({ git: url, branch: 'feature', subPath: 'svc' }, cache)).image).toBe('feature');
    expect((await loadWith({ git: url, tag: 'v1', subPath: 'svc' }, cache)).image).toBe('v1');
    expect((await loadWith({ git: url, revision: first, subPath: 'svc' }, cache)).image).toBe('v1');
    const other = await loadWith({ git: url, subPath: 'other' }, cache);
    expect(other.image).toBe('v1');
    expect(other.dep.project?.name).toBe('other');
    expect(tagged).toBe(first);
  });

  test('the cache is updated on the next run, unless disablePull; offline (file checks off) reads only the cache', async () => {
    const cache = mkdtempSync(path.join(root, 'cache-'));
    const branchRepo = path.join(root, 'moving');
    mkdirSync(branchRepo);
    git(['init', '-q', '-b', 'main'], branchRepo);
    write(path.join(branchRepo, 'devspace.yaml'), depConfig('svc', 'a'));
    git(['add', '-A'], branchRepo);
    git(['commit', '-qm', 'a'], branchRepo);
    const u = `file://${branchRepo}`;
    expect((await loadWith({ git: u }, cache, { checkFiles: false })).dep.project).toBeUndefined();
    expect((await loadWith({ git: u }, cache)).image).toBe('a');
    write(path.join(branchRepo, 'devspace.yaml'), depConfig('svc', 'b'));
    git(['commit', '-qam', 'b'], branchRepo);
    expect((await loadWith({ git: u, disablePull: true }, cache)).image).toBe('a');
    expect((await loadWith({ git: u }, cache, { checkFiles: false })).image).toBe('a');
    expect((await loadWith({ git: u }, cache)).image).toBe('b');
  });

  test('an update that fails uses the cached copy, with a warning', async () => {
    const cache = mkdtempSync(path.join(root, 'cache-'));
    const gone = path.join(root, 'gone');
    mkdirSync(gone);
    git(['init', '-q', '-b', 'main'], gone);
    write(path.join(gone, 'devspace.yaml'), depConfig('svc', 'kept'));
    git(['add', '-A'], gone);
    git(['commit', '-qm', 'a'], gone);
    await loadWith({ git: `file://${gone}` }, cache);
    rmSync(gone, { recursive: true, force: true });
    const again = await loadWith({ git: `file://${gone}` }, cache);
    expect(again.image).toBe('kept');
    expect(again.project.warnings.map((w) => w.message).join('\n')).toMatch(/git dependency file:\/\/.*gone: updating .*; using the cached copy/);
  });

  test('errors are one line at the dependency: a repository that does not exist, a subPath that leaves the checkout', async () => {
    const cache = mkdtempSync(path.join(root, 'cache-'));
    const missing = await loadWith({ git: `file://${root}/nope` }, cache).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect(String(missing)).toMatch(/devspace\.yaml:5:\d+: dependencies\.svc\.git: git dependency file:\/\/.*\/nope: cloning .*: fatal: .*/);
    expect(String(missing)).not.toContain('\n');
    const escape = await loadWith({ git: url, subPath: '../..' }, cache).catch((e: unknown) => e);
    expect(String(escape)).toContain('subPath "../.." leaves the repository');
  });

  test('a symlink in the repository cannot lead subPath out of the checkout', async () => {
    const evil = path.join(root, 'evil');
    mkdirSync(evil);
    git(['init', '-q', '-b', 'main'], evil);
    symlinkSync('/etc', path.join(evil, 'link'));
    git(['add', '-A'], evil);
    git(['commit', '-qm', 'l'], evil);
    const cache = mkdtempSync(path.join(root, 'cache-'));
    const e = await loadWith({ git: `file://${evil}`, subPath: 'link' }, cache).catch((x: unknown) => x);
    expect(String(e)).toContain('leaves the repository (through a symlink)');
  });

  test('git never prompts and its complaint is kept short, without credentials', async () => {
    const seen: Array<{ args: string[]; env: NodeJS.ProcessEnv }> = [];
    const run: GitRunner = async (args, o) => {
      seen.push({ args, env: o.env });
      return { code: 128, stdout: '', stderr: 'Cloning...\nfatal: Authentication failed for \'https://bob:hunter2@example.com/x.git/\'\n', timedOut: false };
    };
    const fetcher = createGitFetcher({ cacheDir: mkdtempSync(path.join(root, 'cache-')), env: {}, run });
    const err = await fetcher.fetch({ url: 'https://bob:hunter2@example.com/x.git' }, { offline: false }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('cloning https://example.com/x.git: fatal: Authentication failed for \'https://example.com/x.git/\'');
    expect(seen[0]!.env.GIT_TERMINAL_PROMPT).toBe('0');
    expect(seen[0]!.env.GIT_SSH_COMMAND).toBe('ssh -oBatchMode=yes');
  });
});
