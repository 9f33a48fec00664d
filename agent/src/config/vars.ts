// `${VAR}` / `$!{VAR}` resolution over a whole document (DevSpace resolves variables everywhere).
//
// Lookup order for a name: `--var`, predefined variables (DEVSPACE_* and DSA_* aliases), then the
// variable's definition in `vars` (a v2beta1 static value, then by `source`: the environment,
// `DEVSPACE_VAR_<NAME>` for v3-era configs, the default, a prompt when stdin is a TTY), else an
// error naming the variable at the place it is used.
import type { SourcePos } from '../../../api/src/model/project.js';
import { secretPlaceholder } from '../../../api/src/secret-vars.js';
import { ConfigError } from './errors.js';
import { fmtPath, type Seg } from './paths.js';
import type { Prompt } from './types.js';
import { childPos, isPlainObject } from './yaml-source.js';

export interface VarDef {
  name: string;
  /** v2beta1 static value (plain `NAME: value` or `value:`). */
  value?: unknown;
  question?: string;
  options?: string[];
  default?: unknown;
  source?: 'all' | 'env' | 'input' | 'none' | 'command';
  validationPattern?: string;
  validationMessage?: string;
  password?: boolean;
  /** Where the definition is (for validation errors). */
  pos: SourcePos;
  path: string;
  patternPos?: SourcePos;
}

export interface VarContext {
  defs: Map<string, VarDef>;
  cliVars: Record<string, string>;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  prompt?: Prompt;
  /** Predefined variables: computed lazily (git is only run when DEVSPACE_GIT_COMMIT is used). */
  predefined: Map<string, (usePos: SourcePos, usePath: string) => Promise<string>>;
  /** v1beta configs also read DEVSPACE_VAR_<NAME> (DevSpace 3's convention). */
  legacyEnvPrefix: boolean;
  /** Password variables become `${dsa.secret.NAME}`; their values are collected in VarResolver.secrets. */
  secretPlaceholders?: boolean;
}

/**
 * Bounds on hostile configs (a dependency's devspace.yaml comes from git): a value may not grow past this by
 * expansion — variables that double each other reach gigabytes in a few hundred bytes of YAML — and a config
 * file may not be larger than MAX_CONFIG_FILE_BYTES.
 */
export const MAX_EXPANDED_VALUE_BYTES = 1024 * 1024;
export const MAX_CONFIG_FILE_BYTES = 2 * 1024 * 1024;
/** All expansions of one config together (a 1 MiB value used a thousand times is a gigabyte). */
export const MAX_EXPANDED_TOTAL_BYTES = 16 * 1024 * 1024;

/** Placeholder in a string: `$${X}` is an escaped literal `${X}`. */
const VAR_RE = /(\$?)\$(!?)\{([^}]*)\}/g;

/** Variables resolved at run time by DevSpace 6 (`${runtime.images.api.tag}`): left verbatim. */
export function isRuntimeVar(name: string): boolean {
  return name.startsWith('runtime.');
}

export class VarResolver {
  private readonly cache = new Map<string, string>();
  private readonly stack: string[] = [];
  /** Values actually used, for ProjectConfig.vars (passwords excluded). */
  readonly used: Record<string, string> = {};
  /** Bytes produced by expansions so far (MAX_EXPANDED_TOTAL_BYTES). */
  private expanded = 0;
  /** Password variables' values, when they are replaced by placeholders (VarContext.secretPlaceholders). */
  readonly secrets: Record<string, string> = {};

  constructor(private readonly ctx: VarContext) {}

  /** Resolves one name; `usePos`/`usePath` are where it is used, for the "not set" error. */
  async get(name: string, usePos: SourcePos, usePath: string): Promise<string> {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached;
    const fail = (reason: string, pos = usePos, path = usePath): never => {
      throw new ConfigError(pos.file, pos.line, pos.col, path, reason);
    };
    if (this.stack.includes(name)) fail(`variable ${name} refers to itself (${[...this.stack, name].join(' -> ')})`);
    this.stack.push(name);
    try {
      let value = await this.lookup(name, fail, usePos, usePath);
      const def = this.ctx.defs.get(name);
      if (def) this.check(def, value);
      if (def?.password && this.ctx.secretPlaceholders) {
        if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,252}$/.test(name)) fail(`password variable ${name}: the name cannot be a Secret key (letters, digits, _ . -)`, def.pos, def.path);
        this.secrets[name] = value;
        value = secretPlaceholder(name);
      }
      this.cache.set(name, value);
      if (!def?.password) this.used[name] = value;
      return value;
    } finally {
      this.stack.pop();
    }
  }

  private async lookup(name: string, fail: (r: string, p?: SourcePos, path?: string) => never, usePos: SourcePos, usePath: string): Promise<string> {
    const cli = this.ctx.cliVars[name];
    if (cli !== undefined) return cli;
    const pre = this.ctx.predefined.get(name);
    if (pre) return pre(usePos, usePath);
    const def = this.ctx.defs.get(name);
    const source = def?.source ?? 'all';
    if (def && def.value !== undefined && def.value !== null) {
      return this.staticValue(def, def.value, fail);
    }
    if (source === 'command') fail(`variable ${name} is read from a command, which dsa does not run; pass --var ${name}=…`, def?.pos, def?.path);
    if (source === 'all' || source === 'env') {
      const env = this.ctx.env[name] ?? (this.ctx.legacyEnvPrefix ? this.ctx.env[`DEVSPACE_VAR_${name}`] : undefined);
      if (env !== undefined) return env;
    }
    const dflt = def?.default !== undefined && def.default !== null ? await this.staticValue(def, def.default, fail) : undefined;
    if ((source === 'all' || source === 'input') && this.ctx.isTTY && this.ctx.prompt) {
      const answer = await this.ctx.prompt(def?.question ?? `Please enter a value for ${name}`, {
        name,
        ...(def?.options ? { options: def.options } : {}),
        ...(dflt !== undefined ? { default: dflt } : {}),
        ...(def?.password ? { password: true } : {}),
      });
      return answer === '' && dflt !== undefined ? dflt : answer;
    }
    if (dflt !== undefined) return dflt;
    const how =
      source === 'env'
        ? `set ${name} in the environment or pass --var ${name}=…`
        : source === 'none'
          ? `give it a default or pass --var ${name}=…`
          : `pass --var ${name}=…, set ${name} in the environment, or run in a terminal to be asked`;
    return fail(`variable ${name} is not set (${how})`, usePos, usePath);
  }

  private async staticValue(def: VarDef, v: unknown, fail: (r: string, p?: SourcePos, path?: string) => never): Promise<string> {
    if (typeof v !== 'string') return typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (/\$\([^)]*\)/.test(v)) fail(`variable ${def.name}: command substitution $(…) is not supported by dsa; pass --var ${def.name}=…`, def.pos, def.path);
    const out = await this.substitute(v, def.pos, def.path);
    return typeof out === 'string' ? out : String(out);
  }

  private check(def: VarDef, value: string): void {
    const at = def.patternPos ?? def.pos;
    if (def.validationPattern !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(def.validationPattern);
      } catch (e) {
        throw new ConfigError(at.file, at.line, at.col, `${def.path}.validationPattern`, `invalid regular expression: ${(e as Error).message}`);
      }
      if (!re.test(value)) {
        const shown = def.password ? '(hidden)' : JSON.stringify(value);
        throw new ConfigError(at.file, at.line, at.col, `${def.path}.validationPattern`, `value ${shown} of variable ${def.name} does not match ${def.validationPattern}${def.validationMessage ? ` (${def.validationMessage})` : ''}`);
      }
    }
  }

  /**
   * Replaces placeholders in a string. A string that is exactly one `${X}` becomes a number or
   * boolean when the value looks like one (as DevSpace does); `$!{X}` always stays a string.
   */
  async substitute(s: string, pos: SourcePos, path: string): Promise<unknown> {
    if (!s.includes('${') && !s.includes('$!{')) return s;
    const matches = [...s.matchAll(VAR_RE)];
    if (matches.length === 0) return s;
    const whole = matches.length === 1 && matches[0]?.[0] === s && matches[0][1] === '';
    let out = '';
    let last = 0;
    for (const m of matches) {
      const [text, escape, bang, rawName] = m;
      const name = (rawName ?? '').trim();
      out += s.slice(last, m.index);
      last = (m.index ?? 0) + text.length;
      if (escape === '$') {
        out += text.slice(1);
        continue;
      }
      if (isRuntimeVar(name)) {
        out += text;
        continue;
      }
      if (name === '') throw new ConfigError(pos.file, pos.line, pos.col, path, `empty variable name in ${JSON.stringify(s)}`);
      const v = await this.get(name, pos, path);
      this.expanded += v.length;
      if (this.expanded > MAX_EXPANDED_TOTAL_BYTES) {
        throw new ConfigError(pos.file, pos.line, pos.col, path, `variable expansions add up to more than ${MAX_EXPANDED_TOTAL_BYTES / (1024 * 1024)} MiB`);
      }
      if (whole && bang !== '!') {
        if (v === 'true') return true;
        if (v === 'false') return false;
        if (/^-?(0|[1-9][0-9]{0,14})$/.test(v)) return Number(v);
      }
      // Checked before the string is built: every cached value stays under the cap, so nothing larger exists.
      if (out.length + v.length > MAX_EXPANDED_VALUE_BYTES) {
        throw new ConfigError(pos.file, pos.line, pos.col, path, `value is larger than ${MAX_EXPANDED_VALUE_BYTES / (1024 * 1024)} MiB after variable expansion (variables expanding into each other?)`);
      }
      out += v;
    }
    return out + s.slice(last);
  }
}

/** Resolves every string value under `root` in place (keys are left as written). */
export async function resolveDocument(root: Record<string, unknown>, skipTopLevel: Set<string>, r: VarResolver, rootPos: SourcePos): Promise<void> {
  const walk = async (v: unknown, path: Seg[], pos: SourcePos): Promise<unknown> => {
    if (typeof v === 'string') return r.substitute(v, pos, fmtPath(path));
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = await walk(v[i], [...path, i], childPos(v, i) ?? pos);
      return v;
    }
    if (isPlainObject(v)) {
      for (const k of Object.keys(v)) {
        if (path.length === 0 && skipTopLevel.has(k)) continue;
        v[k] = await walk(v[k], [...path, k], childPos(v, k) ?? pos);
      }
    }
    return v;
  };
  await walk(root, [], rootPos);
}
