// kubectl `manifests:` entries → the files they stand for. DevSpace hands each entry to
// `kubectl create --dry-run -f <entry>` after deleting every `*` from it (`kube/*` → `kube/`), so what
// a folder means is kubectl's rule: the *.json/*.yaml/*.yml files directly in it (no recursion without
// -R), in byte order of their names (filepath.Walk). dsa also expands real globs (`kube/*.yaml`,
// `k8s/**/*.yml`, `apps/*/k8s`), where DevSpace's `*` deletion would break: a trailing `*`/`**` still
// means the files directly in the folder, and a folder matched by another pattern is read as one.
import path from 'node:path';
import { expandGlob, hasGlob } from './glob.js';
import type { FileReader } from './types.js';

/** The extensions `kubectl -f <folder>` reads (case-sensitive, as kubectl compares them). */
const MANIFEST_EXTENSIONS = ['.json', '.yaml', '.yml'];

export function isManifestFile(name: string): boolean {
  return MANIFEST_EXTENSIONS.includes(path.extname(name));
}

/** Go's sort.Strings: byte order, not locale order (`B.yaml` before `a.yaml`). */
function byteOrder(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

/** The manifest files directly in `dir`, as `kubectl -f dir` reads them. */
export async function folderManifests(fs: FileReader, dir: string): Promise<string[]> {
  const names = (await fs.readdir(dir)).filter(isManifestFile).sort(byteOrder);
  const out: string[] = [];
  for (const n of names) {
    const p = path.join(dir, n);
    if ((await fs.stat(p)) === 'file') out.push(p);
  }
  return out;
}

export type ManifestExpansion = { ok: true; files: string[] } | { ok: false; entry: string; reason: string };

/**
 * Every entry (absolute: a file, a folder or a glob) → manifest files, in entry order, each file once
 * (the first time it appears). A named file is taken whatever its extension, as kubectl does; a folder
 * or glob that yields no manifest file is an error, since kubectl would apply nothing from it.
 */
export async function expandManifests(fs: FileReader, entries: readonly string[]): Promise<ManifestExpansion> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (f: string) => {
    if (!seen.has(f)) {
      seen.add(f);
      out.push(f);
    }
  };
  for (const entry of entries) {
    const found: string[] = [];
    if (hasGlob(entry)) {
      // A trailing `*` or `**` means the files directly in the folder(s), as DevSpace's `*` deletion
      // makes of it (`kube/*` → `kube/`); other patterns read the folders they match like named ones.
      const trailingStars = /[\\/]\*+$/.test(entry);
      const pattern = trailingStars ? entry.replace(/\*+$/, '*') : entry;
      for (const m of await expandGlob(fs, pattern)) {
        const kind = await fs.stat(m);
        if (kind === 'dir' && !trailingStars) found.push(...(await folderManifests(fs, m)));
        else if (kind === 'file' && isManifestFile(m)) found.push(m);
      }
      found.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      if (found.length === 0) return { ok: false, entry, reason: `pattern ${entry} matches no .yaml, .yml or .json file` };
    } else if ((await fs.stat(entry)) === 'dir') {
      found.push(...(await folderManifests(fs, entry)));
      if (found.length === 0) return { ok: false, entry, reason: `folder ${entry} has no .yaml, .yml or .json file (kubectl reads only those, not sub-folders)` };
    } else {
      found.push(entry);
    }
    found.forEach(add);
  }
  return { ok: true, files: out };
}
