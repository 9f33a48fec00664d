// A local chart folder → base64 .tgz for spec.deployments[].helm.chart.archive (what `helm package`
// produces: one top-level folder named after the chart). Synchronous because the renderer's
// packChart hook is; deterministic (sorted entries, zero mtimes/uids) so rendering twice gives the
// same DevSession and the operator sees no spurious change.
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, posix, sep } from 'node:path';
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

/** Go's filepath.Match (what .helmignore patterns use): `*` and `?` never cross `/`, `[...]` with `^` negation. */
function goPattern(p: string): RegExp {
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) re += p[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new ValidationError(`.helmignore: bad pattern ${JSON.stringify(p)}`);
      // Go and JS both read a leading `^` as negation.
      const cls = p.slice(i + 1, end);
      re += `[${cls.replace(/\\(?!.)/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

interface IgnoreRule {
  negate: boolean;
  mustDir: boolean;
  match: (rel: string) => boolean;
}

/** helm's pkg/ignore rules, line by line (helm package applies them, plus `templates/.?*`). */
export function parseHelmignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const raw of [...lines, 'templates/.?*']) {
    let rule = raw.trim();
    if (rule === '' || rule.startsWith('#')) continue;
    if (rule.includes('**')) throw new ValidationError(`.helmignore: double-star (**) syntax is not supported (${rule})`);
    const negate = rule.startsWith('!');
    if (negate) rule = rule.slice(1);
    const mustDir = rule.endsWith('/');
    if (mustDir) rule = rule.slice(0, -1);
    if (rule.startsWith('/')) {
      const re = goPattern(rule.slice(1));
      rules.push({ negate, mustDir, match: (n) => re.test(n) });
    } else if (rule.includes('/')) {
      const re = goPattern(rule);
      rules.push({ negate, mustDir, match: (n) => re.test(n) });
    } else {
      const re = goPattern(rule);
      rules.push({ negate, mustDir, match: (n) => re.test(n.slice(n.lastIndexOf('/') + 1)) });
    }
  }
  return rules;
}

/** helm's Rules.Ignore, including its reading of negated rules. */
export function helmIgnores(rules: readonly IgnoreRule[], rel: string, isDir: boolean): boolean {
  if (rel === '' || rel === '.' || rel === './') return false;
  for (const p of rules) {
    if (p.negate) {
      if (p.mustDir && !isDir) return true;
      if (!p.match(rel)) return true;
      continue;
    }
    if (p.mustDir && !isDir) continue;
    if (p.match(rel)) return true;
  }
  return false;
}

/**
 * The chart's files, sorted, with .helmignore applied. A symbolic link is packed as what it points to when
 * its real path is inside the chart (as helm does), and refused otherwise: a chart folder must not pack the
 * developer's other files (~/.kube/config, …) into a DevSession that others can read.
 */
function walk(root: string, realRoot: string, dir: string, rel: string, rules: readonly IgnoreRule[], out: Array<{ rel: string; abs: string; dir: boolean }>, realDirs: string[]): void {
  const names = readdirSync(dir).sort();
  for (const name of names) {
    if (name === '.git') continue;
    const abs = join(dir, name);
    const r = rel === '' ? name : `${rel}/${name}`;
    let st = lstatSync(abs);
    let target = abs;
    if (st.isSymbolicLink()) {
      let real: string;
      try {
        real = realpathSync(abs);
      } catch {
        throw new ValidationError(`${root}: ${r} is a link that does not resolve`);
      }
      if (real !== realRoot && !real.startsWith(realRoot + sep)) throw new ValidationError(`${root}: ${r} is a link to ${real}, outside the chart`);
      st = statSync(real);
      if (st.isDirectory() && realDirs.some((d) => d === real || d.startsWith(real + sep))) throw new ValidationError(`${root}: ${r} is a link to a folder that contains it (a loop)`);
      target = real;
    }
    if (helmIgnores(rules, r, st.isDirectory())) continue;
    if (st.isDirectory()) {
      out.push({ rel: r, abs: target, dir: true });
      walk(root, realRoot, target, r, rules, out, [...realDirs, target === abs ? realpathSync(abs) : target]);
    } else if (st.isFile()) out.push({ rel: r, abs: target, dir: false });
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
  const ignoreFile = join(chartDir, '.helmignore');
  const rules = parseHelmignore(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
  const realRoot = realpathSync(chartDir);
  walk(chartDir, realRoot, chartDir, '', rules, entries, [realRoot]);
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

/** Largest packed chart accepted: the archive travels inside the DevSession (etcd's object size limit). */
const MAX_CHART_ARCHIVE = 1024 * 1024;

/** A chart packed by `helm package` (.tgz), as base64 for helm.chart.archive. */
export function readChartArchive(file: string): string {
  const buf = readFileSync(file);
  if (buf.length < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) throw new ValidationError(`${file}: not a packed Helm chart (a .tgz as helm package writes it)`);
  if (buf.length > MAX_CHART_ARCHIVE) throw new ValidationError(`${file}: ${Math.round(buf.length / 1024)} KiB; a packed chart must stay under ${MAX_CHART_ARCHIVE / 1024} KiB to fit in the DevSession`);
  return buf.toString('base64');
}
