// Strict validation of a (variable-resolved, profile-applied) document against a version schema.
// Errors point at the YAML node (key for unknown fields, value for wrong types); warned fields are
// collected with their positions.
import type { ConfigWarning, SourcePos } from '../../../api/src/model/project.js';
import { ConfigError } from './errors.js';
import { fmtPath, type Seg } from './paths.js';
import { inVersion, versionRange, type Field, type Schema } from './schema.js';
import { childPos, isPlainObject, metaOf } from './yaml-source.js';

export interface ValidateOptions {
  /** v1beta N (for since/until gating); undefined for v2beta1. */
  version?: number;
  versionName: string;
  /**
   * Before variables are resolved, a scalar like `${PORT}` may become any type: accept strings
   * containing `${` wherever a scalar goes, so unknown keys are still reported before we ask
   * questions (DevSpace rejects v4.0.0-variables.yaml's typo before asking for SELECT).
   */
  lenientVars?: boolean;
  /** Collect warnings for `warn` fields (the final pass only). */
  warnings?: ConfigWarning[];
  rootPos: SourcePos;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
  return `${typeof v === 'number' ? 'the number' : 'the boolean'} ${String(v)}`;
}

const HAS_VAR = /\$!?\{[^}]*\}/;

export function validate(doc: unknown, schema: Schema, o: ValidateOptions): void {
  const fail = (pos: SourcePos | undefined, path: Seg[], reason: string): never => {
    const p = pos ?? o.rootPos;
    throw new ConfigError(p.file, p.line, p.col, fmtPath(path), reason);
  };

  /** Returns the value to store (scalars may be coerced to strings, as yaml.v2 does). */
  const check = (v: unknown, s: Schema, path: Seg[], pos: SourcePos | undefined): unknown => {
    if (o.lenientVars && typeof v === 'string' && HAS_VAR.test(v) && s.kind !== 'obj' && s.kind !== 'map' && s.kind !== 'list') return v;
    switch (s.kind) {
      case 'any':
        return v;
      case 'string': {
        // yaml.v2 (DevSpace) decodes `tag: 1` into a string field as "1".
        if (typeof v === 'number' || typeof v === 'boolean') v = String(v);
        if (typeof v !== 'string') return fail(pos, path, `must be a string, got ${describe(v)}`);
        const bad = s.check?.(v);
        if (bad) fail(pos, path, bad);
        return v;
      }
      case 'int':
        if (typeof v !== 'number' || !Number.isInteger(v)) return fail(pos, path, `must be an integer, got ${describe(v)}`);
        if (s.min !== undefined && v < s.min) fail(pos, path, `must be at least ${s.min}, got ${v}`);
        if (s.max !== undefined && v > s.max) fail(pos, path, `must be at most ${s.max}, got ${v}`);
        return v;
      case 'number':
        if (typeof v !== 'number' || !Number.isFinite(v)) return fail(pos, path, `must be a number, got ${describe(v)}`);
        return v;
      case 'bool':
        if (typeof v !== 'boolean') return fail(pos, path, `must be true or false, got ${describe(v)}`);
        return v;
      case 'enum':
        if (typeof v !== 'string' || !s.values.includes(v)) return fail(pos, path, `must be one of ${s.values.join(', ')}, got ${describe(v)}`);
        return v;
      case 'list': {
        if (!Array.isArray(v)) return fail(pos, path, `must be a list, got ${describe(v)}`);
        for (let i = 0; i < v.length; i++) v[i] = check(v[i], s.of, [...path, i], childPos(v, i) ?? pos);
        return v;
      }
      case 'map': {
        if (!isPlainObject(v)) return fail(pos, path, `must be a map, got ${describe(v)}`);
        for (const k of Object.keys(v)) {
          if (k === '') fail(childPos(v, k, 'key') ?? pos, path, 'empty key');
          v[k] = check(v[k], s.of, [...path, k], childPos(v, k) ?? pos);
        }
        return v;
      }
      case 'obj':
        if (!isPlainObject(v)) return fail(pos, path, `must be a map, got ${describe(v)}`);
        checkObj(v, s.fields, path, pos);
        return v;
      case 'union': {
        const shape = Array.isArray(v) ? 'list' : isPlainObject(v) ? 'map' : 'scalar';
        const fits = (c: Schema): boolean =>
          shape === 'list' ? c.kind === 'list' : shape === 'map' ? c.kind === 'obj' || c.kind === 'map' : !['list', 'obj', 'map', 'union'].includes(c.kind);
        const exact = s.of.find((c) => fits(c) && (c.kind !== 'string' || typeof v === 'string') && (c.kind !== 'bool' || typeof v === 'boolean') && (c.kind !== 'int' || typeof v === 'number'));
        const alt = exact ?? s.of.find(fits) ?? s.of.find((c) => c.kind === 'any');
        if (!alt) return fail(pos, path, `must be ${s.of.map(kindWord).join(' or ')}, got ${describe(v)}`);
        return check(v, alt, path, pos);
      }
    }
  };

  const checkObj = (obj: Record<string, unknown>, fields: Record<string, Field>, path: Seg[], pos: SourcePos | undefined): void => {
    for (const k of Object.keys(obj)) {
      const f = Object.prototype.hasOwnProperty.call(fields, k) ? fields[k] : undefined;
      const kp = childPos(obj, k, 'key') ?? pos;
      if (!f) fail(kp, [...path, k], `unknown field ${JSON.stringify(k)}${suggest(k, Object.keys(fields))}`);
      else if (!inVersion(f, o.version)) fail(kp, [...path, k], `unknown field ${JSON.stringify(k)} in ${o.versionName} (DevSpace has it in ${versionRange(f)})`);
    }
    for (const [k, f] of Object.entries(fields)) {
      if (!inVersion(f, o.version)) continue;
      const has = Object.prototype.hasOwnProperty.call(obj, k);
      const v = has ? obj[k] : undefined;
      if (v === null || v === undefined) {
        // `key:` with no value is "unset", as in Go.
        if (has) delete obj[k];
        if (f.required) fail(metaOf(obj)?.pos ?? pos, [...path, k], 'required field is missing');
        continue;
      }
      const vp = childPos(obj, k) ?? pos;
      obj[k] = check(v, f.schema, [...path, k], vp);
      if (f.support !== 'acted' && v !== false) {
        if (f.support === 'error') fail(childPos(obj, k, 'key') ?? pos, [...path, k], `not supported by dsa: ${f.note ?? 'remove it'}`);
        o.warnings?.push({ path: fmtPath([...path, k]), message: `parsed but not acted on: ${f.note ?? 'dsa ignores this field'}`, ...(childPos(obj, k, 'key') ? { pos: childPos(obj, k, 'key') as SourcePos } : {}) });
      }
    }
  };

  check(doc, schema, [], o.rootPos);
}

function kindWord(s: Schema): string {
  switch (s.kind) {
    case 'list':
      return 'a list';
    case 'obj':
    case 'map':
      return 'a map';
    case 'string':
      return 'a string';
    case 'int':
      return 'an integer';
    case 'bool':
      return 'true/false';
    default:
      return s.kind;
  }
}

/** "did you mean" for typos like `command:` → `commands`. */
function suggest(k: string, known: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of known) {
    const d = distance(k.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(k.length / 4)) ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

function distance(s: string, t: string): number {
  if (Math.abs(s.length - t.length) > 3) return 99;
  const d: number[] = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    let prev = d[0] ?? 0;
    d[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const tmp = d[j] ?? 0;
      d[j] = Math.min((d[j] ?? 0) + 1, (d[j - 1] ?? 0) + 1, prev + (s[i - 1] === t[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[t.length] ?? 99;
}
