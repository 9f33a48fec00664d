// The loader pipeline: read → parse (syntax errors with line:col) → detect version → strict
// structural check (before any question is asked) → profiles → variables → strict validation with
// warnings → normalize → file checks → dependencies (recursively, cycles are errors).
import os from 'node:os';
import path from 'node:path';
import type { ConfigWarning, DependencyConfig, ProjectConfig, SourcePos } from '../../../api/src/model/project.js';
import { ConfigError } from './errors.js';
import { expandGlob, hasGlob } from './glob.js';
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
import { resolveDocument, VarResolver, type VarDef } from './vars.js';
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
  });
  const skip = new Set(['vars', 'profiles', 'commands', 'pipelines', 'functions']);
  await resolveDocument(doc, skip, resolver, rootPos);

  // 4. Strict validation of the final document, with "parsed but not acted on" warnings.
  delete doc.profiles;
  const warnings: ConfigWarning[] = [];
  validate(doc, version.schema, { ...(version.n !== undefined ? { version: version.n } : {}), versionName: version.name, warnings, rootPos });

  // 5. Normalize.
  const ctx: NormCtx = { file: configPath, dir, rootPos, warnings, refs: [], excludeFiles: [], fs, checkFiles };
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
    // kubectl `manifests: [kube/*]`: the model lists files.
    for (const d of pieces.deployments) {
      if (d.kind !== 'kubectl' || d.kustomize) continue;
      const out: string[] = [];
      for (const m of d.manifests) out.push(...(hasGlob(m) ? await expandGlob(fs, m) : [m]));
      d.manifests = out;
    }
  }
  for (const x of ctx.excludeFiles) {
    let text: string | undefined;
    try {
      text = await fs.readFile(x.abs);
    } catch {
      if (ctx.checkFiles) throw new ConfigError(x.pos.file, x.pos.line, x.pos.col, x.path, `exclude file ${x.abs} does not exist`);
      ctx.warnings.push({ path: x.path, message: `exclude file ${x.abs} not found, not read (file checks are off)`, pos: x.pos });
      continue;
    }
    for (const line of text.split(/\r?\n/)) {
      const l = line.trim();
      if (l && !l.startsWith('#')) x.into.push(l);
    }
  }
}

async function loadDependencies(project: ProjectConfig, pieces: NormalizedPieces, ctx: NormCtx, st: LoadState, cliVars: Record<string, string>): Promise<void> {
  const deps: DependencyConfig[] = project.dependencies;
  for (let i = 0; i < deps.length; i++) {
    const dep = deps[i] as DependencyConfig;
    const at = pieces.dependencyAt[i];
    const pos = at ? posAt(ctx, at.o, at.key) : ctx.rootPos;
    const where = at ? fmtPath(at.segs) : 'dependencies';
    if (!('path' in dep.source)) {
      // Git dependencies are fetched by the operator; nothing to load locally.
      continue;
    }
    const depConfig = path.join(dep.source.path, CONFIG_FILE);
    if (st.stack.includes(depConfig)) {
      const cycle = [...st.stack.slice(st.stack.indexOf(depConfig)), depConfig];
      const base = commonDir(cycle);
      throw new ConfigError(pos.file, pos.line, pos.col, where, `dependency cycle: ${cycle.map((f) => path.relative(base, f) || path.basename(f)).join(' -> ')}`);
    }
    const kind = await ctx.fs.stat(depConfig);
    if (!kind) {
      const folder = await ctx.fs.stat(dep.source.path);
      const why = folder === 'dir' ? `${dep.source.path} has no ${CONFIG_FILE}` : `dependency folder ${dep.source.path} does not exist`;
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
    }
    dep.project = child;
  }
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


