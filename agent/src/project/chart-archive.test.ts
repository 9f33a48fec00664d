// The chart packer on a real filesystem, against the real `helm package` (DSA_HELM or helm on PATH): what a
// local chart's archive contains is what helm would package — .helmignore honoured — and nothing from
// outside the chart gets in through a symbolic link.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { ValidationError } from '../errors.js';
import { packChartDir, readChartArchive } from './chart-archive.js';

const HELM = process.env.DSA_HELM && existsSync(process.env.DSA_HELM) ? process.env.DSA_HELM : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'helm')).find((p) => existsSync(p));

async function entries(tgz: Buffer): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (h.type === 'file') out.set(h.name, Buffer.concat(chunks).toString('utf8'));
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(gunzipSync(tgz));
  await done;
  return out;
}

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'dsa-chart-pack-'));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function chart(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(base, name);
  for (const [rel, body] of Object.entries({ 'Chart.yaml': `apiVersion: v2\nname: ${name}\nversion: 0.1.0\n`, ...files })) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), body);
  }
  return dir;
}

describe('packChartDir', () => {
  it('never follows a link out of the chart, naming it', async () => {
    await writeFile(join(base, 'outside-secret'), 'token');
    const dir = await chart('escape', { 'templates/cm.yaml': 'x' });
    await symlink('../../outside-secret', join(dir, 'templates', 'leak.yaml'));
    expect(() => packChartDir(dir)).toThrow(ValidationError);
    expect(() => packChartDir(dir)).toThrow(/templates\/leak.yaml is a link to .*outside-secret, outside the chart/);
    const dirLink = await chart('escape-dir', {});
    await symlink(base, join(dirLink, 'files'));
    expect(() => packChartDir(dirLink)).toThrow(/files is a link to .*outside the chart/);
  });

  it('a link inside the chart is packed as the file it points to; a loop is an error, not a hang', async () => {
    const dir = await chart('inside', { 'files/a.txt': 'hello' });
    await symlink('files/a.txt', join(dir, 'templates-copy.txt'));
    const files = await entries(Buffer.from(packChartDir(dir), 'base64'));
    expect(files.get('inside/templates-copy.txt')).toBe('hello');
    const loop = await chart('loop', { 'sub/x': 'x' });
    await symlink('..', join(loop, 'sub', 'up'));
    expect(() => packChartDir(loop)).toThrow(/sub\/up is a link to a folder that contains it/);
  });

  it('honours .helmignore exactly as helm package does', async () => {
    const dir = await chart('ignored', {
      '.helmignore': ['# comment', '*.tgz', 'secret.txt', 'ci/', '/README.md', 'templates/*.bak', 'docs/*.md', '', ''].join('\n'),
      'values.yaml': 'a: 1\n',
      'README.md': 'top readme',
      'sub/README.md': 'kept: only the root one is anchored',
      'secret.txt': 'no',
      'sub/secret.txt': 'no (matches by name anywhere)',
      'old.tgz': 'no',
      'ci/values.yaml': 'no',
      'templates/cm.yaml': 'yes',
      'templates/cm.yaml.bak': 'no',
      'templates/.hidden': 'no (helm default)',
      'docs/x.md': 'no',
      'docs/deep/y.md': 'yes (* does not cross /)',
    });
    const ours = [...(await entries(Buffer.from(packChartDir(dir), 'base64'))).keys()].sort();
    expect(ours).toEqual(['ignored/.helmignore', 'ignored/Chart.yaml', 'ignored/docs/deep/y.md', 'ignored/sub/README.md', 'ignored/templates/cm.yaml', 'ignored/values.yaml']);
    if (!HELM) throw new Error('helm not found: set DSA_HELM or put helm on PATH (the comparison with `helm package` is part of this test)');
    const out = join(base, 'helm-out');
    await mkdir(out, { recursive: true });
    execFileSync(HELM, ['package', dir, '-d', out], { env: { ...process.env, HELM_CACHE_HOME: join(base, 'hc'), HELM_CONFIG_HOME: join(base, 'hcfg') } });
    const helmFiles = [...(await entries(await readFile(join(out, (await readdir(out))[0]!)))).keys()].sort();
    expect(ours).toEqual(helmFiles);
  });
});

describe('readChartArchive', () => {
  it('sends a packed chart as it is up to 1 MiB; one byte more is refused, naming the limit', async () => {
    const gz = (size: number) => Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(size - 2, 7)]);
    await writeFile(join(base, 'max.tgz'), gz(1024 * 1024));
    await writeFile(join(base, 'over.tgz'), gz(1024 * 1024 + 1));
    expect(Buffer.from(readChartArchive(join(base, 'max.tgz')), 'base64').equals(gz(1024 * 1024))).toBe(true);
    expect(() => readChartArchive(join(base, 'over.tgz'))).toThrow(ValidationError);
    expect(() => readChartArchive(join(base, 'over.tgz'))).toThrow(/over\.tgz: 1024 KiB; a packed chart must stay under 1024 KiB/);
  });
});
