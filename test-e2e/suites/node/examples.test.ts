// Full-node tier: every DevSpace-style project in examples/ deploys with the real CLI and becomes Ready
// with running pods, then `dsa down` removes it.
//
// Each example is copied to a temp folder (same files, so the same build contexts) and its devspace.yaml
// files (dependencies included) get this cluster's values as variable defaults: the registry the
// in-cluster builds push to, and the local copies of the public base images the examples name
// (node:*, busybox:*; the harness mirrors them into its registry). Nothing else changes: the examples
// already mark their registry as plain HTTP (kaniko.insecure).
//
// Env contract: eval "$(make -s cluster-env)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { DEVSESSION, GROUP, IMAGEBUILD, VERSION, type DevSession } from '@dsa/api';
import { buildOperator, createLogger, loadConfig } from '@dsa/operator';
import { REPO_ROOT, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, scopeArgs, waitFor, type RunResult, type TestNamespace } from '../../lib/index.js';
import { grantDeployer } from '../../lib/tenant.js';

jest.setTimeout(900_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage', 'nodeImage');
const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');
const EXAMPLES = path.join(REPO_ROOT, 'examples');
const examples = (await readdir(EXAMPLES, { withFileTypes: true })).filter((d) => d.isDirectory() && existsSync(path.join(EXAMPLES, d.name, 'devspace.yaml'))).map((d) => d.name).sort();

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ns: TestNamespace;
let work: string;
let stopOperator: (() => Promise<void>) | undefined;
const timings: Record<string, number> = {};

/** This cluster's stand-in for a public image an example names. */
function localImage(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (/^node:/.test(value)) return env.nodeImage;
  if (/^busybox:/.test(value)) return env.testImage;
  if (/^localhost:5000$/.test(value)) return env.registry;
  return value;
}

/** The variable defaults of a devspace.yaml (v2beta1 map or v1beta list), pointed at this cluster. */
function localize(doc: Record<string, unknown>): Record<string, unknown> {
  const vars = doc.vars;
  if (Array.isArray(vars)) for (const v of vars as Array<Record<string, unknown>>) v.default = localImage(v.default);
  else if (vars && typeof vars === 'object') {
    for (const [k, v] of Object.entries(vars as Record<string, unknown>)) {
      if (v && typeof v === 'object') (v as Record<string, unknown>).default = localImage((v as Record<string, unknown>).default);
      else (vars as Record<string, unknown>)[k] = localImage(v);
    }
  }
  return doc;
}

async function derive(name: string): Promise<string> {
  const dir = path.join(work, name);
  await cp(path.join(EXAMPLES, name), dir, { recursive: true });
  const configs: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.')) await walk(path.join(d, e.name));
      else if (e.name === 'devspace.yaml') configs.push(path.join(d, e.name));
    }
  };
  await walk(dir);
  for (const file of configs) await writeFile(file, YAML.stringify(localize(YAML.parse(await readFile(file, 'utf8')) as Record<string, unknown>)));
  return dir;
}

function dsa(dir: string, args: string[], timeoutMs = 600_000): Promise<RunResult> {
  // The process environment goes through (DSA_REGISTRY, DSA_TEST_IMAGE from the harness), except a BASE_IMAGE of the caller's.
  return run(process.execPath, [DSA, '-n', ns.name, '--no-color', ...args], { cwd: dir, env: { KUBECONFIG: env.kubeconfig, BASE_IMAGE: undefined }, timeoutMs, allowFailure: true });
}
const show = (r: RunResult) => `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

beforeAll(async () => {
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-examples');
  // The operator deploys and builds as the namespace's deployer ServiceAccount (tenant confinement).
  await grantDeployer(kc, ns.name);
  work = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-examples-'));
  const cfg = loadConfig({ argv: ['--leader-elect=false', '--metrics-bind-address=0', `--watch-namespace=${ns.name}`, ...scopeArgs(), `--kaniko-image=${env.kanikoImage}`, `--helper-image=${env.testImage}`], env: {} });
  const { manager } = buildOperator(cfg, { kc, log: createLogger({ level: 'fatal' }), env: { POD_NAME: `e2e-examples-${ns.name}` } });
  const exited = manager.start();
  stopOperator = async () => {
    await manager.stop();
    await exited;
  };
});

afterAll(async () => {
  console.log(`examples deploy timings (s): ${JSON.stringify(timings)}`);
  await stopOperator?.();
  // The operator is stopped: nothing would remove the sessions' finalizers, and the namespace would stay Terminating.
  await ns?.cleanup({ stripFinalizers: [{ group: GROUP, version: VERSION, plural: DEVSESSION.plural }, { group: GROUP, version: VERSION, plural: IMAGEBUILD.plural }] });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('examples/', () => {
  test('there are examples to deploy', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  test.each(examples)('%s deploys, becomes Ready with running pods, and dsa down removes it', async (name) => {
    const dir = await derive(name);
    const t0 = Date.now();
    const r = await dsa(dir, ['deploy', '--timeout', '10m']);
    timings[name] = (Date.now() - t0) / 1000;
    if (r.code !== 0) throw new Error(show(r));
    const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns.name })) as { items: DevSession[] };
    expect(list.items.length).toBeGreaterThan(0);
    for (const s of list.items) expect({ session: s.metadata.name, phase: s.status?.phase }).toEqual({ session: s.metadata.name, phase: 'Ready' });
    // Every table row says Ready.
    for (const line of r.stdout.trim().split('\n').slice(1)) expect(line).toMatch(/^\S+\s+\S+\s+Ready\s/);
    const pods = (await core.listNamespacedPod({ namespace: ns.name })).items.filter((p) => !p.metadata?.labels?.['dsa.dev/imagebuild']);
    expect(pods.length).toBeGreaterThan(0);
    for (const p of pods) expect({ pod: p.metadata?.name, phase: p.status?.phase }).toEqual({ pod: p.metadata?.name, phase: 'Running' });
    // And dsa analyze agrees.
    const a = await dsa(dir, ['analyze'], 120_000);
    if (a.code !== 0) throw new Error(show(a));

    const down = await dsa(dir, ['down', '--dependencies'], 300_000);
    if (down.code !== 0) throw new Error(show(down));
    await waitFor(`${name}'s pods to be gone`, async () => (await core.listNamespacedPod({ namespace: ns.name })).items.filter((p) => !p.metadata?.labels?.['dsa.dev/imagebuild']).length === 0, { timeoutMs: 180_000, intervalMs: 1000 });
  });
});
