#!/usr/bin/env node
// The `dsa` command.
// - Installed (npm pack / npm install -g): there is no src/ beside bin/, so it runs the bundle in
//   dist/bundle/ (agent/build/bundle.mjs), which needs nothing but Node.
// - In the repository: it runs the TypeScript sources through tsx (a devDependency), so `npx dsa`
//   works right after `npm ci` with no build step. DSA_BUNDLE=1 runs the bundle instead (benchmarks,
//   checking a build).
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node ≥ 22.1 keeps V8's compiled code between runs (start-up); absent on Node 20.
module.enableCompileCache?.();

const source = new URL('../src/main.ts', import.meta.url);
if (process.env.DSA_BUNDLE !== '1' && existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  const { runMain } = await import(source.href);
  await runMain();
} else {
  await import('../dist/bundle/dsa.mjs');
}
