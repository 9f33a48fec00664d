// The build context as a CANONICAL tar: the same files with the same content always give the same
// bytes, so sha256(tar) is a content digest the operator can verify and the tag can be derived from.
//
// Canonical form (docs/adr/0003-build-context-upload.md):
//  - entries sorted by their POSIX path (code-unit order, so a parent precedes its children);
//  - mtime 0, uid/gid 0, empty uname/gname;
//  - modes normalised: directories 0755, files 0755 when any execute bit is set else 0644, symlinks 0777;
//  - only directories, regular files and symlinks (hard links are sent as regular files; sockets,
//    fifos and devices are skipped);
//  - `.dockerignore` applied with Docker's semantics, but the Dockerfile and `.dockerignore` are always
//    included (kaniko needs both: it reads the Dockerfile and applies `.dockerignore` to COPY itself).
// The tar is written by the same code that digests it, from the same entry list, so the agent streams
// exactly the bytes whose digest it declared (unless a file changes in between: the receiver then
// rejects the upload with a digest mismatch rather than building something else).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { hasExceptions, isExcluded, parseDockerignore, type DockerignoreRule } from './dockerignore.js';

export type ContextEntryType = 'directory' | 'file' | 'symlink';

export interface ContextEntry {
  /** POSIX path relative to the context root, no leading `./`, no trailing `/`. */
  path: string;
  type: ContextEntryType;
  /** Normalised mode (0755/0644/0777). */
  mode: number;
  /** File size in bytes (0 for directories and symlinks). */
  size: number;
  /** Symlink target, verbatim. */
  linkname?: string;
}

/** A context that cannot be sent as-is (Dockerfile outside the context, escaping symlink, ...). */
export class ContextError extends Error {
  override readonly name = 'ContextError';
}

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
const EXEC_MODE = 0o755;
const LINK_MODE = 0o777;
const EPOCH = new Date(0);

/** Resolve the Dockerfile path (absolute, or relative to the context) to a POSIX path inside the context. */
export function dockerfileInContext(contextDir: string, dockerfilePath: string): string {
  const abs = path.resolve(contextDir, dockerfilePath);
  const rel = path.relative(path.resolve(contextDir), abs);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ContextError(`Dockerfile ${dockerfilePath} is not inside the build context ${contextDir}`);
  }
  return rel.split(path.sep).join('/');
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when a symlink at `linkPath` (relative) with `target` stays inside the context, lexically. */
export function symlinkStaysInside(linkPath: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  const stack = linkPath.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (stack.length === 0) return false;
      stack.pop();
    } else {
      stack.push(part);
    }
  }
  return true;
}

async function readRules(contextDir: string): Promise<DockerignoreRule[]> {
  try {
    return parseDockerignore(await readFile(path.join(contextDir, '.dockerignore'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

async function statEntry(contextDir: string, rel: string): Promise<ContextEntry | undefined> {
  const abs = path.join(contextDir, ...rel.split('/'));
  const st = await lstat(abs);
  if (st.isDirectory()) return { path: rel, type: 'directory', mode: DIR_MODE, size: 0 };
  if (st.isFile()) return { path: rel, type: 'file', mode: st.mode & 0o111 ? EXEC_MODE : FILE_MODE, size: st.size };
  if (st.isSymbolicLink()) {
    const linkname = await readlink(abs);
    if (!symlinkStaysInside(rel, linkname)) {
      throw new ContextError(
        `symlink ${rel} -> ${linkname} points outside the build context; the build pod would reject it (exclude it in .dockerignore)`,
      );
    }
    return { path: rel, type: 'symlink', mode: LINK_MODE, size: 0, linkname };
  }
  return undefined; // sockets, fifos, devices: never part of a build context
}

/** The project-local state folder of the agent (`<project>/.dsa/`), excluded from every build context. */
export const DSA_STATE_DIR = '.dsa';

/** The sorted, filtered entry list of a build context. */
export async function listContextEntries(contextDir: string, dockerfilePath = 'Dockerfile'): Promise<ContextEntry[]> {
  const root = path.resolve(contextDir);
  const dockerfile = dockerfileInContext(root, dockerfilePath);
  const rules = await readRules(root);
  const walkExcluded = hasExceptions(rules);
  const entries = new Map<string, ContextEntry>();

  const walk = async (relDir: string): Promise<void> => {
    const names = await readdir(relDir ? path.join(root, ...relDir.split('/')) : root);
    for (const name of names) {
      const rel = relDir ? `${relDir}/${name}` : name;
      // dsa's own state folder (sync base state, build records) is never build input: it changes on
      // every `dsa up`, and would change every content-addressed tag with it (DevSpace skips .devspace/).
      if (rel === DSA_STATE_DIR) continue;
      const excluded = isExcluded(rules, rel);
      const entry = excluded && !walkExcluded ? undefined : await statEntry(root, rel);
      if (!excluded && entry) entries.set(rel, entry);
      // An excluded directory is only entered when a `!` rule might re-include something below it.
      if (entry?.type === 'directory' && (!excluded || walkExcluded)) await walk(rel);
    }
  };
  await walk('');

  // Always sent, even when ignored (Docker does the same); kaniko needs them.
  for (const forced of [dockerfile, '.dockerignore']) {
    if (entries.has(forced)) continue;
    try {
      const entry = await statEntry(root, forced);
      if (entry) entries.set(forced, entry);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      if (forced === dockerfile) throw new ContextError(`Dockerfile ${dockerfilePath} not found in ${contextDir}`);
    }
  }
  return [...entries.values()].sort((a, b) => compareCodeUnits(a.path, b.path));
}

/** Stream the canonical tar of `entries` (as returned by listContextEntries) read from `contextDir`. */
export function packEntries(contextDir: string, entries: readonly ContextEntry[]): Readable {
  const pack = tar.pack();
  const root = path.resolve(contextDir);
  void (async () => {
    try {
      for (const e of entries) {
        const header: Partial<tar.Header> & { name: string } = { name: e.path, type: e.type, mode: e.mode, mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '' };
        if (e.type === 'file') {
          header.size = e.size;
          // tar-stream fails the entry on a size mismatch: a file that changed since listing is an error.
          await new Promise<void>((resolve, reject) => {
            const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
            const src = createReadStream(path.join(root, ...e.path.split('/')));
            src.on('error', (err) => {
              sink.destroy(err);
              reject(err);
            });
            src.pipe(sink as unknown as NodeJS.WritableStream);
          });
        } else {
          if (e.type === 'symlink') header.linkname = e.linkname ?? '';
          await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
        }
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  // tar-stream packs are streamx streams; wrap so consumers get a plain Node Readable.
  return Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false });
}

/** sha256 of a stream, as `sha256:<hex>`. */
export async function sha256OfStream(stream: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk);
  return `sha256:${h.digest('hex')}`;
}

/** A build context listed once: its digest and a way to stream exactly those bytes (again). */
export interface PreparedContext {
  contextDir: string;
  entries: ContextEntry[];
  digest: string;
  /** Total tar size in bytes. */
  size: number;
  open(): Readable;
}

export async function prepareContext(contextDir: string, dockerfilePath = 'Dockerfile'): Promise<PreparedContext> {
  const entries = await listContextEntries(contextDir, dockerfilePath);
  let size = 0;
  const h = createHash('sha256');
  for await (const chunk of packEntries(contextDir, entries)) {
    size += (chunk as Buffer).length;
    h.update(chunk as Buffer);
  }
  return { contextDir, entries, digest: `sha256:${h.digest('hex')}`, size, open: () => packEntries(contextDir, entries) };
}

/** sha256 of the canonical context tar: what goes into `context.upload.digest`. */
export async function contextDigest(contextDir: string, dockerfilePath = 'Dockerfile'): Promise<string> {
  return (await prepareContext(contextDir, dockerfilePath)).digest;
}

/** The canonical tar of a context as a stream. */
export async function createContextTar(contextDir: string, dockerfilePath = 'Dockerfile'): Promise<Readable> {
  return packEntries(contextDir, await listContextEntries(contextDir, dockerfilePath));
}
