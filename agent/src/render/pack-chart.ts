// `helm package` for a local chart folder, in-process: a deterministic .tgz (sorted entries, zero
// mtimes) so the same chart always renders to the same `chart.archive` and the session spec does
// not change on every `dsa up`. Honours .helmignore (gitignore syntax, as helm's own matcher is close to).
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import ignore from 'ignore';
import tar from 'tar-stream';

async function listFiles(root: string, rel: string, ig: ReturnType<typeof ignore>, out: string[]): Promise<void> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.name === '.git') continue;
    if (e.isDirectory()) {
      if (!ig.ignores(`${child}/`)) await listFiles(root, child, ig, out);
    } else if (e.isFile() && !ig.ignores(child)) {
      out.push(child);
    }
    // Symlinks and special files are left out: helm refuses symlinks escaping the chart anyway.
  }
}

/** Base64 of a gzipped tar of `absDir`, entries under `<basename>/` as `helm package` lays them out. */
export async function packChart(absDir: string): Promise<string> {
  const ig = ignore();
  try {
    ig.add(await readFile(path.join(absDir, '.helmignore'), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const files: string[] = [];
  await listFiles(absDir, '', ig, files);
  const top = path.basename(absDir);
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const file of files) {
    const abs = path.join(absDir, file);
    const [content, st] = await Promise.all([readFile(abs), stat(abs)]);
    pack.entry({ name: `${top}/${file}`, size: content.length, mode: st.mode & 0o111 ? 0o755 : 0o644, mtime: new Date(0), uid: 0, gid: 0 }, content);
  }
  pack.finalize();
  await done;
  // Fixed gzip header (no name/mtime) keeps the archive byte-identical across runs.
  return gzipSync(Buffer.concat(chunks)).toString('base64');
}
