#!/usr/bin/env node
// A single executable: Node's single-executable applications (SEA), the node binary running this
// machine's build with the agent injected, like DevSpace's one-file download.
//
//   node agent/build/sea.mjs [--out agent/dist/sea/dsa-linux-x64] [--no-code-cache]
//
// Steps (nodejs.org/api/single-executable-applications.html): bundle the agent as ONE CommonJS file
// (Node 20's SEA runs CommonJS only; bundle.mjs --format cjs), write the preparation blob with
// `node --experimental-sea-config`, copy the node binary, inject the blob with postject. The result
// runs on machines with the same OS, architecture and C library as the node binary it was made from.
// Prints a JSON summary (sizes, timings) on stdout. ADR 0006 has the figures and the limits.
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAgent } from './bundle.mjs';

const AGENT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(AGENT, '..');
/** The fuse Node's binaries carry for SEA (documented, fixed). */
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export async function buildSea({ out = join(AGENT, 'dist', 'sea', `dsa-${process.platform}-${process.arch}`), codeCache = true } = {}) {
  const started = Date.now();
  const bundle = await buildAgent({ format: 'cjs' });
  const dir = dirname(out);
  const main = join(AGENT, 'dist', 'sea', 'dsa.cjs');
  const blob = join(dir, 'sea-prep.blob');
  const config = join(dir, 'sea-config.json');
  // useCodeCache: V8's compiled code for the main script goes into the blob, so start-up skips most of
  // parsing the 19 MB script. Only valid for the exact node binary that wrote it (the one copied below).
  await writeFile(config, JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, useCodeCache: codeCache }, null, 2));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  await rm(out, { force: true });
  await copyFile(process.execPath, out);
  await chmod(out, 0o755);
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  execFileSync(process.execPath, [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE], { stdio: ['ignore', 'ignore', 'inherit'] });
  const summary = {
    out: relative(REPO, out),
    bytes: (await stat(out)).size,
    nodeBytes: (await stat(process.execPath)).size,
    blobBytes: (await stat(blob)).size,
    scriptBytes: bundle.bytes,
    codeCache,
    node: process.version,
    ms: Date.now() - started,
    build: bundle.build,
  };
  await Promise.all([rm(blob, { force: true }), rm(config, { force: true })]);
  return summary;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'no-code-cache': { type: 'boolean', default: false } } });
  const summary = await buildSea({ ...(values.out ? { out: resolve(values.out) } : {}), codeCache: !values['no-code-cache'] });
  process.stdout.write(JSON.stringify(summary) + '\n');
}
