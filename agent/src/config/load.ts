// The loader pipeline: read → parse (syntax errors with line:col) → detect version → strict
// structural check (before any question is asked) → profiles → variables → strict validation with
// warnings → normalize → file checks → dependencies (recursively, cycles are errors).
import os from 'node:os';
import path from 'node:path';
import type { ConfigWarning, DependencyConfig, GitSource, ProjectConfig, SourcePos } from '../../../api/src/model/project.js';
import { parseExcludeFile } from '../../../api/src/sync/excludes.js';
import { SYNC_LIMITS } from '../../../api/src/v1alpha1/devsession.js';
import { ConfigError } from './errors.js';
import { createGitFetcher, dependencyCacheDir, redactUrl, resolveSubPath, type FetchedDependency, type GitDependencyFetcher, type GitDependencySource } from './git-dependencies.js';
import { expandGlob } from './glob.js';
import { expandManifests } from './manifests.js';
import { gitShortCommit, nodeFileReader } from './node-fs.js';
import { fmtPath } from './paths.js';
import { dnsName, posAt, type NormCtx, type Obj } from './normalize-common.js';
import { normalizeV1beta, type NormalizedPieces } from './normalize-v1beta.js';
import { normalizeV2beta1 } from './normalize-v2beta1.js';
import { applyProfiles } from './profiles.js';
import type { Schema } from './schema.js';
import { V1BETA_MAX, V1BETA_MIN, V1BETA_SCHEMA } from './schema-v1beta.js';
import { V2BETA1_SCHEMA } from './schema-v2beta1.js';
import type { LoadOptions } from './types.js';
import { validate } from './validate.js';
import { MAX_CONFIG_FILE_BYTES, resolveDocument, VarResolver, type VarDef } from './vars.js';
import { childPos, isPlainObject, parseYaml } from './yaml-source.js';

/** The file name DevSpace looks for in a dependency folder. */
export const CONFIG_FILE = 'devspace.yaml';

interface Version {
  name: string;
  /** N of v1betaN; undefined for v2beta1. */
  n?: number;
  schema: Schema;
}

function detectVersion(doc: Obj, file: string, rootPos: SourcePos): Version {
  const v = doc.version;
  const at = childPos(doc, 'version') ?? rootPos;
  if (v === undefined || v === null) throw new ConfigError(file, rootPos.line, rootPos.col, 'version', 'required field is missing (e.g. version: v2beta1)');
  if (typeof v !== 'string') throw new ConfigError(file, at.line, at.col, 'version', `must be a string like v1beta9 or v2beta1, got ${JSON.stringify(v)}`);
  if (v === 'v2beta1') return { name: v, schema: V2BETA1_SCHEMA };
  const m = /^v1beta(\d+)$/.exec(v);
  const n = m ? Number(m[1]) : NaN;
  if (n >= V1BETA_MIN && n <= V1BETA_MAX) return { name: v, n, schema: V1BETA_SCHEMA };
  throw new ConfigError(file, at.line, at.col, 'version', `unsupported config version ${JSON.stringify(v)} (dsa reads v1beta${V1BETA_MIN} … v1beta${V1BETA_MAX} and v2beta1)`);
}

/** Variable definitions: a v1beta list of {name,…} or a v2beta1 map of name → value | {…}. */
function varDefs(doc: Obj, version: Version, rootPos: SourcePos): Map<string, VarDef> {
  const defs = new Map<string, VarDef>();
  const vars = doc.vars;
  const add = (name: string, def: Obj | undefined, staticValue: unknown, pos: SourcePos, p: string): void => {
    const d: VarDef = { name, pos, path: p };
    if (staticValue !== undefined) d.value = staticValue;
    if (def) {
      if (def.value !== undefined) d.value = def.value;
      if (typeof def.question === 'string') d.question = def.question;
      if (Array.isArray(def.options)) d.options = def.options.map(String);
      if (def.default !== undefined) d.default = def.default;
      if (typeof def.source === 'string') d.source = def.source as VarDef['source'];
      if (typeof def.validationPattern === 'string') {
        d.validationPattern = def.validationPattern;
        d.patternPos = childPos(def, 'validationPattern') ?? pos;
      }
      if (typeof def.validationMessage === 'string') d.validationMessage = def.validationMessage;
      if (def.password === true) d.password = true;
    }
    defs.set(name, d);
  };
  if (version.n !== undefined && Array.isArray(vars)) {
    vars.forEach((v, i) => {
      if (isPlainObject(v) && typeof v.name === 'string') add(v.name, v, undefined, childPos(vars, i) ?? rootPos, `vars[${i}]`);
    });
  } else if (version.n === undefined && isPlainObject(vars)) {
    for (const [k, v] of Object.entries(vars)) add(k, isPlainObject(v) ? v : undefined, isPlainObject(v) ? undefined : v, childPos(vars, k, 'key') ?? rootPos, `vars.${k}`);
  }
  return defs;
}

const RANDOM_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function predefined(opts: LoadOptions, dir: string, projectName: string, profiles: string[]): Map<string, (usePos: SourcePos, usePath: string) => Promise<string>> {
  const now = opts.now ?? new Date();
  const rnd = opts.random ?? Math.random;
  let random: string | undefined;
  let commit: Promise<string | undefined> | undefined;
  const fail = (name: string, why: string, pos: SourcePos, at: string): never => {
    throw new ConfigError(pos.file, pos.line, pos.col, at, `variable ${name} is not available: ${why}`);
  };
  const user = (): string => {
    if (opts.username !== undefined) return opts.username;
    try {
      return os.userInfo().username;
    } catch {
      return opts.env?.USER ?? opts.env?.USERNAME ?? '';
    }
  };
  const table: Record<string, (name: string, pos: SourcePos, at: string) => Promise<string>> = {
    USERNAME: async () => user(),
    GIT_COMMIT: async (name, pos, at) => {
      commit ??= (opts.gitCommit ?? gitShortCommit)(dir).catch(() => undefined);
      const c = await commit;
      return c ?? fail(name, `${dir} is not a git checkout (or git is missing); pass --var ${name}=…`, pos, at);
    },
    TIMESTAMP: async () => String(Math.floor(now.getTime() / 1000)),
    RANDOM: async () => {
      random ??= Array.from({ length: 6 }, () => RANDOM_ALPHABET[Math.floor(rnd() * RANDOM_ALPHABET.length) % RANDOM_ALPHABET.length]).join('');
      return random;
    },
    NAME: async () => projectName,
    NAMESPACE: async (name, pos, at) => opts.namespace ?? fail(name, 'no namespace chosen yet; pass --namespace or --var', pos, at),
    PROFILE: async () => profiles[profiles.length - 1] ?? '',
    PROFILES: async () => profiles.join(' '),
    USER_HOME: async () => os.homedir(),
  };
  const out = new Map<string, (pos: SourcePos, at: string) => Promise<string>>();
  for (const [k, f] of Object.entries(table)) {
    for (const prefix of ['DEVSPACE_', 'DSA_']) out.set(prefix + k, (pos, at) => f(prefix + k, pos, at));
  }
  return out;
}

interface LoadState {
  opts: LoadOptions;
  /** The git fetcher, made on the first git dependency. */
  git?: GitDependencyFetcher;
  /** Config files being loaded, root first: a dependency already on the stack is a cycle. */
  stack: string[];
  cache: Map<string, ProjectConfig>;
}

/** Shortest common folder of the files, for readable cycle messages (`a/devspace.yaml -> b/…`). */
function commonDir(files: string[]): string {
  let dir = path.dirname(files[0] ?? '/');
  while (!files.every((f) => f === dir || f.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep))) {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

async function loadOne(configPath: string, st: LoadState, profiles: string[], cliVars: Record<string, string>, skipDeps: boolean, from?: { pos: SourcePos; path: string }): Promise<ProjectConfig> {
  const opts = st.opts;
  const fs = opts.fs ?? nodeFileReader;
  const checkFiles = opts.checkFiles ?? true;
  const env = opts.env ?? process.env;
  const dir = path.dirname(configPath);

  let text: string;
  try {
    text = await fs.readFile(configPath);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === undefined ? 'not found' : `cannot be read (${(e as NodeJS.ErrnoException).code})`;
    if (from) throw new ConfigError(from.pos.file, from.pos.line, from.pos.col, from.path, `${configPath} ${why}`);
    throw new ConfigError(configPath, 1, 1, '', `config file ${why}`);
  }
  if (text.length > MAX_CONFIG_FILE_BYTES) {
    throw new ConfigError(configPath, 1, 1, '', `config file is larger than ${MAX_CONFIG_FILE_BYTES / (1024 * 1024)} MiB`);
  }
  const parsed = parseYaml(text, configPath);
  const rootPos = parsed.pos;
  if (!isPlainObject(parsed.value)) {
    throw new ConfigError(configPath, rootPos.line, rootPos.col, '', parsed.value === null ? 'the config is empty (it needs at least `version:`)' : 'the config must be a map of fields (version, images, deployments, …)');
  }
  const doc = parsed.value;
  const version = detectVersion(doc, configPath, rootPos);

  // 1. Structure first: unknown keys are reported before any variable is asked for.
  validate(doc, version.schema, { ...(version.n !== undefined ? { version: version.n } : {}), versionName: version.name, lenientVars: true, rootPos });

  // 2. Profiles (v1beta2 has none in devspace.yaml).
  const applied = applyProfiles(doc, profiles, { file: configPath, rootPos, env, cliVars });

  // 3. Variables, everywhere except the definitions themselves and what runs in a shell later.
  const rawName = typeof doc.name === 'string' && !doc.name.includes('${') ? doc.name : undefined;
  const projectName = dnsName(rawName ?? path.basename(dir));
  const resolver = new VarResolver({
    defs: varDefs(doc, version, rootPos),
    cliVars,
    env,
    isTTY: opts.isTTY ?? false,
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
    predefined: predefined(opts, dir, projectName, applied),
    legacyEnvPrefix: version.n !== undefined,
    secretPlaceholders: opts.secretVars === 'placeholder',
  });
  const skip = new Set(['vars', 'profiles', 'commands', 'pipelines', 'functions']);
  await resolveDocument(doc, skip, resolver, rootPos);

  // 4. Strict validation of the final document, with "parsed but not acted on" warnings.
  delete doc.profiles;
  const warnings: ConfigWarning[] = [];
  validate(doc, version.schema, { ...(version.n !== undefined ? { version: version.n } : {}), versionName: version.name, warnings, rootPos });

  // 5. Normalize.
  const ctx: NormCtx = { file: configPath, dir, rootPos, warnings, refs: [], excludeFiles: [], syncFiles: [], fs, checkFiles };
  const pieces: NormalizedPieces = version.n !== undefined ? await normalizeV1beta(ctx, doc, version.n) : await normalizeV2beta1(ctx, doc);

  // 6. Referenced files.
  await checkReferencedFiles(ctx, pieces);

  const project: ProjectConfig = {
    name: pieces.name ? dnsName(pieces.name) : projectName,
    configPath,
    dir,
    sourceVersion: version.name,
    profiles: applied,
    vars: resolver.used,
    ...(Object.keys(resolver.secrets).length ? { secretVars: resolver.secrets } : {}),
    images: pieces.images,
    deployments: pieces.deployments,
    dev: pieces.dev,
    dependencies: pieces.dependencies,
    hooks: pieces.hooks,
    commands: pieces.commands,
    ...(pieces.namespace ? { namespace: pieces.namespace } : {}),
    ...(pieces.kubeContext ? { kubeContext: pieces.kubeContext } : {}),
    warnings,
  };

  // 7. Dependencies, depth first; a config already on the stack closes a cycle.
  if (!skipDeps) await loadDependencies(project, pieces, ctx, st, cliVars);
  return project;
}

async function checkReferencedFiles(ctx: NormCtx, pieces: NormalizedPieces): Promise<void> {
  const fs = ctx.fs;
  if (ctx.checkFiles) {
    for (const r of ctx.refs) {
      if (r.want === 'glob') {
        if ((await expandGlob(fs, r.abs)).length === 0) throw new ConfigError(r.pos.file, r.pos.line, r.pos.col, r.path, `${r.what} pattern ${r.abs} matches no files`);
        continue;
      }
      const kind = await fs.stat(r.abs);
      if (!kind) throw new ConfigError(r.pos.file, r.pos.line, r.pos.col, r.path, `${r.what} ${r.abs} does not exist`);
      if (r.want !== 'any' && kind !== r.want) throw new ConfigError(r.pos.file, r.pos.line, r.pos.col, r.path, `${r.what} ${r.abs} is a ${kind === 'dir' ? 'folder' : 'file'}, not a ${r.want === 'dir' ? 'folder' : 'file'}`);
    }
    // kubectl `manifests: [kube, k8s/*.yaml]`: the model lists files (folders read as kubectl -f does).
    for (const d of pieces.deployments) {
      if (d.kind !== 'kubectl' || d.kustomize) continue;
      const expanded = await expandManifests(fs, d.manifests);
      if (!expanded.ok) {
        const r = ctx.refs.find((x) => x.abs === expanded.entry);
        const pos = r?.pos ?? ctx.rootPos;
        throw new ConfigError(pos.file, pos.line, pos.col, r?.path ?? `deployments.${d.name}.kubectl.manifests`, expanded.reason);
      }
      d.manifests = expanded.files;
    }
  }
  await checkSyncFiles(ctx);
  await readExcludeFiles(ctx);
}

/** Largest exclude file read (a .gitignore is a few KiB; anything near this is not one). */
const EXCLUDE_FILE_MAX = 1024 * 1024;

/** DevSpace 6: a sync whose local path is a file syncs that one file, to a path with the same name. */
async function checkSyncFiles(ctx: NormCtx): Promise<void> {
  for (const { sync, pos, path: at } of ctx.syncFiles) {
    const kind = ctx.checkFiles ? await ctx.fs.stat(sync.localPath) : undefined;
    if (kind === 'file') sync.file = true;
    if (!sync.file) continue;
    if (kind === 'dir') throw new ConfigError(pos.file, pos.line, pos.col, at, `file: true, but ${sync.localPath} is a folder`);
    const remoteName = path.posix.basename(sync.containerPath);
    if (path.basename(sync.localPath) !== remoteName) {
      throw new ConfigError(pos.file, pos.line, pos.col, at, `a single-file sync needs the same file name on both sides (local ${path.basename(sync.localPath)}, container ${JSON.stringify(remoteName)}), e.g. ./config.yaml:/app/config.yaml`);
    }
  }
}

/** Appends each exclude file's patterns to its list, after the inline ones (DevSpace's order). */
async function readExcludeFiles(ctx: NormCtx): Promise<void> {
  for (const x of ctx.excludeFiles) {
    const abs = path.resolve(x.sync.file ? path.dirname(x.sync.localPath) : x.sync.localPath, x.rel);
    let text: string;
    try {
      text = await ctx.fs.readFile(abs);
    } catch {
      if (ctx.checkFiles) throw new ConfigError(x.pos.file, x.pos.line, x.pos.col, x.path, `exclude file ${abs} does not exist`);
      ctx.warnings.push({ path: x.path, message: `exclude file ${abs} not found, not read (file checks are off)`, pos: x.pos });
      continue;
    }
    if (text.length > EXCLUDE_FILE_MAX) throw new ConfigError(x.pos.file, x.pos.line, x.pos.col, x.path, `exclude file ${abs} is larger than ${EXCLUDE_FILE_MAX / 1024} KiB`);
    const lines = parseExcludeFile(text);
    const long = lines.findIndex((l) => l.length > SYNC_LIMITS.patternLength);
    if (long >= 0) throw new ConfigError(x.pos.file, x.pos.line, x.pos.col, x.path, `exclude file ${abs}: pattern ${long + 1} is longer than ${SYNC_LIMITS.patternLength} characters`);
    const list = x.sync[x.list];
    list.push(...lines);
    if (list.length > SYNC_LIMITS.excludes) throw new ConfigError(x.pos.file, x.pos.line, x.pos.col, x.path, `${list.length} patterns with those of ${abs}; at most ${SYNC_LIMITS.excludes} per list`);
  }
}

async function loadDependencies(project: ProjectConfig, pieces: NormalizedPieces, ctx: NormCtx, st: LoadState, cliVars: Record<string, string>): Promise<void> {
  const deps: DependencyConfig[] = project.dependencies;
  for (let i = 0; i < deps.length; i++) {
    const dep = deps[i] as DependencyConfig;
    const at = pieces.dependencyAt[i];
    const pos = at ? posAt(ctx, at.o, at.key) : ctx.rootPos;
    const where = at ? fmtPath(at.segs) : 'dependencies';
    let depDir: string;
    if ('path' in dep.source) depDir = dep.source.path;
    else {
      const fetched = await fetchGitDependency(dep.source.git, at?.o ?? {}, ctx, st, { pos, where });
      if (fetched === undefined) continue;
      project.warnings.push(...fetched.warnings);
      depDir = fetched.dir;
    }
    // DevSpace 6: a subPath may name the config file itself.
    const depConfig = /\.ya?ml$/.test(depDir) ? depDir : path.join(depDir, CONFIG_FILE);
    if (st.stack.includes(depConfig)) {
      const cycle = [...st.stack.slice(st.stack.indexOf(depConfig)), depConfig];
      const base = commonDir(cycle);
      throw new ConfigError(pos.file, pos.line, pos.col, where, `dependency cycle: ${cycle.map((f) => path.relative(base, f) || path.basename(f)).join(' -> ')}`);
    }
    const kind = await ctx.fs.stat(depConfig);
    if (!kind) {
      const folder = await ctx.fs.stat(depDir);
      const why = folder === 'dir' ? `${depDir} has no ${CONFIG_FILE}` : `dependency folder ${depDir} does not exist`;
      if (ctx.checkFiles) throw new ConfigError(pos.file, pos.line, pos.col, where, why);
      project.warnings.push({ path: where, message: `${why}; not loaded (file checks are off)`, pos });
      continue;
    }
    const key = `${depConfig}\u0000${dep.profile ?? ''}\u0000${JSON.stringify(dep.vars)}\u0000${dep.ignoreDependencies}`;
    let child = st.cache.get(key);
    if (!child) {
      st.stack.push(depConfig);
      try {
        child = await loadOne(depConfig, st, dep.profile ? [dep.profile] : [], { ...cliVars, ...dep.vars }, dep.ignoreDependencies, { pos, path: where });
      } finally {
        st.stack.pop();
      }
      st.cache.set(key, child);
      // Its own warnings (fields dsa does not act on, …) are reported with the root's, once per loaded
      // file, under `dependencies.<name>.` as render names them; their positions point into its devspace.yaml.
      const prefix = `dependencies.${dep.name}`;
      project.warnings.push(...child.warnings.map((w) => ({ ...w, path: w.path ? `${prefix}.${w.path}` : prefix })));
    }
    dep.project = child;
  }
}

/**
 * The folder of a git dependency: fetched into the cache (with file checks on: `dsa deploy`, `render`,
 * `validate`), or only looked up there (file checks off: `down`, `logs`, `--skip-file-checks`: no
 * network). undefined (with a warning) when it is not available.
 */
async function fetchGitDependency(
  git: GitSource,
  o: Obj,
  ctx: NormCtx,
  st: LoadState,
  at: { pos: SourcePos; where: string },
): Promise<{ dir: string; warnings: ConfigWarning[] } | undefined> {
  const opts = st.opts;
  const name = redactUrl(git.url);
  const fail = (why: string): never => {
    throw new ConfigError(at.pos.file, at.pos.line, at.pos.col, at.where, `git dependency ${name}: ${why}`);
  };
  if (opts.gitDependencies === false) {
    ctx.warnings.push({ path: at.where, message: `git dependency ${name} was not fetched (fetching is off); not loaded`, pos: at.pos });
    return undefined;
  }
  const src: GitDependencySource = {
    ...git,
    ...(Array.isArray(o.cloneArgs) ? { cloneArgs: o.cloneArgs.map(String) } : {}),
    ...(o.disableShallow === true ? { disableShallow: true } : {}),
    ...(o.disablePull === true ? { disablePull: true } : {}),
  };
  const env = opts.env ?? process.env;
  st.git ??= opts.gitDependencies ?? createGitFetcher({ cacheDir: dependencyCacheDir(env), env });
  let fetched: FetchedDependency | undefined;
  try {
    fetched = await st.git.fetch(src, { offline: !ctx.checkFiles });
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!fetched) {
    ctx.warnings.push({ path: at.where, message: `git dependency ${name} is not in the cache yet (dsa deploy fetches it); not loaded`, pos: at.pos });
    return undefined;
  }
  let dir: string;
  try {
    dir = await resolveSubPath(fetched.dir, git.subPath);
  } catch (e) {
    return fail((e as Error).message);
  }
  const warnings: ConfigWarning[] = fetched.warning ? [{ path: at.where, message: `git dependency ${name}: ${fetched.warning}`, pos: at.pos }] : [];
  return { dir, warnings };
}

/** Loads a devspace.yaml (any supported version) into the normalized model. Rejects only with ConfigError. */
export async function loadProject(opts: LoadOptions): Promise<ProjectConfig> {
  const configPath = path.resolve(opts.configPath);
  const st: LoadState = { opts, stack: [configPath], cache: new Map() };
  try {
    return await loadOne(configPath, st, opts.profiles ?? [], opts.vars ?? {}, false);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    // A bug of ours must still not reach the user as a stack trace; the fuzz test fails on these.
    throw new ConfigError(configPath, 1, 1, '', `internal error while loading the config: ${(e as Error)?.message ?? String(e)}`);
  }
}


