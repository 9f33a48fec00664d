#!/usr/bin/env node
// Bundles the agent (agent/src/main.ts, @dsa/api and every npm dependency) into plain JavaScript, so the
// published package needs nothing at run time but Node: no tsx, no node_modules.
//
//   node agent/build/bundle.mjs                 → agent/dist/bundle/dsa.mjs + chunks/*.mjs (ESM, code-split)
//   node agent/build/bundle.mjs --format cjs    → agent/dist/sea/dsa.cjs (one CommonJS file, for the single executable)
//   options: --out <dir or file>, --metafile (writes <out>.meta.json, esbuild's metafile)
//
// The output replaces the previous one in one rename, so a `dsa` running from agent/dist (another
// test, the benchmark) never sees half a bundle.
//
// Start-up is the point (docs/cli.md, bench/cli-bench.ts): each `await import()` in the agent becomes a
// chunk loaded only by the commands that need it, api/ is marked free of side effects so a chunk keeps
// only the parts of @dsa/api it uses, and the DevSession/ImageBuild validators are Ajv standalone code
// generated here (validators.mjs) instead of being compiled on every run.
// Prints a JSON summary on stdout.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { facadeSource, scanClientNodeNames } from './client-node-facade.mjs';
import { generateValidatorShim } from './validators.mjs';
import { esmRequireBanner } from '../../build/esm-banner.mjs';

const AGENT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(AGENT, '..');
const API_SRC = join(REPO, 'api', 'src') + sep;
const VALIDATE_TS = join(REPO, 'api', 'src', 'v1alpha1', 'validate.ts');

// commander, yaml's CJS parts and client-node's need a real require (build/esm-banner.mjs).
const ESM_BANNER = esmRequireBanner();

/** The commit a build comes from: DSA_COMMIT, else git (with -dirty), else ''. */
function commitOf() {
  if (process.env.DSA_COMMIT !== undefined) return process.env.DSA_COMMIT;
  try {
    const git = (args) => execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git(['rev-parse', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) === '' ? head : `${head}-dirty`;
  } catch {
    return '';
  }
}

/** Reproducible when SOURCE_DATE_EPOCH is set (reproducible-builds.org). */
function buildDate() {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** TypeScript modules of the repository, loaded through tsx (a devDependency: build time only). */
async function loadSources() {
  const { tsImport } = await import('tsx/esm/api');
  const [api, clusterVersion] = await Promise.all([
    tsImport(pathToFileURL(join(REPO, 'api/src/index.ts')).href, import.meta.url),
    tsImport(pathToFileURL(join(AGENT, 'src/actions/cluster-version.ts')).href, import.meta.url),
  ]);
  return { api, clusterVersion };
}

/**
 * Optional native add-ons dependencies try to load and fall back from when absent: ws's bufferutil and
 * utf-8-validate, node-fetch's encoding, and ssh2's (dockerode → docker-modem → ssh2, for ssh:// Docker
 * hosts) cpu-features and sshcrypto.node. The bundle ships none of them: each resolves to a module that
 * throws "not found" as a missing package would, so the fallback runs without a file lookup, and
 * without the warning a single executable prints for any require() of a non-built-in.
 */
const OPTIONAL_NATIVE = /^(bufferutil|utf-8-validate|encoding|cpu-features)$|\.node$/;

/** esbuild plugin: the virtual entry, absent optional add-ons, the client-node facade, api/ without side effects, and the precompiled validators. */
export function agentPlugin({ entry, shimPath, clientNodeFacade }) {
  return {
    name: 'dsa-agent',
    setup(b) {
      if (clientNodeFacade) b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => (args.importer === clientNodeFacade ? undefined : { path: clientNodeFacade }));
      b.onResolve({ filter: OPTIONAL_NATIVE }, (args) => ({ path: args.path, namespace: 'dsa-absent' }));
      b.onLoad({ filter: /.*/, namespace: 'dsa-absent' }, (args) => ({
        contents: `const e = new Error(${JSON.stringify(`Cannot find module '${args.path}' (not bundled with dsa)`)}); e.code = 'MODULE_NOT_FOUND'; throw e;`,
        loader: 'js',
      }));
      b.onResolve({ filter: /^dsa:entry$/ }, () => ({ path: 'entry', namespace: 'dsa' }));
      b.onLoad({ filter: /.*/, namespace: 'dsa' }, () => ({ contents: entry, loader: 'ts', resolveDir: join(AGENT, 'src') }));
      b.onResolve({ filter: /^ajv(\/|$)/ }, (args) => {
        if (args.importer === VALIDATE_TS && args.path === 'ajv') return { path: shimPath };
        // The shim's imports (Ajv's runtime helpers, the real Ajv it falls back to) resolve as api's
        // would, wherever the shim was written.
        if (args.importer === shimPath) return b.resolve(args.path, { kind: args.kind, resolveDir: dirname(VALIDATE_TS), pluginData: { dsaResolved: true } });
        return undefined;
      });
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.dsaResolved) return undefined;
        const fromApi = args.importer.startsWith(API_SRC) || args.path.startsWith('@dsa/api');
        if (!fromApi) return undefined;
        const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { dsaResolved: true } });
        if (r.errors.length) return { errors: r.errors };
        // @dsa/api is declarations and pure functions (no registrations at import time), so an
        // import of `API_VERSION` need not evaluate the TypeBox schemas or Ajv.
        return r.path.startsWith(API_SRC) ? { ...r, sideEffects: false } : r;
      });
    },
  };
}

/** Generate the precompiled-validator shim (validators.mjs) for `api` into dir; returns its path. */
export async function writeValidatorShim(dir, api) {
  await mkdir(dir, { recursive: true });
  const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
  const { _ } = await import('ajv');
  const shimPath = join(dir, 'ajv-precompiled.mjs');
  await writeFile(shimPath, generateValidatorShim(api, standaloneCode, _));
  return shimPath;
}

/**
 * Build the agent. `format: 'esm'` is the npm package (code-split); `format: 'cjs'` is one CommonJS
 * file for Node's single-executable applications, which in Node 20 run CommonJS only.
 */
export async function buildAgent({ format = 'esm', out = join(AGENT, 'dist', format === 'esm' ? 'bundle' : 'sea/dsa.cjs'), metafile = false } = {}) {
  const started = Date.now();
  const pkg = JSON.parse(await readFile(join(AGENT, 'package.json'), 'utf8'));
  const { api, clusterVersion } = await loadSources();
  const info = {
    version: pkg.version,
    commit: commitOf(),
    date: buildDate(),
    flavor: format === 'cjs' ? 'sea' : 'bundle',
    apiDigest: clusterVersion.computeApiDigest(api.generateCrds(), api),
  };

  const esm = format === 'esm';
  const clientNodeNames = await scanClientNodeNames([join(AGENT, 'src'), API_SRC], REPO);
  // Everything goes to a private folder first: two builds at once (parallel tests) never share files.
  await mkdir(dirname(out), { recursive: true });
  const work = await mkdtemp(join(dirname(out), `.${basename(out)}.build-`));
  const main = JSON.stringify(join(AGENT, 'src', 'main.ts'));
  const built = join(work, 'out');
  let result;
  try {
    const gen = join(work, 'gen');
    const shimPath = await writeValidatorShim(gen, api);
    const clientNodeFacade = join(gen, 'client-node.mjs');
    await writeFile(clientNodeFacade, facadeSource(clientNodeNames, fileURLToPath(import.meta.resolve('@kubernetes/client-node'))));
    result = await build({
      entryPoints: { dsa: 'dsa:entry' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format,
      ...(esm
        ? { outdir: built, splitting: true, chunkNames: 'chunks/[name]-[hash]', outExtension: { '.js': '.mjs' }, banner: { js: ESM_BANNER } }
        : { outfile: join(built, 'dsa.cjs'), logOverride: { 'empty-import-meta': 'silent' } }),
      plugins: [agentPlugin({ entry: esm ? `import { runMain } from ${main};\nawait runMain();\n` : `import { runMain } from ${main};\nvoid runMain();\n`, shimPath, clientNodeFacade })],
      define: { __DSA_BUILD__: JSON.stringify(info) },
      // Half the bytes V8 parses on every start (9.5 → 5.1 MB in all; validate ≈ 10% less CPU), while
      // identifiers, and so the function names in stack traces (-v), stay as written.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      // Optional native accelerators their users try-require and fall back from (OPTIONAL_NATIVE) are stubbed.
      metafile: true,
      logLevel: 'warning',
    });
    if (metafile) await writeFile(`${out}.meta.json`, JSON.stringify(result.metafile));
    // Swap in: rename the old output away, the new one in, then delete the old.
    const old = join(work, 'old');
    await rename(out, old).catch((e) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rename(esm ? built : join(built, 'dsa.cjs'), out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const files = Object.values(result.metafile.outputs);
  return {
    format,
    entry: relative(REPO, esm ? join(out, 'dsa.mjs') : out),
    files: files.length,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    ms: Date.now() - started,
    build: info,
    clientNode: clientNodeNames,
    warnings: result.warnings.length,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, format: { type: 'string', default: 'esm' }, metafile: { type: 'boolean', default: false } } });
  if (!['esm', 'cjs'].includes(values.format)) {
    process.stderr.write(`bundle.mjs: --format must be esm or cjs, not ${values.format}\n`);
    process.exit(2);
  }
  const summary = await buildAgent({ ...(values.out ? { out: resolve(values.out) } : {}), format: values.format, metafile: values.metafile });
  process.stdout.write(JSON.stringify(summary) + '\n');
}
