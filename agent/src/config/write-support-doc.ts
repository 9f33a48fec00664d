// Regenerates docs/config-support.md from the schemas: `npx tsx agent/src/config/write-support-doc.ts`.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { supportTableMarkdown } from './support-table.js';

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/config-support.md');
writeFileSync(out, supportTableMarkdown());
console.log(`wrote ${out}`);
