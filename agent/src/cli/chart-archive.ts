// A local chart folder → base64 .tgz for spec.deployments[].helm.chart.archive (what `helm package`
// produces: one top-level folder named after the chart). Synchronous because the renderer's
// packChart hook is; deterministic (sorted entries, zero mtimes/uids) so rendering twice gives the
// same DevSession and the operator sees no spurious change.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import YAML from 'yaml';
import { ValidationError } from '../errors.js';

const BLOCK = 512;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let short = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar: split at a slash into prefix (≤155) and name (≤100).
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new ValidationError(`chart file path too long for a tar archive: ${name}`);
    prefix = name.slice(0, cut);
    short = name.slice(cut + 1);
  }
  h.write(short, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.fill(' ', 148, 156); // checksum field counts as spaces while summing
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function walk(dir: string, rel: string, out: Array<{ rel: string; abs: string; dir: boolean }>): void {
  const names = readdirSync(dir).sort();
  for (const name of names) {
    if (name === '.git') continue;
    const abs = join(dir, name);
    const st = statSync(abs);
    const r = rel === '' ? name : `${rel}/${name}`;
    if (st.isDirectory()) {
      out.push({ rel: r, abs, dir: true });
      walk(abs, r, out);
    } else if (st.isFile()) out.push({ rel: r, abs, dir: false });
  }
}

/** Pack in-memory files (paths relative to the archive root) the same deterministic way. */
function packFiles(files: Array<{ name: string; data: Buffer }>): string {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(header(f.name, f.data.length, '0', 0o644), f.data);
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 9 }).toString('base64');
}

/** A minimal valid chart standing in for one that could not be read (`--skip-file-checks` only). */
export function stubChartArchive(chartDir: string): string {
  const name = basename(chartDir).toLowerCase().replace(/[^a-z0-9-]+/g, '-') || 'chart';
  const chart = `apiVersion: v2\nname: ${name}\nversion: 0.0.0\ndescription: stand-in for ${chartDir}, not read (--skip-file-checks)\n`;
  return packFiles([{ name: `${name}/Chart.yaml`, data: Buffer.from(chart) }]);
}

export function packChartDir(chartDir: string): string {
  let chartName = basename(chartDir);
  try {
    const meta = YAML.parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { name?: unknown } | null;
    if (meta && typeof meta.name === 'string' && meta.name !== '') chartName = meta.name;
  } catch (err) {
    throw new ValidationError(`${chartDir}: not a Helm chart (Chart.yaml: ${(err as Error).message.split('\n')[0]})`);
  }
  const entries: Array<{ rel: string; abs: string; dir: boolean }> = [];
  walk(chartDir, '', entries);
  const parts: Buffer[] = [header(`${chartName}/`, 0, '5', 0o755)];
  for (const e of entries) {
    const name = posix.join(chartName, e.rel);
    if (e.dir) {
      parts.push(header(`${name}/`, 0, '5', 0o755));
      continue;
    }
    const data = readFileSync(e.abs);
    parts.push(header(name, data.length, '0', 0o644), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts), { level: 9 }).toString('base64');
}
