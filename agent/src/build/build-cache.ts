// What the agent built locally, per image (DevSpace keeps the same in `.devspace/cache.yaml`): the last
// tag, so a custom build with `onChange` runs again only when its files changed, and `--skip-build` can
// reference the last local build. A missing, unreadable or foreign file is an empty cache, never an
// error: the worst case is one build too many.
//
// Where: `<DSA_CACHE or $XDG_CACHE_HOME/dsa or ~/.cache/dsa>/builds/<hash of the project folder>.json`,
// not in the project: a project folder is usually its own build context, and a cache file inside it
// would change the context digest (so every tag) after each build. DevSpace excludes `.devspace/`
// from its contexts for that reason; the canonical context tar (@dsa/api/build-context) has no such
// exclusion, so the cache lives outside.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
/** A cache larger than this was not written by us; ignore it rather than parse it. */
const MAX_CACHE_BYTES = 1024 * 1024;

export interface CachedBuild {
  /** Repository built, without tag. */
  image: string;
  tag: string;
  engine: 'docker' | 'custom';
  /** RFC 3339. */
  builtAt: string;
  /** Whether the tag was pushed (docker skipPush: false); custom commands push themselves. */
  pushed?: boolean;
}

export interface BuildCacheFile {
  version: 1;
  images: Record<string, CachedBuild>;
}

/** Cache key of an image: its config file and profiles (as DevSpace keys by profile), then its name. */
export function cacheKey(configPath: string, profiles: readonly string[], imageName: string): string {
  return `${path.basename(configPath)}#${profiles.join(',')}#${imageName}`;
}

/** dsa's cache folder: DSA_CACHE, else $XDG_CACHE_HOME/dsa, else ~/.cache/dsa (the harness uses the same). */
export function cacheRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.DSA_CACHE) return env.DSA_CACHE;
  return path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'dsa');
}

/** The cache file of one project folder. */
export function cachePath(projectDir: string, root: string): string {
  const id = createHash('sha256').update(path.resolve(projectDir)).digest('hex').slice(0, 16);
  return path.join(root, 'builds', `${path.basename(projectDir).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}-${id}.json`);
}

function isCachedBuild(v: unknown): v is CachedBuild {
  const o = v as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && typeof o.image === 'string' && typeof o.tag === 'string' && (o.engine === 'docker' || o.engine === 'custom') && typeof o.builtAt === 'string';
}

/** Parse a cache file's text; anything unexpected gives an empty cache. Pure. */
export function parseBuildCache(text: string): BuildCacheFile {
  const empty: BuildCacheFile = { version: 1, images: {} };
  if (text.length > MAX_CACHE_BYTES) return empty;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return empty;
  }
  const images = (doc as { version?: unknown; images?: unknown } | null)?.images;
  if ((doc as { version?: unknown } | null)?.version !== 1 || typeof images !== 'object' || images === null) return empty;
  const out: Record<string, CachedBuild> = {};
  for (const [k, v] of Object.entries(images)) if (isCachedBuild(v)) out[k] = v;
  return { version: 1, images: out };
}

export async function readBuildCache(projectDir: string, root: string): Promise<BuildCacheFile> {
  try {
    return parseBuildCache(await readFile(cachePath(projectDir, root), 'utf8'));
  } catch {
    return { version: 1, images: {} };
  }
}

/** Records builds, merged into what is on disk now (another dsa may have written meanwhile); atomic rename. */
export async function recordBuilds(projectDir: string, root: string, builds: Readonly<Record<string, CachedBuild>>): Promise<void> {
  if (Object.keys(builds).length === 0) return;
  const file = cachePath(projectDir, root);
  const current = await readBuildCache(projectDir, root);
  const next: BuildCacheFile = { version: 1, images: { ...current.images, ...builds } };
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`);
  await rename(tmp, file);
}
