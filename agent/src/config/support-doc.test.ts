// docs/config-support.md must match the schemas it is generated from, and the markers must mean
// what the doc says: a warned field warns, a refused field errors, an unknown field errors.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';
import { supportCounts, supportFamilies, supportTableMarkdown } from './support-table.js';

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/config-support.md');
const load = (yaml: string) => loadProject({ configPath: '/p/devspace.yaml', fs: memFileReader({ '/p/devspace.yaml': yaml }), env: {}, checkFiles: false });

describe('field support table', () => {
  it('docs/config-support.md is up to date (regenerate: npx tsx agent/src/config/write-support-doc.ts)', () => {
    expect(readFileSync(DOC, 'utf8')).toBe(supportTableMarkdown());
  });

  it('counts add up and every family has all three kinds', () => {
    const c = supportCounts();
    expect(c.acted + c.warn + c.error).toBe(c.total);
    for (const f of supportFamilies()) {
      const fc = supportCounts(f.rows);
      expect(fc.acted).toBeGreaterThan(100);
      expect(fc.warn).toBeGreaterThan(10);
      expect(fc.error).toBeGreaterThan(0);
    }
    expect(readFileSync(DOC, 'utf8')).toContain(`**${c.total} fields: ${c.acted} acted on, ${c.warn} parsed but warned, ${c.error} unsupported (error).**`);
  });

  it('every warned field directly under v2beta1 images.<name> / dev.<name> produces a warning naming it, at its key', async () => {
    const sample = (type: string): string | undefined =>
      type === 'bool' ? 'true' : type === 'string' ? 'x' : type === 'list of string' ? '[x]' : type.startsWith('list of') ? '[{}]' : type.startsWith('map of') || type === 'any' ? '{a: b}' : type === 'object' ? '{}' : type.includes('\\|') ? type.split('\\|')[0] : undefined;
    const rows = supportFamilies()[1]?.rows.filter((r) => r.support === 'warn' && /^(images|dev)\.<name>\.[a-zA-Z]+$/.test(r.path)) ?? [];
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) {
      const [section, , key] = r.path.split('.') as [string, string, string];
      // Lists whose entries have required fields need a valid entry.
      const v = ({ open: '[{url: "http://localhost:8080"}]', patches: '[{op: replace, path: spec.x, value: 1}]' } as Record<string, string>)[key] ?? sample(r.type);
      expect(v).toBeDefined();
      const owner = section === 'images' ? 'image: x' : 'labelSelector: {app: a}';
      const p = await load(`version: v2beta1\n${section}:\n  a:\n    ${owner}\n    ${key}: ${v}\n`);
      expect(p.warnings.find((w) => w.path === `${section}.a.${key}`)?.pos).toEqual({ file: '/p/devspace.yaml', line: 5, col: 5 });
    }
  });

  it('a refused field is an error; false/empty values of warned fields are not noise', async () => {
    await expect(load('version: v1beta9\nprofiles:\n- name: x\n  strategicMerge: {a: 1}\n')).rejects.toThrow('/p/devspace.yaml:4:3: profiles[0].strategicMerge: not supported by dsa');
    const p = await load('version: v2beta1\nimages:\n  a:\n    image: x\n    injectRestartHelper: false\n');
    expect(p.warnings).toEqual([]);
  });
});
