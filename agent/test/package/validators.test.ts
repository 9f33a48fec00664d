// The bundle's precompiled validators (agent/build/validators.mjs): built with the bundle's own esbuild
// plugin, api's validateDevSession/validateImageBuild must give exactly the issues the runtime-compiled
// Ajv gives (valid examples and many broken ones), without compiling a schema at run time.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { build } from 'esbuild';
import fc from 'fast-check';
import * as api from '@dsa/api';
import { agentPlugin, writeValidatorShim } from '../../build/bundle.mjs';
import { REPO_ROOT } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsa-validators-'));

/** Set `value` at a random path of `obj` (a deep copy), or delete the key when value is undefined. */
function mutate(obj: unknown, path: number[], value: unknown): unknown {
  const copy = structuredClone(obj) as Record<string, unknown>;
  let node: any = copy;
  for (let i = 0; i < path.length; i++) {
    const keys = node && typeof node === 'object' ? Object.keys(node) : [];
    if (keys.length === 0) break;
    const key = keys[path[i]! % keys.length]!;
    if (i === path.length - 1 || node[key] === null || typeof node[key] !== 'object') {
      if (value === undefined) delete node[key];
      else node[key] = value;
      break;
    }
    node = node[key];
  }
  return copy;
}

describe('precompiled validators in the bundle', () => {
  it('give the same issues as Ajv compiling at run time, and compile nothing', async () => {
    const session = api.exampleDevSession();
    const imageBuild = api.exampleImageBuild();
    const values = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.string({ maxLength: 12 }), fc.constant('2026-13-01T00:00:00Z'), fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 2 }));
    const objects: unknown[] = [session, imageBuild, {}, { kind: 'DevSession' }];
    for (const [base, seed] of [
      [session, 1],
      [imageBuild, 2],
    ] as const)
      for (const [path, value] of fc.sample(fc.tuple(fc.array(fc.nat(40), { minLength: 1, maxLength: 6 }), values), { numRuns: 150, seed })) objects.push(mutate(base, path, value));

    const shimPath = await writeValidatorShim(join(tmp, 'gen'), api);
    const entry = [
      `import { validateDevSession, validateImageBuild } from ${JSON.stringify(join(REPO_ROOT, 'api/src/index.ts'))};`,
      `import { runtimeCompiles } from ${JSON.stringify(shimPath)};`,
      `import { readFileSync } from 'node:fs';`,
      `const objects = JSON.parse(readFileSync(process.argv[2], 'utf8'));`,
      `const issues = objects.map((o) => [validateDevSession(o), validateImageBuild(o)]);`,
      `process.stdout.write(JSON.stringify({ issues, runtimeCompiles: runtimeCompiles.count }));`,
    ].join('\n');
    const outfile = join(tmp, 'check.mjs');
    await build({
      entryPoints: ['dsa:entry'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      banner: { js: "import { createRequire as __c } from 'node:module'; const require = __c(import.meta.url);" },
      plugins: [agentPlugin({ entry, shimPath })],
      logLevel: 'error',
    });
    const input = join(tmp, 'objects.json');
    writeFileSync(input, JSON.stringify(objects));
    const out = JSON.parse(execFileSync(process.execPath, [outfile, input], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as { issues: unknown[]; runtimeCompiles: number };

    const expected = (JSON.parse(JSON.stringify(objects)) as unknown[]).map((o) => [api.validateDevSession(o), api.validateImageBuild(o)]);
    expect(out.runtimeCompiles).toBe(0);
    expect(out.issues).toEqual(expected);
    // The comparison must be able to fail: the cases include invalid objects of both kinds.
    expect(expected.filter(([s]) => (s as unknown[]).length > 0).length).toBeGreaterThan(100);
    expect(expected.filter(([s]) => (s as unknown[]).length === 0).length).toBeGreaterThan(0);
  }, 120_000);
});
