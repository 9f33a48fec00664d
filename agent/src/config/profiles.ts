// Profiles: `replace` sections, `merge` (deep merge), and `patches` (JSON-patch add/remove/replace
// with DevSpace's path syntax: `images.default.image`, `deployments[0]`, `images["svc"]`,
// `deployments[name=api]`, or a JSON pointer `/images/default/image`). `parent` chains apply
// parents first. Values a profile brings in keep the position of the profile text, so later
// schema errors point at the patch.
import type { SourcePos } from '../../../api/src/model/project.js';
import { ConfigError } from './errors.js';
import { fmtPath, type Seg } from './paths.js';
import { childPos, cloneWithMeta, ensureMeta, isPlainObject, metaOf, setProp, spliceWithMeta } from './yaml-source.js';

export interface ProfileContext {
  file: string;
  rootPos: SourcePos;
  env: NodeJS.ProcessEnv;
  cliVars: Record<string, string>;
}

/** A path step: a key, an index, `-` (append) or `name=value` (first list item whose key matches). */
type Step = { key: string } | { index: number } | { append: true } | { match: [string, string] };

export function parsePatchPath(path: string): Step[] | string {
  if (path === '' || path === '/') return 'empty path';
  if (path.startsWith('/')) {
    return path
      .slice(1)
      .split('/')
      .map((raw): Step => {
        const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
        if (s === '-') return { append: true };
        if (/^(0|[1-9][0-9]*)$/.test(s)) return { index: Number(s) };
        const eq = s.indexOf('=');
        if (eq > 0) return { match: [s.slice(0, eq), s.slice(eq + 1)] };
        return { key: s };
      });
  }
  let p = path.startsWith('$.') ? path.slice(2) : path;
  const steps: Step[] = [];
  while (p.length > 0) {
    if (p.startsWith('.')) {
      p = p.slice(1);
      if (p === '' || p.startsWith('.')) return `empty segment in ${JSON.stringify(path)}`;
      continue;
    }
    if (p.startsWith('[')) {
      const q = /^\[\s*(["'])((?:\\.|(?!\1).)*)\1\s*\]/.exec(p);
      if (q) {
        steps.push({ key: (q[2] ?? '').replace(/\\(.)/g, '$1') });
        p = p.slice(q[0].length);
        continue;
      }
      const n = /^\[\s*(\d+)\s*\]/.exec(p);
      if (n) {
        steps.push({ index: Number(n[1]) });
        p = p.slice(n[0].length);
        continue;
      }
      const m = /^\[\s*([^\]=]+?)\s*=\s*([^\]]*?)\s*\]/.exec(p);
      if (m) {
        steps.push({ match: [m[1] ?? '', (m[2] ?? '').replace(/^(["'])(.*)\1$/, '$2')] });
        p = p.slice(m[0].length);
        continue;
      }
      return `bad bracket in ${JSON.stringify(path)} (want [0], ["key"] or [name=value])`;
    }
    const id = /^[^.[\]]+/.exec(p);
    if (!id) return `cannot parse ${JSON.stringify(path)}`;
    if (id[0].includes('*')) return `wildcards are not supported in patch paths (${JSON.stringify(path)})`;
    steps.push(/^(0|[1-9][0-9]*)$/.test(id[0]) ? { index: Number(id[0]) } : { key: id[0] });
    p = p.slice(id[0].length);
  }
  return steps.length ? steps : 'empty path';
}

function stepSeg(s: Step): Seg {
  return 'key' in s ? s.key : 'index' in s ? s.index : 'append' in s ? '-' : `${s.match[0]}=${s.match[1]}`;
}

export function applyProfiles(doc: Record<string, unknown>, requested: string[], ctx: ProfileContext): string[] {
  const list = Array.isArray(doc.profiles) ? (doc.profiles as unknown[]) : [];
  const byName = new Map<string, { p: Record<string, unknown>; i: number }>();
  list.forEach((p, i) => {
    if (isPlainObject(p) && typeof p.name === 'string' && !byName.has(p.name)) byName.set(p.name, { p, i });
  });
  const profilesPos = childPos(doc, 'profiles', 'key') ?? ctx.rootPos;
  const fail = (pos: SourcePos, path: string, reason: string): never => {
    throw new ConfigError(pos.file, pos.line, pos.col, path, reason);
  };

  // Auto-activation (v1beta10+/v2beta1 `activation`): every regex of one entry must match.
  const activated: string[] = [];
  for (const [name, { p }] of byName) {
    if (!Array.isArray(p.activation)) continue;
    const lookup = (k: string): string | undefined => ctx.cliVars[k] ?? ctx.env[k];
    const full = (re: string, v: string | undefined): boolean => {
      try {
        return v !== undefined && new RegExp(`^(?:${re})$`).test(v);
      } catch {
        return false;
      }
    };
    const on = p.activation.some((act) => {
      if (!isPlainObject(act)) return false;
      const env = isPlainObject(act.env) ? Object.entries(act.env) : [];
      const vars = isPlainObject(act.vars) ? Object.entries(act.vars) : [];
      if (env.length + vars.length === 0) return false;
      return env.every(([k, re]) => full(String(re), ctx.env[k])) && vars.every(([k, re]) => full(String(re), lookup(k)));
    });
    if (on) activated.push(name);
  }

  const applied: string[] = [];
  const applyNamed = (name: string, chain: string[]): void => {
    if (applied.includes(name)) return;
    const entry = byName.get(name);
    if (!entry) {
      const have = [...byName.keys()];
      const last = chain[chain.length - 1];
      const from = last ? byName.get(last) : undefined;
      const pos = from ? (childPos(from.p, 'parent') ?? profilesPos) : profilesPos;
      return fail(pos, from ? `profiles[${from.i}].parent` : 'profiles', `profile ${JSON.stringify(name)} not found (${have.length ? `available: ${have.join(', ')}` : 'the config has no profiles'})`);
    }
    if (chain.includes(name)) {
      return fail(childPos(entry.p, 'parent') ?? profilesPos, `profiles[${entry.i}].parent`, `profile parents form a cycle: ${[...chain, name].join(' -> ')}`);
    }
    const parents: string[] = [];
    if (typeof entry.p.parent === 'string') parents.push(entry.p.parent);
    if (Array.isArray(entry.p.parents)) for (const pp of entry.p.parents) if (isPlainObject(pp) && typeof pp.profile === 'string') parents.push(pp.profile);
    for (const parent of parents) applyNamed(parent, [...chain, name]);
    applyOne(doc, entry.p, entry.i, fail);
    applied.push(name);
  };
  for (const name of [...activated, ...requested]) applyNamed(name, []);
  return applied;
}

function applyOne(doc: Record<string, unknown>, p: Record<string, unknown>, pi: number, fail: (pos: SourcePos, path: string, reason: string) => never): void {
  const base = `profiles[${pi}]`;
  if (isPlainObject(p.replace)) {
    for (const [k, v] of Object.entries(p.replace)) {
      setAt(doc, k, cloneWithMeta(v), childPos(p.replace, k, 'key'), childPos(p.replace, k));
    }
  }
  if (isPlainObject(p.merge)) deepMerge(doc, p.merge);
  if (!Array.isArray(p.patches)) return;
  p.patches.forEach((patch, j) => {
    if (!isPlainObject(patch)) return;
    const where = `${base}.patches[${j}]`;
    const pathPos = childPos(patch, 'path') ?? metaOf(patch)?.pos ?? { file: '', line: 1, col: 1 };
    const valuePos = childPos(patch, 'value') ?? pathPos;
    const op = patch.op;
    const rawPath = typeof patch.path === 'string' ? patch.path : '';
    const steps = parsePatchPath(rawPath);
    if (typeof steps === 'string') return fail(pathPos, `${where}.path`, steps);
    if ((op === 'add' || op === 'replace') && !Object.prototype.hasOwnProperty.call(patch, 'value')) {
      return fail(metaOf(patch)?.pos ?? pathPos, `${where}.value`, `op ${String(op)} needs a value`);
    }
    const notFound = (upto: number): never =>
      fail(pathPos, `${where}.path`, `${JSON.stringify(rawPath)} not found in the config (no ${fmtPath(steps.slice(0, upto + 1).map(stepSeg))})`);

    // Walk to the parent of the last step; `add` creates missing maps on the way.
    let cur: unknown = doc;
    for (let i = 0; i < steps.length - 1; i++) {
      const s = steps[i] as Step;
      const next = getStep(cur, s);
      if (next.found && (isPlainObject(next.value) || Array.isArray(next.value))) {
        cur = next.value;
        continue;
      }
      if (op === 'add' && 'key' in s && isPlainObject(cur) && !next.found) {
        const created: Record<string, unknown> = {};
        ensureMeta(created, pathPos);
        setAt(cur, s.key, created, pathPos, pathPos);
        cur = created;
        continue;
      }
      return notFound(i);
    }
    const last = steps[steps.length - 1] as Step;
    const value = () => cloneWithMeta(patch.value);
    if (Array.isArray(cur)) {
      const idx = 'index' in last ? last.index : 'append' in last ? cur.length : 'match' in last ? findMatch(cur, last.match) : -1;
      if ('key' in last || idx < 0) return notFound(steps.length - 1);
      if (op === 'add') {
        if (idx > cur.length) return notFound(steps.length - 1);
        spliceWithMeta(cur, idx, 0, [value()], valuePos);
      } else if (idx >= cur.length) return notFound(steps.length - 1);
      else if (op === 'remove') spliceWithMeta(cur, idx, 1, []);
      else spliceWithMeta(cur, idx, 1, [value()], valuePos);
      return;
    }
    if (!isPlainObject(cur) || !('key' in last)) return notFound(steps.length - 1);
    const has = Object.prototype.hasOwnProperty.call(cur, last.key);
    if (op === 'add') {
      // DevSpace: `add` on an existing list appends to it.
      const existing = has ? cur[last.key] : undefined;
      if (Array.isArray(existing)) spliceWithMeta(existing, existing.length, 0, [value()], valuePos);
      else setAt(cur, last.key, value(), pathPos, valuePos);
    } else if (!has) return notFound(steps.length - 1);
    else if (op === 'remove') {
      delete cur[last.key];
      if (cur === doc && last.key === 'version') fail(pathPos, `${where}.path`, 'a profile cannot remove version');
    } else setAt(cur, last.key, value(), pathPos, valuePos);
  });
}

function findMatch(arr: unknown[], [k, v]: [string, string]): number {
  return arr.findIndex((x) => isPlainObject(x) && x[k] !== undefined && String(x[k]) === v);
}

function getStep(cur: unknown, s: Step): { found: boolean; value?: unknown } {
  if (Array.isArray(cur)) {
    const i = 'index' in s ? s.index : 'match' in s ? findMatch(cur, s.match) : -1;
    return i >= 0 && i < cur.length ? { found: true, value: cur[i] } : { found: false };
  }
  if (isPlainObject(cur) && 'key' in s && Object.prototype.hasOwnProperty.call(cur, s.key)) return { found: true, value: cur[s.key] };
  return { found: false };
}

function setAt(obj: Record<string, unknown>, key: string, v: unknown, keyPos: SourcePos | undefined, valPos: SourcePos | undefined): void {
  setProp(obj, key, v);
  const m = metaOf(obj);
  if (m) {
    if (keyPos) m.keys.set(key, keyPos);
    if (valPos) m.vals.set(key, valPos);
  }
}

/** Maps merge key by key; lists and scalars replace (DevSpace's `merge`). */
function deepMerge(target: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(src)) {
    const cur = Object.prototype.hasOwnProperty.call(target, k) ? target[k] : undefined;
    if (isPlainObject(cur) && isPlainObject(v)) deepMerge(cur, v);
    else setAt(target, k, cloneWithMeta(v), childPos(src, k, 'key'), childPos(src, k));
  }
}
