// The .dsa build cache (tolerant reader, merge on write) and the files digest of custom builds (real files).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheKey, cachePath, cacheRoot, parseBuildCache, readBuildCache, recordBuilds } from './build-cache.js';
import { filesDigest } from './files-digest.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-cache-digest-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('build cache', () => {
  it('anything unexpected reads as an empty cache; foreign entries are dropped', () => {
    expect(parseBuildCache('not json')).toEqual({ version: 1, images: {} });
    expect(parseBuildCache('{"version":2,"images":{}}')).toEqual({ version: 1, images: {} });
    expect(parseBuildCache('x'.repeat(2 * 1024 * 1024))).toEqual({ version: 1, images: {} });
    const ok = { image: 'r/a', tag: 't', engine: 'custom', builtAt: '2026-01-01T00:00:00Z' };
    expect(parseBuildCache(JSON.stringify({ version: 1, images: { a: ok, b: { image: 'r/b' }, c: { ...ok, engine: 'kaniko' } } }))).toEqual({ version: 1, images: { a: ok } });
  });

  it('records merge with what is on disk; keys name the config file and profiles; one file per project folder, outside it', async () => {
    expect(cacheKey('/p/devspace.yaml', ['dev', 'x'], 'api')).toBe('devspace.yaml#dev,x#api');
    const root = path.join(dir, 'cache');
    const project = path.join(dir, 'my project');
    await recordBuilds(project, root, { a: { image: 'r/a', tag: '1', engine: 'docker', builtAt: 'x', pushed: true } });
    await recordBuilds(project, root, { b: { image: 'r/b', tag: '2', engine: 'custom', builtAt: 'y' } });
    expect(Object.keys((await readBuildCache(project, root)).images)).toEqual(['a', 'b']);
    expect((await readBuildCache(path.join(dir, 'other'), root)).images).toEqual({});
    expect(cachePath(project, root)).toMatch(new RegExp(`^${root}/builds/my_project-[0-9a-f]{16}\\.json$`));
    expect(JSON.parse(await readFile(cachePath(project, root), 'utf8')).version).toBe(1);
  });

  it('the cache root: DSA_CACHE, else XDG_CACHE_HOME/dsa, else ~/.cache/dsa', () => {
    expect(cacheRoot({ DSA_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/dsa');
    expect(cacheRoot({ HOME: '/h' })).toBe('/h/.cache/dsa');
  });
});

describe('filesDigest', () => {
  it('changes with content and names, not with mtimes; .dockerignore of a folder and .git are left out', async () => {
    const p = path.join(dir, 'proj');
    await mkdir(path.join(p, 'src'), { recursive: true });
    await mkdir(path.join(p, '.git'), { recursive: true });
    await writeFile(path.join(p, 'src/a.go'), 'a');
    await writeFile(path.join(p, 'src/b.go'), 'b');
    await writeFile(path.join(p, '.dockerignore'), 'tmp\n');
    const d1 = await filesDigest(p, [path.join(p, 'src/**')]);
    expect(d1).toMatch(/^sha256:[0-9a-f]{64}$/);
    await writeFile(path.join(p, 'src/a.go'), 'a'); // same content, new mtime
    expect(await filesDigest(p, [path.join(p, 'src/**')])).toBe(d1);
    await writeFile(path.join(p, 'src/a.go'), 'A');
    expect(await filesDigest(p, [path.join(p, 'src/**')])).not.toBe(d1);

    const whole = await filesDigest(p, [p]);
    await writeFile(path.join(p, '.git/HEAD'), 'ref');
    await mkdir(path.join(p, 'tmp'));
    await writeFile(path.join(p, 'tmp/out'), 'build output');
    expect(await filesDigest(p, [p])).toBe(whole);
    await symlink('src/a.go', path.join(p, 'link'));
    expect(await filesDigest(p, [p])).not.toBe(whole);
  });

  it('a glob matching nothing is an empty (stable) digest, as DevSpace\'s glob simply matches nothing', async () => {
    expect(await filesDigest(dir, [path.join(dir, 'none/*.x')])).toBe(await filesDigest(dir, []));
  });
});
