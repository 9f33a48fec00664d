// A small schema DSL for DevSpace's config versions, kept as data so that one description drives
// strict validation (unknown key → error naming it, as DevSpace's UnmarshalStrict does), the
// "parsed but not acted on" warnings, and the field-support table in docs/config-support.md.

/** What dsa does with a field. */
export type Support =
  /** Normalized into ProjectConfig and used. */
  | 'acted'
  /** Accepted and validated, but dsa does not act on it: every use produces a warning naming it. */
  | 'warn'
  /** Accepted by DevSpace, refused by dsa with an error (silently ignoring it would be wrong). */
  | 'error';

export type Schema =
  | { kind: 'string'; check?: (v: string) => string | undefined }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'number' }
  | { kind: 'bool' }
  | { kind: 'any' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'list'; of: Schema }
  | { kind: 'map'; of: Schema }
  | { kind: 'obj'; fields: Record<string, Field> }
  /** Alternatives of different shapes (scalar vs list vs map), picked by the value's shape. */
  | { kind: 'union'; of: Schema[] };

export interface Field {
  schema: Schema;
  support: Support;
  /** Why it is warned/refused, or how it maps (shown in warnings and the support table). */
  note?: string;
  /** v1beta config versions only: first/last `v1betaN` (N) where DevSpace has the field. */
  since?: number;
  until?: number;
  /** Several disjoint version ranges (a field DevSpace removed and later brought back). */
  ranges?: Array<[number, number]>;
  required?: boolean;
}

type FieldOpts = Pick<Field, 'note' | 'since' | 'until' | 'required' | 'ranges'>;

export const S = {
  str: (check?: (v: string) => string | undefined): Schema => (check ? { kind: 'string', check } : { kind: 'string' }),
  int: (min?: number, max?: number): Schema => ({ kind: 'int', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }),
  num: (): Schema => ({ kind: 'number' }),
  bool: (): Schema => ({ kind: 'bool' }),
  any: (): Schema => ({ kind: 'any' }),
  en: (...values: string[]): Schema => ({ kind: 'enum', values }),
  list: (of: Schema): Schema => ({ kind: 'list', of }),
  map: (of: Schema): Schema => ({ kind: 'map', of }),
  obj: (fields: Record<string, Field>): Schema => ({ kind: 'obj', fields }),
  union: (...of: Schema[]): Schema => ({ kind: 'union', of }),
  strList: (): Schema => ({ kind: 'list', of: { kind: 'string' } }),
  strMap: (): Schema => ({ kind: 'map', of: { kind: 'string' } }),
};

/** A field dsa acts on. */
export const a = (schema: Schema, o: FieldOpts = {}): Field => ({ schema, support: 'acted', ...o });
/** A field dsa parses but does not act on (warning). */
export const w = (schema: Schema, note: string, o: Omit<FieldOpts, 'note'> = {}): Field => ({ schema, support: 'warn', note, ...o });
/** A field dsa refuses (error). */
export const x = (schema: Schema, note: string, o: Omit<FieldOpts, 'note'> = {}): Field => ({ schema, support: 'error', note, ...o });

export function inVersion(f: Field, version: number | undefined): boolean {
  if (version === undefined) return true;
  if (f.ranges) return f.ranges.some(([lo, hi]) => version >= lo && version <= hi);
  return (f.since === undefined || version >= f.since) && (f.until === undefined || version <= f.until);
}

export function versionRange(f: Field): string {
  if (f.ranges) return f.ranges.map(([lo, hi]) => (lo === hi ? `v1beta${lo}` : `v1beta${lo}–v1beta${hi}`)).join(', ');
  if (f.since === undefined && f.until === undefined) return '';
  const lo = `v1beta${f.since ?? 2}`;
  const hi = f.until === undefined ? '+' : f.until === f.since ? '' : `–v1beta${f.until}`;
  return hi === '+' ? `${lo}+` : `${lo}${hi}`;
}

/** A row of the support table: one field at one path of one schema family. */
export interface SupportRow {
  path: string;
  type: string;
  support: Support;
  versions: string;
  note?: string;
}

export function typeName(s: Schema): string {
  switch (s.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'any':
      return s.kind;
    case 'int':
      return 'int';
    case 'enum':
      return s.values.join('\\|');
    case 'list':
      return `list of ${s.of.kind === 'obj' ? 'objects' : typeName(s.of)}`;
    case 'map':
      return `map of ${s.of.kind === 'obj' ? 'objects' : typeName(s.of)}`;
    case 'obj':
      return 'object';
    case 'union':
      return s.of.map(typeName).join(' or ');
  }
}

/**
 * Flattens a schema into rows. Children of a warned/refused field inherit its support: their
 * contents never reach dsa, whatever they are marked.
 */
export function supportRows(root: Schema, prefix = ''): SupportRow[] {
  const rows: SupportRow[] = [];
  const walk = (s: Schema, path: string, inherited: Support | undefined, inheritedNote: string | undefined): void => {
    if (s.kind === 'list') return walk(s.of, `${path}[]`, inherited, inheritedNote);
    if (s.kind === 'map') return walk(s.of, `${path}.<name>`, inherited, inheritedNote);
    if (s.kind === 'union') {
      for (const alt of s.of) walk(alt, path, inherited, inheritedNote);
      return;
    }
    if (s.kind !== 'obj') return;
    for (const [k, f] of Object.entries(s.fields)) {
      const p = path ? `${path}.${k}` : k;
      const support = inherited && inherited !== 'acted' ? inherited : f.support;
      const note = inherited && inherited !== 'acted' ? inheritedNote : f.note;
      if (!rows.some((r) => r.path === p)) {
        rows.push({ path: p, type: typeName(f.schema), support, versions: versionRange(f), ...(note ? { note } : {}) });
      }
      // A profile's replace/merge sections repeat the top-level sections: list them once.
      if (/^profiles\[\]\.(replace|merge)$/.test(p)) continue;
      walk(f.schema, p, support === 'acted' ? undefined : support, note);
    }
  };
  walk(root, prefix, undefined, undefined);
  return rows;
}
