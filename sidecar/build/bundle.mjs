#!/usr/bin/env node
// Bundles the dev sidecar (sidecar/src/main.ts and everything it imports, @dsa/api/sync included) into
// one ESM file, sidecar/dist/sidecar.mjs, so the image needs only `node` + this file: no npm install,
// no node_modules, no TypeScript at runtime. Modelled on operator/build/bundle.mjs.
//
// Usage: node sidecar/build/bundle.mjs [--entry path] [--outfile path] [--version v] [--metafile]
// Prints the output path, its size and sha256 as JSON on stdout. Native addons cannot be bundled: the
// ones the program may load are left external and listed under "external" (build-image.sh stages them
// next to the bundle, under /app/node_modules).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { esmRequireBanner } from '../../build/esm-banner.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    entry: { type: 'string', default: resolve(repo, 'sidecar/src/main.ts') },
    outfile: { type: 'string', default: resolve(repo, 'sidecar/dist/sidecar.mjs') },
    version: { type: 'string', default: process.env.DSA_VERSION ?? '' },
    metafile: { type: 'boolean', default: false },
  },
});
const entry = resolve(values.entry);
const outfile = resolve(values.outfile);
await mkdir(dirname(outfile), { recursive: true });

const banner = esmRequireBanner({ filenames: true });

// Native addons (a .node file per platform) cannot ride in the bundle and the image has no node_modules: kept
// external and reported below, so build-image.sh refuses to build an image that would import one.
const NATIVE = ['@parcel/watcher'];

const result = await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  banner: { js: banner },
  // Readable stack traces matter more than size here; the sidecar is small anyway.
  minify: false,
  keepNames: true,
  legalComments: 'none',
  define: { __DSA_VERSION__: JSON.stringify(values.version || 'dev') },
  metafile: true,
  logLevel: 'warning',
  // Optional accelerators that ws/node-fetch try-require and fall back from; absent on purpose.
  external: ['bufferutil', 'utf-8-validate', 'encoding', ...NATIVE],
});

const bytes = await readFile(outfile);
const sha256 = createHash('sha256').update(bytes).digest('hex');
const inputs = Object.keys(result.metafile.inputs).length;
// Which of the external native packages the bundle really imports (statically or dynamically).
const imported = new Set();
for (const out of Object.values(result.metafile.outputs)) {
  for (const imp of out.imports ?? []) {
    if (imp.external && NATIVE.some((n) => imp.path === n || imp.path.startsWith(`${n}/`))) imported.add(imp.path);
  }
}
if (values.metafile) await writeFile(`${outfile}.meta.json`, JSON.stringify(result.metafile));
process.stdout.write(
  JSON.stringify({
    outfile: relative(process.cwd(), outfile),
    bytes: bytes.length,
    inputs,
    sha256,
    external: [...imported].sort(),
    warnings: result.warnings.length,
  }) + '\n',
);
