import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UnsafePathError } from './paths.js';
import { Replica } from './replica.js';

let dir: string;
let root: string;
let outside: string;
let warnings: string[];
let r: Replica;
beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'dsa-replica-'));
  root = path.join(dir, 'root');
  outside = path.join(dir, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  warnings = [];
  r = await Replica.open(root, { onWarning: (m) => warnings.push(m) });
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const put = (rel: string, content = rel) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
};
const meta = { x: 0o644, m: 1_700_000_000_123 };

describe('scan', () => {
  it('lists files, directories and inside symlinks; skips special files, escaping links and dsa names with warnings', async () => {
    put('a.txt', 'aaa');
    put('sub/b.sh', '#!/bin/sh');
    fs.chmodSync(path.join(root, 'sub/b.sh'), 0o755);
    fs.mkdirSync(path.join(root, 'empty'));
    fs.symlinkSync('sub/b.sh', path.join(root, 'link'));
    fs.symlinkSync('../outside', path.join(root, 'escape'));
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    put('.dsa-tmp-123', 'x');
    put('x.dsa-conflict-remote-20260101T000000.txt', 'x');
    put('bad\nname', 'x');
    const scan = await r.scan();
    expect([...scan.keys()]).toEqual(['a.txt', 'empty', 'link', 'sub', 'sub/b.sh']);
    expect(scan.get('a.txt')).toMatchObject({ t: 'f', s: 3, x: 0o644 });
    expect(scan.get('sub/b.sh')).toMatchObject({ t: 'f', x: 0o755 });
    expect(scan.get('link')).toMatchObject({ t: 'l', l: 'sub/b.sh' });
    expect(warnings.join('\n')).toMatch(/skipped 1 special file .*fifo/);
    expect(warnings.join('\n')).toMatch(/skipped 2 symlinks pointing outside the sync root: abs -> \/etc\/passwd, escape -> \.\.\/outside/);
    expect(warnings.join('\n')).toMatch(/skipped 1 name that cannot be synced safely/);
  });

  it('honours ignore (an ignored directory is not entered) and can start below a directory', async () => {
    put('node_modules/x/y.js');
    put('src/a.ts');
    const scan = await r.scan((rel, isDir) => isDir && rel === 'node_modules');
    expect([...scan.keys()]).toEqual(['src', 'src/a.ts']);
    expect([...(await r.scan(undefined, 'src')).keys()]).toEqual(['src/a.ts']);
  });
});

describe('safe apply', () => {
  it('writes files atomically with mode and mtime, creating parents', async () => {
    const res = r.writeFile('a/b/c.sh', Buffer.from('echo'), { x: 0o755, m: meta.m });
    expect(res).toMatchObject({ conflict: false, sig: { t: 'f', s: 4, m: meta.m, x: 0o755 } });
    const st = fs.statSync(path.join(root, 'a/b/c.sh'));
    expect(st.mode & 0o777).toBe(0o755);
    expect(Math.floor(st.mtimeMs)).toBe(meta.m);
    expect(fs.readdirSync(path.join(root, 'a/b'))).toEqual(['c.sh']);
  });

  it('never applies setuid, setgid or sticky bits from the other side', () => {
    r.writeFile('s', Buffer.from('x'), { x: 0o4755, m: meta.m });
    expect(fs.statSync(path.join(root, 's')).mode & 0o7777).toBe(0o755);
  });

  it('refuses to write through a symlinked parent (even one pointing inside)', () => {
    fs.symlinkSync(outside, path.join(root, 'out'));
    expect(() => r.writeFile('out/pwned', Buffer.from('x'), meta)).toThrow(UnsafePathError);
    expect(fs.readdirSync(outside)).toEqual([]);
    fs.mkdirSync(path.join(root, 'real'));
    fs.symlinkSync('real', path.join(root, 'alias'));
    expect(() => r.mkdir('alias/d', 0o755)).toThrow(/its parent alias is a symlink/);
    expect(r.stat('alias/d')).toBeNull();
  });

  it('replaces a symlink at the target instead of writing through it', () => {
    const victim = path.join(outside, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, path.join(root, 'f'));
    r.writeFile('f', Buffer.from('new'), meta);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.lstatSync(path.join(root, 'f')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(root, 'f'), 'utf8')).toBe('new');
  });

  it('creating a new file (nothing expected there) never writes through a link planted at its name', () => {
    const victim = path.join(outside, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, path.join(root, 'n'));
    fs.symlinkSync(path.join(outside, 'dangling'), path.join(root, 'd'));
    expect(r.writeFile('n', Buffer.from('new'), meta, null)).toMatchObject({ conflict: true, current: { t: 'l' } });
    expect(r.writeFile('d', Buffer.from('new'), meta, null)).toMatchObject({ conflict: true, current: { t: 'l' } });
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.existsSync(path.join(outside, 'dangling'))).toBe(false);
    expect(r.writeFile('fresh', Buffer.from('new'), meta, null)).toMatchObject({ conflict: false, sig: { t: 'f', s: 3, m: meta.m } });
  });

  it('replaces a hardlink at the target instead of writing through it', () => {
    const victim = path.join(outside, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.linkSync(victim, path.join(root, 'h'));
    r.writeFile('h', Buffer.from('new'), meta);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    expect(fs.readFileSync(path.join(root, 'h'), 'utf8')).toBe('new');
  });

  it('rejects every escaping path before touching the disk', () => {
    for (const p of ['../x', '/abs', 'a/../../x', 'a\0b', 'a\nb', '', 'a//b', './a']) {
      expect(() => r.writeFile(p, Buffer.from('x'), meta)).toThrow(UnsafePathError);
      expect(() => r.remove(p)).toThrow(UnsafePathError);
      expect(() => r.mkdir(p, 0o755)).toThrow(UnsafePathError);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['outside', 'root']);
  });

  it('creates symlinks only when they stay inside', () => {
    expect(r.symlink('sub/l', '../a.txt')).toMatchObject({ conflict: false, sig: { t: 'l', l: '../a.txt' } });
    expect(() => r.symlink('l2', '../outside')).toThrow(/points outside the sync root/);
    expect(() => r.symlink('l3', '/etc/passwd')).toThrow(UnsafePathError);
    expect(fs.existsSync(path.join(root, 'l2'))).toBe(false);
  });

  it('reads never follow a symlink or block on a fifo', async () => {
    fs.writeFileSync(path.join(outside, 'secret'), 'secret');
    fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'ln'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    expect(r.readSmall('ln', 100)).toBeNull();
    expect(await r.openFile('ln')).toBeNull();
    expect(r.readSmall('fifo', 100)).toBeNull();
    expect(await r.openFile('fifo')).toBeNull();
    expect(await r.hash('ln')).toBeNull();
  });

  it('compare-and-swap: a target that changed since the expected version is left alone', () => {
    put('c.txt', 'v1');
    const v1 = r.stat('c.txt')!;
    fs.writeFileSync(path.join(root, 'c.txt'), 'v2 by the app');
    const res = r.writeFile('c.txt', Buffer.from('upload'), meta, v1);
    expect(res).toMatchObject({ conflict: true, current: { t: 'f', s: 13 } });
    expect(fs.readFileSync(path.join(root, 'c.txt'), 'utf8')).toBe('v2 by the app');
    // expecting absence
    expect(r.writeFile('c.txt', Buffer.from('x'), meta, null)).toMatchObject({ conflict: true });
    expect(r.writeFile('new.txt', Buffer.from('x'), meta, null)).toMatchObject({ conflict: false });
    // deletes too
    expect(r.remove('c.txt', { expect: v1 })).toMatchObject({ conflict: true });
    expect(fs.existsSync(path.join(root, 'c.txt'))).toBe(true);
    expect(fs.readdirSync(root).filter((n) => n.startsWith('.dsa-tmp-'))).toEqual([]);
  });

  it('a file replaces a directory; a directory replaces a file; removal is recursive only when asked', () => {
    put('t/a', 'a');
    expect(r.remove('t')).toMatchObject({ conflict: true });
    r.writeFile('t', Buffer.from('file now'), meta);
    expect(fs.readFileSync(path.join(root, 't'), 'utf8')).toBe('file now');
    r.mkdir('t', 0o750);
    expect(fs.statSync(path.join(root, 't')).mode & 0o777).toBe(0o750);
    put('u/v/w', 'w');
    expect(r.remove('u', { recursive: true })).toMatchObject({ conflict: false, sig: null });
    expect(fs.existsSync(path.join(root, 'u'))).toBe(false);
  });

  it('a recursive removal deletes links, not what they point to', () => {
    fs.writeFileSync(path.join(outside, 'keep'), 'keep');
    fs.mkdirSync(path.join(root, 'd'));
    fs.symlinkSync(outside, path.join(root, 'd/out'));
    r.remove('d', { recursive: true });
    expect(fs.readFileSync(path.join(outside, 'keep'), 'utf8')).toBe('keep');
  });

  it('streams large files through a temp file and commits atomically', async () => {
    const sink = await r.beginFile('big.bin', { x: 0o600, m: meta.m });
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 8; i++) await sink.write(chunk);
    expect(fs.existsSync(path.join(root, 'big.bin'))).toBe(false);
    const res = await sink.commit();
    expect(res).toMatchObject({ conflict: false, sig: { t: 'f', s: 8 << 20, x: 0o600 } });
    const f = await r.openFile('big.bin');
    expect(f!.sig.s).toBe(8 << 20);
    await f!.close();
    const aborted = await r.beginFile('never.bin', meta);
    await aborted.write(chunk);
    await aborted.abort();
    expect(fs.readdirSync(root)).toEqual(['big.bin']);
  });

  it('a parent swapped for a symlink while a file streams in is caught at the rename', async () => {
    fs.mkdirSync(path.join(root, 'p'));
    const sink = await r.beginFile('p/f', meta);
    await sink.write(Buffer.from('data'));
    fs.renameSync(path.join(root, 'p'), path.join(root, 'p-moved'));
    fs.symlinkSync(outside, path.join(root, 'p'));
    await expect(sink.commit()).rejects.toThrow(/moved|vanished/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('hashes content (sha256)', async () => {
    put('h.txt', 'abc');
    expect(await r.hash('h.txt')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
