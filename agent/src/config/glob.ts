// Minimal glob expansion over the injected FileReader (`*`, `?`, `**`, `[abc]`), enough for
// kubectl manifest lists like `kube/*` or `manifests/**/*.yaml`. Node 20 has no fs.glob.
import path from 'node:path';
import type { FileReader } from './types.js';

export function hasGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

function segmentRe(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${seg.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Absolute matches of an absolute pattern, sorted; files and folders. */
export async function expandGlob(fs: FileReader, pattern: string): Promise<string[]> {
  const root = path.parse(pattern).root;
  const segs = pattern.slice(root.length).split(/[\\/]+/).filter(Boolean);
  const out = new Set<string>();
  let budget = 20_000;
  const walk = async (dir: string, i: number): Promise<void> => {
    if (--budget < 0) return;
    if (i === segs.length) {
      out.add(dir);
      return;
    }
    const seg = segs[i] as string;
    if (seg === '**') {
      await walk(dir, i + 1);
      for (const e of await fs.readdir(dir)) {
        if (e.startsWith('.')) continue;
        const p = path.join(dir, e);
        if ((await fs.stat(p)) === 'dir') await walk(p, i);
      }
      return;
    }
    if (!hasGlob(seg)) {
      const p = path.join(dir, seg);
      if (await fs.stat(p)) await walk(p, i + 1);
      return;
    }
    const re = segmentRe(seg);
    for (const e of (await fs.readdir(dir)).sort()) {
      if (re.test(e) && !(e.startsWith('.') && !seg.startsWith('.'))) await walk(path.join(dir, e), i + 1);
    }
  };
  await walk(root, 0);
  return [...out].sort();
}
