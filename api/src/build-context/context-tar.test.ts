import { describe, expect, it, beforeEach, afterEach } from '@jest/globals';
import { mkdtemp, mkdir, rm, symlink, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { Readable } from 'node:stream';
import { ContextError, contextDigest, createContextTar, listContextEntries, prepareContext, symlinkStaysInside } from './context-tar.js';
import { isExcluded, parseDockerignore } from './dockerignore.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-ctx-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(rel: string, content = rel): Promise<void> {
  await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
  await writeFile(path.join(dir, rel), content);
}

const paths = async (d = dir, df = 'Dockerfile') => (await listContextEntries(d, df)).map((e) => e.path);

async function readTar(stream: Readable): Promise<Array<{ name: string; type: string; mode: number; mtime: number; uid: number; gid: number; uname: string; body: string; linkname: string }>> {
  const ex = tar.extract();
  const out: Array<{ name: string; type: string; mode: number; mtime: number; uid: number; gid: number; uname: string; body: string; linkname: string }> = [];
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      const h = entry.header;
      out.push({ name: h.name, type: h.type, mode: h.mode, mtime: h.mtime.getTime(), uid: h.uid, gid: h.gid, uname: h.uname, body: Buffer.concat(chunks).toString(), linkname: h.linkname ?? '' });
    }
  })();
  for await (const c of stream) ex.write(c);
  ex.end(undefined as never);
  await done;
  return out;
}

describe('dockerignore (Docker semantics)', () => {
  it('anchors patterns at the root, unlike gitignore', () => {
    const rules = parseDockerignore('*.log\n');
    expect(isExcluded(rules, 'a.log')).toBe(true);
    expect(isExcluded(rules, 'sub/a.log')).toBe(false);
    expect(isExcluded(parseDockerignore('**/*.log'), 'sub/deep/a.log')).toBe(true);
  });
  it('excludes everything below a matched directory', () => {
    const rules = parseDockerignore('node_modules\n');
    expect(isExcluded(rules, 'node_modules/x/y.js')).toBe(true);
    expect(isExcluded(rules, 'src/node_modules')).toBe(false);
  });
  it('last match wins and ! re-includes, even below an excluded directory', () => {
    const rules = parseDockerignore('# comment\n\ndocs\n!docs/keep.md\n*.md\n!README.md\n');
    expect(isExcluded(rules, 'docs/a.txt')).toBe(true);
    expect(isExcluded(rules, 'docs/keep.md')).toBe(false);
    expect(isExcluded(rules, 'CHANGES.md')).toBe(true);
    expect(isExcluded(rules, 'README.md')).toBe(false);
  });
  it('supports ?, character classes, leading slash and ./', () => {
    const rules = parseDockerignore('/tmp?\n./build/[ab].o\n');
    expect(isExcluded(rules, 'tmp1')).toBe(true);
    expect(isExcluded(rules, 'tmp12')).toBe(false);
    expect(isExcluded(rules, 'build/a.o')).toBe(true);
    expect(isExcluded(rules, 'build/c.o')).toBe(false);
  });
});

describe('listContextEntries', () => {
  it('honours .dockerignore, including ! negation inside an excluded directory', async () => {
    await put('Dockerfile', 'FROM x');
    await put('.dockerignore', 'secrets\n*.tmp\nlogs\n!logs/keep.txt\n');
    await put('app.js');
    await put('a.tmp');
    await put('sub/b.tmp'); // anchored: *.tmp does not reach sub/
    await put('secrets/key');
    await put('logs/drop.txt');
    await put('logs/keep.txt');
    expect(await paths()).toEqual(['.dockerignore', 'Dockerfile', 'app.js', 'logs/keep.txt', 'sub', 'sub/b.tmp']);
  });

  it("never includes dsa's own state folder (.dsa/ at the context root), so syncing does not change the tag", async () => {
    await put('Dockerfile', 'FROM x');
    await put('.dsa/sync/base.json', '{}');
    await put('src/.dsa/kept.txt');
    expect(await paths()).toEqual(['Dockerfile', 'src', 'src/.dsa', 'src/.dsa/kept.txt']);
  });

  it('always includes the Dockerfile and .dockerignore even when ignored', async () => {
    await put('docker/Dockerfile.dev', 'FROM x');
    await put('.dockerignore', 'docker\n.dockerignore\n');
    await put('main.go');
    expect(await paths(dir, 'docker/Dockerfile.dev')).toEqual(['.dockerignore', 'docker/Dockerfile.dev', 'main.go']);
    // absolute Dockerfile path inside the context works too
    expect(await paths(dir, path.join(dir, 'docker/Dockerfile.dev'))).toContain('docker/Dockerfile.dev');
  });

  it('rejects a Dockerfile outside the context or missing, and escaping symlinks', async () => {
    await put('ctx/app.js');
    await put('Dockerfile');
    await expect(listContextEntries(path.join(dir, 'ctx'), '../Dockerfile')).rejects.toThrow(ContextError);
    await expect(listContextEntries(path.join(dir, 'ctx'), 'Dockerfile')).rejects.toThrow(/not found/);
    await put('ctx/Dockerfile');
    await symlink('../../etc/passwd', path.join(dir, 'ctx', 'evil'));
    await expect(listContextEntries(path.join(dir, 'ctx'))).rejects.toThrow(/outside the build context/);
  });

  it('keeps symlinks that stay inside', async () => {
    await put('Dockerfile');
    await put('lib/real.txt');
    await symlink('lib/real.txt', path.join(dir, 'link'));
    const entries = await listContextEntries(dir);
    expect(entries.find((e) => e.path === 'link')).toMatchObject({ type: 'symlink', linkname: 'lib/real.txt', mode: 0o777 });
  });

  it('symlinkStaysInside is lexical', () => {
    expect(symlinkStaysInside('a/b/l', '../c')).toBe(true);
    expect(symlinkStaysInside('a/l', '../../c')).toBe(false);
    expect(symlinkStaysInside('l', '/etc')).toBe(false);
    expect(symlinkStaysInside('a/l', './x/../../y')).toBe(true);
  });
});

describe('canonical tar + digest', () => {
  it('writes sorted entries with zeroed metadata and normalised modes', async () => {
    await put('Dockerfile', 'FROM x\n');
    await put('z/run.sh', '#!/bin/sh\n');
    await chmod(path.join(dir, 'z/run.sh'), 0o700);
    await put('a-b.txt', 'ab');
    await chmod(path.join(dir, 'a-b.txt'), 0o600);
    const entries = await readTar(await createContextTar(dir));
    expect(entries.map((e) => e.name)).toEqual(['Dockerfile', 'a-b.txt', 'z', 'z/run.sh']);
    for (const e of entries) {
      expect(e.mtime).toBe(0);
      expect(e.uid).toBe(0);
      expect(e.gid).toBe(0);
      expect(e.uname).toBe('');
    }
    expect(entries.find((e) => e.name === 'a-b.txt')!.mode).toBe(0o644);
    expect(entries.find((e) => e.name === 'z/run.sh')!.mode).toBe(0o755);
    expect(entries.find((e) => e.name === 'z')!.mode).toBe(0o755);
    expect(entries.find((e) => e.name === 'Dockerfile')!.body).toBe('FROM x\n');
  });

  it('digest is stable across mtimes and creation order, and changes with content', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'dsa-ctx2-'));
    try {
      await put('Dockerfile', 'FROM x');
      await put('b/2.txt', 'two');
      await put('a/1.txt', 'one');
      // same tree, created in the opposite order, with different mtimes and permission bits
      await mkdir(path.join(other, 'a'));
      await writeFile(path.join(other, 'a/1.txt'), 'one');
      await chmod(path.join(other, 'a/1.txt'), 0o664);
      await mkdir(path.join(other, 'b'));
      await writeFile(path.join(other, 'b/2.txt'), 'two');
      await writeFile(path.join(other, 'Dockerfile'), 'FROM x');
      await utimes(path.join(other, 'b/2.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
      const d1 = await contextDigest(dir);
      expect(d1).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(await contextDigest(other)).toBe(d1);
      await writeFile(path.join(other, 'b/2.txt'), 'TWO');
      expect(await contextDigest(other)).not.toBe(d1);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('ignored files do not change the digest; an executable bit does', async () => {
    await put('Dockerfile', 'FROM x');
    await put('.dockerignore', '*.log');
    await put('run.sh', 'x');
    const d1 = await contextDigest(dir);
    await put('debug.log', 'noise');
    expect(await contextDigest(dir)).toBe(d1);
    await chmod(path.join(dir, 'run.sh'), 0o755);
    expect(await contextDigest(dir)).not.toBe(d1);
  });

  it('prepareContext streams exactly the bytes it digested', async () => {
    await put('Dockerfile', 'FROM x');
    await put('big.bin', 'x'.repeat(300_000));
    const prepared = await prepareContext(dir);
    const h = (await import('node:crypto')).createHash('sha256');
    let n = 0;
    for await (const c of prepared.open()) {
      h.update(c as Buffer);
      n += (c as Buffer).length;
    }
    expect(`sha256:${h.digest('hex')}`).toBe(prepared.digest);
    expect(n).toBe(prepared.size);
    expect(n % 512).toBe(0);
  });
});
