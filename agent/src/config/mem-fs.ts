// An in-memory FileReader for tests (here and in the CLI's): paths → contents; folders implied.
import path from 'node:path';
import type { FileReader } from './types.js';

export function memFileReader(files: Record<string, string>, extraDirs: string[] = []): FileReader {
  const norm = new Map(Object.entries(files).map(([p, c]) => [path.resolve(p), c]));
  const dirs = new Set<string>(extraDirs.map((d) => path.resolve(d)));
  for (const p of [...norm.keys(), ...dirs]) {
    for (let d = path.dirname(p); ; d = path.dirname(d)) {
      dirs.add(d);
      if (path.dirname(d) === d) break;
    }
  }
  return {
    readFile: async (p) => {
      const c = norm.get(path.resolve(p));
      if (c === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return c;
    },
    stat: async (p) => (norm.has(path.resolve(p)) ? 'file' : dirs.has(path.resolve(p)) ? 'dir' : undefined),
    readdir: async (p) => {
      const d = path.resolve(p);
      const out = new Set<string>();
      for (const q of [...norm.keys(), ...dirs]) if (path.dirname(q) === d && q !== d) out.add(path.basename(q));
      return [...out].sort();
    },
  };
}
