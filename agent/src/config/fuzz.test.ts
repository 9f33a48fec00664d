// Property/fuzz test: thousands of random and mutated documents built from DevSpace's examples.
// Property: loadProject resolves, or rejects with a ConfigError whose message is one line
// `file:line:col: …` — never another exception type, never an "internal error".
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { ConfigError } from './errors.js';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';

// DevSpace's examples, vendored (agent/test/fixtures/devspace-examples/README.md); DSA_DEVSPACE_EXAMPLES overrides.
const DIR = process.env.DSA_DEVSPACE_EXAMPLES ?? fileURLToPath(new URL('../../test/fixtures/devspace-examples', import.meta.url));
const EXAMPLES = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(path.join(DIR, f), 'utf8'));
const CONFIG = '/fz/project/devspace.yaml';
const ONE_LINE = /^[^:\n]+:\d+:\d+: [^\n]+$/;

const stats = { ok: 0, configErrors: 0 };

async function check(text: string, opts: { profiles?: string[]; checkFiles?: boolean } = {}): Promise<void> {
  const fs = memFileReader({
    [CONFIG]: text,
    '/fz/project/Dockerfile': 'FROM scratch',
    '/fz/project/chart/Chart.yaml': 'name: c',
    '/fz/project/kube/a.yaml': 'kind: x',
    '/fz/project/dependency1/devspace.yaml': 'version: v2beta1\nname: dep1\n',
    '/fz/project/dependency2/devspace.yaml': 'version: v1beta2\ndependencies:\n- source: {path: ../dependency1}\n',
  });
  try {
    await loadProject({ configPath: CONFIG, fs, env: { SELECT: 'deployment-1' }, isTTY: false, checkFiles: opts.checkFiles ?? false, profiles: opts.profiles ?? [], username: 'fuzz', gitCommit: async () => 'abc1234', vars: { IMAGE: 'nginx' } });
    stats.ok++;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`not a ConfigError: ${String(e)}\n--- document ---\n${text}`);
    if (!ONE_LINE.test(e.message) || e.reason.startsWith('internal error')) throw new Error(`bad message: ${JSON.stringify(e.message)}\n--- document ---\n${text}`);
    stats.configErrors++;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every container path in a document (for picking where to mutate). */
function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function getAt(v: Json, p: Array<string | number>): Json | undefined {
  let cur: Json | undefined = v;
  for (const s of p) cur = cur && typeof cur === 'object' ? (cur as Record<string | number, Json>)[s] : undefined;
  return cur;
}

function setAt(root: Json, p: Array<string | number>, value: Json | undefined): Json {
  if (p.length === 0) return value ?? null;
  const parent = getAt(root, p.slice(0, -1));
  const last = p[p.length - 1] as string | number;
  if (parent && typeof parent === 'object') {
    if (value === undefined) {
      if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
      else delete (parent as Record<string, Json>)[last as string];
    } else (parent as Record<string | number, Json>)[last] = value;
  }
  return root;
}

const interesting = fc.constantFrom<Json>(
  '${SELECT}', '$!{IMAGE}', '${UNDEFINED_VAR}', '${DEVSPACE_RANDOM}', '${runtime.images.x.image}', '${}', '$${X}',
  '8080', '8080:80', '80a', '0', '70000', '1:2:3', ':', '', 'v1beta9', 'v2beta1', 'v1beta1', 'v9',
  './chart', '../..', '/abs', 'kube/*', '**/x', '[', 'all', 'mirrorLocal', 'true', 'null', '__proto__', 'constructor',
  0, -1, 1.5, 65535, 65536, true, false, null, [], {}, [null], { '': 1 }, { __proto__: 1 } as unknown as Json,
);
const value: fc.Arbitrary<Json> = fc.oneof(interesting, fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>, fc.string({ maxLength: 12 }));
const knownKeys = fc.constantFrom('image', 'images', 'deployments', 'dev', 'helm', 'kubectl', 'component', 'chart', 'name', 'path', 'ports', 'sync', 'forward', 'port', 'vars', 'profiles', 'patches', 'op', 'value', 'parent', 'replace', 'merge', 'source', 'git', 'imageSelector', 'labelSelector', 'containers', 'terminal', 'command', 'tags', 'tag', 'build', 'kaniko', 'docker', 'custom', 'dependencies', 'hooks', 'when', 'events', 'localSubPath', 'containerPath', 'selector', 'selectors', 'overrideImages', 'interactive', 'imports', 'activation', 'manifests', 'inlineManifest', 'version', 'password', 'validationPattern', 'default', 'options', '<<', 'bogus');

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), key: fc.oneof(knownKeys, fc.string({ maxLength: 8 })), value }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
);

interface Mutation {
  kind: 'delete' | 'set' | 'insert' | 'swap';
  at: number;
  value?: Json;
  key?: string;
  other?: number;
}

function mutate(doc: Json, muts: Mutation[]): Json {
  let root = doc;
  for (const m of muts) {
    const all = paths(root);
    const p = all[m.at % all.length] as Array<string | number>;
    if (m.kind === 'delete') root = setAt(root, p, undefined);
    else if (m.kind === 'set') root = setAt(root, p, structuredClone(m.value ?? null));
    else if (m.kind === 'insert') {
      const target = getAt(root, p);
      if (target && typeof target === 'object' && !Array.isArray(target)) Object.defineProperty(target, m.key ?? 'x', { value: structuredClone(m.value ?? null), enumerable: true, writable: true, configurable: true });
      else if (Array.isArray(target)) target.push(structuredClone(m.value ?? null));
      else root = setAt(root, p, { [m.key ?? 'x']: structuredClone(m.value ?? null) });
    } else {
      const q = all[(m.other ?? 0) % all.length] as Array<string | number>;
      const a = structuredClone(getAt(root, p) ?? null);
      const b = structuredClone(getAt(root, q) ?? null);
      root = setAt(root, p, b);
      root = setAt(root, q, a);
    }
  }
  return root;
}

const exampleIndex = fc.nat({ max: EXAMPLES.length - 1 });
const profilesArb = fc.array(fc.constantFrom('dev-service1', 'dev-service2-only', 'nope'), { maxLength: 2 });

describe('loader fuzz', () => {
  it('mutated examples, truncated text, character noise and random YAML never crash', async () => {
    const started = Date.now();
    let runs = 0;
    // 1. Structural mutations of the 15 examples (re-serialized YAML).
    await fc.assert(
      fc.asyncProperty(exampleIndex, fc.array(mutation, { minLength: 1, maxLength: 4 }), profilesArb, fc.boolean(), async (i, muts, profiles, checkFiles) => {
        runs++;
        const doc = mutate(parse(EXAMPLES[i] as string) as Json, muts as Mutation[]);
        await check(stringify(doc), { profiles, checkFiles });
      }),
      { numRuns: 2000 },
    );
    // 2. Truncated text (cuts anywhere, including inside quotes and flow collections).
    await fc.assert(
      fc.asyncProperty(exampleIndex, fc.double({ min: 0, max: 1, noNaN: true }), async (i, f) => {
        runs++;
        const t = EXAMPLES[i] as string;
        await check(t.slice(0, Math.floor(t.length * f)));
      }),
      { numRuns: 400 },
    );
    // 3. Character-level noise: insert/delete/replace characters at random offsets.
    const noise = fc.constantFrom(':', '-', ' ', '\n', '{', '}', '[', ']', '"', "'", '#', '&a', '*a', '!', '|', '>', '\t', '$', '{{', 'x');
    await fc.assert(
      fc.asyncProperty(exampleIndex, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), noise), { minLength: 1, maxLength: 5 }), async (i, edits) => {
        runs++;
        let t = EXAMPLES[i] as string;
        for (const [at, op, ch] of edits) {
          const k = at % (t.length + 1);
          t = op === 0 ? t.slice(0, k) + ch + t.slice(k) : op === 1 ? t.slice(0, k) + t.slice(k + 1) : t.slice(0, k) + ch + t.slice(k + 1);
        }
        await check(t);
      }),
      { numRuns: 400 },
    );
    // 4. Random YAML-ish text, and random documents with a valid version.
    const yamlish = fc.string({ maxLength: 200, unit: fc.constantFrom('a', 'b', ':', ' ', '\n', '-', '[', ']', '{', '}', '"', '&', '*', '!', '#', '$', '|', '>', '1', 'version: v2beta1\n', 'version: v1beta3\n', 'images:\n', '  ') });
    await fc.assert(
      fc.asyncProperty(fc.oneof(yamlish, fc.string({ maxLength: 100 })), async (t) => {
        runs++;
        await check(t);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('v1beta2', 'v1beta3', 'v1beta9', 'v1beta11', 'v2beta1'), fc.dictionary(knownKeys, value, { maxKeys: 6 }), async (version, rest) => {
        runs++;
        await check(stringify({ version, ...rest }));
      }),
      { numRuns: 400 },
    );
    const secs = (Date.now() - started) / 1000;
    console.log(`loader fuzz: ${runs} documents in ${secs.toFixed(1)} s (${stats.ok} loaded, ${stats.configErrors} clean ConfigErrors)`);
    expect(runs).toBe(3500);
    // Both outcomes must actually occur, or the generators are broken.
    expect(stats.ok).toBeGreaterThan(100);
    expect(stats.configErrors).toBeGreaterThan(500);
  }, 120_000);
});
