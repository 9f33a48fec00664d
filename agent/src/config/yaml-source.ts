// YAML text → plain JS values that remember where they came from.
//
// We do not use `doc.toJS()`: every object/array we build gets a side-table entry (a WeakMap, so
// the values stay plain JSON-like data) with the position of its node, of each key and of each
// child value. Profiles and variable resolution then move and rewrite values in place, and a
// schema error found at the end can still point at the line the user wrote — including values a
// profile patch introduced, which keep the position of the patch.
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { SourcePos } from '../../../api/src/model/project.js';
import { ConfigError } from './errors.js';

export interface Meta {
  pos: SourcePos;
  /** Position of each key (objects). */
  keys: Map<string, SourcePos>;
  /** Position of each child value (objects by key, arrays by index). */
  vals: Map<string | number, SourcePos>;
}

const META = new WeakMap<object, Meta>();

export function metaOf(v: unknown): Meta | undefined {
  return typeof v === 'object' && v !== null ? META.get(v) : undefined;
}

/** The meta of a container, created (at `pos`) when it has none — for objects the loader creates. */
export function ensureMeta(v: object, pos: SourcePos): Meta {
  let m = META.get(v);
  if (!m) {
    m = { pos, keys: new Map(), vals: new Map() };
    META.set(v, m);
  }
  return m;
}

/** Position of `parent[key]`'s value (or key), falling back to the parent's own position. */
export function childPos(parent: unknown, key: string | number, which: 'key' | 'val' = 'val'): SourcePos | undefined {
  const m = metaOf(parent);
  if (!m) return undefined;
  const p = which === 'key' && typeof key === 'string' ? (m.keys.get(key) ?? m.vals.get(key)) : (m.vals.get(key) ?? (typeof key === 'string' ? m.keys.get(key) : undefined));
  return p ?? metaOf((parent as Record<string | number, unknown>)[key])?.pos ?? m.pos;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets a property safely: `__proto__` and friends become ordinary own keys. */
export function setProp(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep copy that carries positions along (profile patch values are copied before insertion). */
export function cloneWithMeta<T>(v: T): T {
  if (Array.isArray(v)) {
    const out = v.map((x) => cloneWithMeta(x));
    const m = metaOf(v);
    if (m) META.set(out, { pos: m.pos, keys: new Map(m.keys), vals: new Map(m.vals) });
    return out as T;
  }
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) setProp(out, k, cloneWithMeta(x));
    const m = metaOf(v);
    if (m) META.set(out, { pos: m.pos, keys: new Map(m.keys), vals: new Map(m.vals) });
    return out as T;
  }
  return v;
}

/** Keeps array child positions aligned after a splice (patch add/remove on arrays). */
export function spliceWithMeta(arr: unknown[], start: number, deleteCount: number, items: unknown[], itemPos?: SourcePos): void {
  const m = metaOf(arr);
  if (m) {
    const old = new Map(m.vals);
    const shift = items.length - deleteCount;
    m.vals.clear();
    for (const [k, p] of old) {
      if (typeof k !== 'number') continue;
      if (k < start) m.vals.set(k, p);
      else if (k >= start + deleteCount) m.vals.set(k + shift, p);
    }
    if (itemPos) for (let i = 0; i < items.length; i++) m.vals.set(start + i, itemPos);
  }
  arr.splice(start, deleteCount, ...items);
}

// Generous, but stops "billion laughs" alias bombs long before memory runs out.
const NODE_BUDGET = 200_000;

export interface Parsed {
  value: unknown;
  /** Position of the document's root node. */
  pos: SourcePos;
}

/** Parses one YAML document; syntax errors become a ConfigError at the offending line:col. */
export function parseYaml(text: string, file: string): Parsed {
  const lc = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true, strict: true, keepSourceTokens: false });
  } catch (e) {
    throw new ConfigError(file, 1, 1, '', `invalid YAML: ${(e as Error).message}`);
  }
  const at = (offset: number | undefined): SourcePos => {
    const p = lc.linePos(offset ?? 0);
    return { file, line: p.line, col: p.col };
  };
  const err = doc.errors[0];
  if (err) {
    const p = at(err.pos[0]);
    const msg = err.message.split('\n')[0] ?? 'syntax error';
    throw new ConfigError(file, p.line, p.col, '', `invalid YAML: ${msg.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let budget = NODE_BUDGET;
  const posOf = (n: Node | null | undefined, fallback: SourcePos): SourcePos => (n && n.range ? at(n.range[0]) : fallback);

  const convert = (node: unknown, fallback: SourcePos, depth: number): unknown => {
    if (--budget < 0) {
      const p = posOf(node as Node, fallback);
      throw new ConfigError(file, p.line, p.col, '', 'document too large (too many nodes or alias expansions)');
    }
    if (depth > 200) {
      const p = posOf(node as Node, fallback);
      throw new ConfigError(file, p.line, p.col, '', 'document nested too deeply');
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) {
        const p = posOf(node, fallback);
        throw new ConfigError(file, p.line, p.col, '', `unknown alias *${node.source}`);
      }
      return convert(target, posOf(node, fallback), depth + 1);
    }
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === 'bigint') return Number(v);
      if (v instanceof Uint8Array || v instanceof Date) return String(node.source ?? v);
      return v === undefined ? null : v;
    }
    if (isSeq(node)) {
      const pos = posOf(node, fallback);
      const out: unknown[] = [];
      const meta: Meta = { pos, keys: new Map(), vals: new Map() };
      node.items.forEach((item, i) => {
        const ip = posOf(item as Node, pos);
        meta.vals.set(i, ip);
        out.push(convert(isPair(item) ? pairAsMap(item) : item, ip, depth + 1));
      });
      META.set(out, meta);
      return out;
    }
    if (isMap(node)) {
      const pos = posOf(node, fallback);
      const out: Record<string, unknown> = {};
      const meta: Meta = { pos, keys: new Map(), vals: new Map() };
      const merged: Array<{ value: unknown; pos: SourcePos }> = [];
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const kp = posOf(keyNode, pos);
        // `<<: *base` (YAML merge key, which DevSpace's yaml.v2 honours): explicit keys win.
        if (isScalar(keyNode) && (keyNode.value === '<<' || typeof keyNode.value === 'symbol') && (keyNode.source === '<<' || String(keyNode.value) === 'Symbol(<<)')) {
          const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
          for (const s of sources) merged.push({ value: convert(s, kp, depth + 1), pos: kp });
          continue;
        }
        let key: string;
        if (keyNode === null) key = '';
        else if (isScalar(keyNode)) key = keyNode.value === null || keyNode.value === undefined ? '' : typeof keyNode.value === 'symbol' ? (keyNode.value.description ?? '') : String(keyNode.value);
        else throw new ConfigError(file, kp.line, kp.col, '', 'map keys must be plain scalars');
        const vp = posOf(pair.value as Node, kp);
        meta.keys.set(key, kp);
        meta.vals.set(key, vp);
        setProp(out, key, convert(pair.value, vp, depth + 1));
      }
      for (const m of merged) {
        if (!isPlainObject(m.value)) throw new ConfigError(file, m.pos.line, m.pos.col, '', 'merge key << needs a map (or a list of maps)');
        const mm = metaOf(m.value);
        for (const [k, v] of Object.entries(m.value)) {
          if (Object.prototype.hasOwnProperty.call(out, k)) continue;
          setProp(out, k, v);
          meta.keys.set(k, mm?.keys.get(k) ?? m.pos);
          meta.vals.set(k, mm?.vals.get(k) ?? m.pos);
        }
      }
      META.set(out, meta);
      return out;
    }
    const p = posOf(node as Node, fallback);
    throw new ConfigError(file, p.line, p.col, '', 'unsupported YAML node');
  };
  // `- a: 1` inside a flow sequence can yield a bare Pair: treat it as a one-key map.
  const pairAsMap = (pair: unknown): unknown => {
    const m = doc.createNode({});
    (m as { items: unknown[] }).items.push(pair);
    (m as { range?: unknown }).range = ((pair as { key?: Node }).key?.range ?? undefined) as unknown;
    return m;
  };
  const root: SourcePos = { file, line: 1, col: 1 };
  const value = convert(doc.contents, root, 0);
  return { value, pos: posOf(doc.contents as Node | null, root) };
}
