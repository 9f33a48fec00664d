// Secret-typed variables (DevSpace `password` vars) never travel in a spec in plain text. The agent puts
// `${dsa.secret.NAME}` where the value would be, stores the values in a Secret of the session's namespace and
// names it in spec.secretVars; the operator replaces the placeholders when it renders, reading that Secret as
// the session's ServiceAccount. This module is the placeholder contract both sides share. Pure.

/** The placeholder for variable `name`. */
export function secretPlaceholder(name: string): string {
  return `\${dsa.secret.${name}}`;
}

const PLACEHOLDER = /\$\{dsa\.secret\.([A-Za-z_][A-Za-z0-9_.-]{0,252})\}/g;

/** Names of the placeholders in `text`, in first-seen order. */
export function secretPlaceholderNames(text: string): string[] {
  if (!text.includes('${dsa.secret.')) return [];
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/**
 * `text` with the placeholders of `names` replaced by `value(name)`; placeholders of other names stay as
 * written (a literal `${dsa.secret.X}` the user wrote is not ours unless X is listed).
 */
export function replaceSecretPlaceholders(text: string, names: ReadonlySet<string>, value: (name: string) => string): string {
  if (!text.includes('${dsa.secret.')) return text;
  return text.replace(PLACEHOLDER, (whole, name: string) => (names.has(name) ? value(name) : whole));
}

/** Every string (values, not keys) inside a JSON-like value. */
export function* stringsIn(v: unknown): Generator<string> {
  if (typeof v === 'string') yield v;
  else if (Array.isArray(v)) for (const x of v) yield* stringsIn(x);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) yield* stringsIn(x);
}

/** `v` with replaceSecretPlaceholders applied to every string value (a new value; `v` is not changed). */
export function mapSecretPlaceholders<T>(v: T, names: ReadonlySet<string>, value: (name: string) => string): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return replaceSecretPlaceholders(x, names, value);
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
    return x;
  };
  return walk(v) as T;
}
