import YAML from 'yaml';
import type { Colors } from './color.js';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Any Kubernetes-shaped object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** kubectl's `-o json` envelope for several objects, so `kubectl apply -f -` accepts our output. */
export function toList(items: readonly unknown[]): { apiVersion: 'v1'; kind: 'List'; items: unknown[] } {
  return { apiVersion: 'v1', kind: 'List', items: [...items] };
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Multi-document YAML, `---` between documents, as `kubectl get -o yaml` users paste into files. */
export function toYamlDocuments(objects: readonly unknown[]): string {
  // lineWidth 0: never fold long strings (inlined manifests would otherwise be re-wrapped).
  return objects.map((o) => YAML.stringify(o, { lineWidth: 0 })).join('---\n');
}

export function toYaml(value: unknown): string {
  return YAML.stringify(value, { lineWidth: 0 });
}

/** A plain aligned table; headers bold when colour is on. Cells must not contain newlines. */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, color?: Colors): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('   ')
      .trimEnd();
  const head = line(headers.map((h) => h.toUpperCase()));
  return [color ? color.bold(head) : head, ...rows.map(line)].join('\n') + '\n';
}
