// `npm run gen:crds` / `make crds`: regenerate crds/*.yaml from the TypeBox schema.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFiles } from './crd-files.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const outDir = join(repoRoot, 'crds');
mkdirSync(outDir, { recursive: true });
for (const { file, content } of crdFiles()) {
  writeFileSync(join(outDir, file), content);
  console.log(`wrote crds/${file}`);
}
