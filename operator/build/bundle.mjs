#!/usr/bin/env node
// Bundles the operator (operator/src/main.ts and everything it imports, node_modules included) into one ESM
// file, operator/dist/operator.mjs, so the image needs only `node` + this file: no npm install, no
// node_modules, no TypeScript at runtime.
//
// Usage: node operator/build/bundle.mjs [--outfile path] [--version v] [--metafile]
// Prints the output path and its sha256 (the image tag is derived from it) as JSON on stdout.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile, mkdir } from 'node:fs/promises';
import { dirname, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { esmRequireBanner } from '../../build/esm-banner.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    outfile: { type: 'string', default: resolve(repo, 'operator/dist/operator.mjs') },
    version: { type: 'string', default: process.env.DSA_VERSION ?? '' },
    metafile: { type: 'boolean', default: false },
  },
});
const outfile = resolve(values.outfile);
await mkdir(dirname(outfile), { recursive: true });

// express, pino, prom-client and friends are CommonJS: they need a real require (and __filename/__dirname).
const banner = esmRequireBanner({ filenames: true });

const result = await build({
  entryPoints: [resolve(repo, 'operator/src/main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: banner },
  // Readable stack traces and class names in logs matter more than a few hundred KB.
  minify: false,
  keepNames: true,
  legalComments: 'none',
  // Package resolution stays esbuild's platform-node default, which mirrors Node: `require()` picks a package's
  // "require" export and `import` its "import" export. Forcing the import condition everywhere breaks dual
  // packages required from CJS (express's require('is-promise') would get the ESM namespace object).
  define: { __DSA_VERSION__: JSON.stringify(values.version || 'dev') },
  metafile: true,
  logLevel: 'warning',
  // Optional native accelerators that ws/node-fetch try-require and fall back from; absent on purpose.
  external: ['bufferutil', 'utf-8-validate', 'encoding'],
});

const bytes = await readFile(outfile);
const sha256 = createHash('sha256').update(bytes).digest('hex');
const inputs = Object.keys(result.metafile.inputs).length;
if (values.metafile) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(outfile + '.meta.json', JSON.stringify(result.metafile));
}
process.stdout.write(
  JSON.stringify({ outfile: relative(process.cwd(), outfile), bytes: bytes.length, inputs, sha256, warnings: result.warnings.length }) + '\n',
);
