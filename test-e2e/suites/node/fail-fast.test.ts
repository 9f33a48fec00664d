// Full-node tier: `dsa deploy` stops as soon as a rollout cannot succeed without a change, and says why
// (what `dsa analyze` would say about the failing pod, with the container's last log lines):
//
//   a crash-looping container (within a minute, with its last words and exit code) · an image the node
//   cannot pull (the registry's reason) · a pod no node fits (the scheduler's reason) · a registry that
//   speaks plain HTTP (the hint names the operator's `registries.insecure` chart value) · and, once fixed,
//   the new rollout is not stopped by the old ReplicaSet's crash-looping pod.
//
// The real CLI (node agent/bin/dsa.js) and an in-process operator watching only this file's namespace.
// Env contract: eval "$(make -s cluster-env)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DSA_RESOURCES, REPO_ROOT, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, type RunResult, type TestNamespace } from '../../lib/index.js';
import { grantDeployer } from '../../lib/tenant.js';
import { startOperator } from './cli-project.test-util.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');
const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let work: string;
let stopOperator: (() => Promise<void>) | undefined;
const timings: Record<string, number> = {};

/** A v2beta1 project with one Deployment `name` running `command` in the test image. */
async function project(name: string, pod: { command?: string; image?: string; resources?: string }, extra = ''): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  const yaml = `version: v2beta1
name: ${name}
deployments:
  ${name}:
    kubectl:
      inlineManifest: |-
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: ${name}}
        spec:
          selector: {matchLabels: {app: ${name}}}
          template:
            metadata: {labels: {app: ${name}}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
                - name: app
                  image: ${pod.image ?? env.testImage}
                  command: ["sh", "-c", ${JSON.stringify(pod.command ?? 'sleep 3600')}]${pod.resources ? `\n                  resources: ${pod.resources}` : ''}
${extra}`;
  await writeFile(path.join(dir, 'devspace.yaml'), yaml);
  return dir;
}

function dsa(dir: string, args: string[], timeoutMs = 300_000): Promise<RunResult> {
  return run(process.execPath, [DSA, '-n', ns.name, '--no-color', ...args], { cwd: dir, env: { KUBECONFIG: env.kubeconfig }, timeoutMs, allowFailure: true });
}

function show(r: RunResult): string {
  return `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

beforeAll(async () => {
  kc = kubeFromEnv();
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-failfast');
  // The operator deploys and builds as the namespace's deployer ServiceAccount (tenant confinement).
  await grantDeployer(kc, ns.name);
  work = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-failfast-'));
  // No --insecure-registries: one test here is about a plain-HTTP registry the operator was NOT told about.
  stopOperator = startOperator(kc, ns.name, { kanikoImage: env.kanikoImage, testImage: env.testImage }, { logLevel: 'fatal' });
});

afterAll(async () => {
  console.log(`fail-fast timings (s): ${JSON.stringify(timings)}`);
  await stopOperator?.();
  // The operator is stopped: nothing would remove the sessions' finalizers, and the namespace would stay Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('dsa deploy fails fast and explains', () => {
  test('a crash-looping container: exit 1 within a minute, with its exit code and last log lines', async () => {
    const dir = await project('crasher', { command: 'echo "starting api v1.2"; echo "fatal: cannot connect to database postgres:5432" >&2; exit 3' });
    const t0 = Date.now();
    const r = await dsa(dir, ['deploy', '--timeout', '10m']);
    timings.crashLoop = (Date.now() - t0) / 1000;
    expect(r.code).toBe(1);
    expect(timings.crashLoop).toBeLessThan(60);
    expect(r.stderr).toMatch(/^dsa deploy: the rollout cannot succeed: Pod [^ ]+\/crasher-[a-z0-9-]+ \(container app\): crash loop: exit code 3, \d+ restarts? \(.*exits with code 3/m);
    expect(r.stderr).toContain('error: the rollout cannot succeed without a change:');
    expect(r.stderr).toMatch(/\| fatal: cannot connect to database postgres:5432/);
    expect(r.stderr).toMatch(/\| starting api v1\.2/);
    // Never a silent wait: what was awaited was said.
    expect(r.stderr).toMatch(/deploying… .*\(pod crasher-[a-z0-9-]+\/app: /);
  });

  test('fixed: the new rollout is not stopped by the old ReplicaSet\'s crash loop', async () => {
    const dir = await project('crasher', { command: 'echo "starting api v1.3"; sleep 3600' });
    const r = await dsa(dir, ['deploy', '--timeout', '5m']);
    if (r.code !== 0) throw new Error(show(r));
    expect(r.stdout).toMatch(/^crasher\s+\S+\s+Ready/m);
  });

  test('an image the node cannot pull: the registry\'s reason, at once', async () => {
    const dir = await project('puller', { image: `${env.registry}/dsa/does-not-exist:v1` });
    const t0 = Date.now();
    const r = await dsa(dir, ['deploy', '--timeout', '10m']);
    timings.pull = (Date.now() - t0) / 1000;
    expect(r.code).toBe(1);
    expect(timings.pull).toBeLessThan(60);
    expect(r.stderr).toContain(`cannot pull image ${env.registry}/dsa/does-not-exist:v1`);
    expect(r.stderr).toContain(`registry: ${env.registry}/dsa/does-not-exist:v1: not found`);
    expect(r.stderr).toMatch(/is not in the registry: check the image name and tag/);
  });

  test('a pod no node fits: the scheduler\'s reason', async () => {
    const dir = await project('greedy', { resources: '{requests: {cpu: "64"}}' });
    const t0 = Date.now();
    const r = await dsa(dir, ['deploy', '--timeout', '10m']);
    timings.unschedulable = (Date.now() - t0) / 1000;
    expect(r.code).toBe(1);
    expect(timings.unschedulable).toBeLessThan(60);
    expect(r.stderr).toMatch(/cannot be scheduled: 0\/\d+ nodes are available: \d+ Insufficient cpu/);
    expect(r.stderr).toContain("no node has enough free cpu for the pod's requests (app: cpu 64)");
  });

  test('a registry that speaks plain HTTP, without kaniko.insecure: the hint names registries.insecure', async () => {
    const dir = await project('plainhttp', { image: `${env.registry}/e2e/plainhttp` }, `images:\n  app:\n    image: ${env.registry}/e2e/plainhttp\n    dockerfile: ./Dockerfile\n`);
    await writeFile(path.join(dir, 'Dockerfile'), `FROM ${env.testImage}\nCMD ["sleep", "3600"]\n`);
    const t0 = Date.now();
    const r = await dsa(dir, ['deploy', '--timeout', '10m']);
    timings.plainHttp = (Date.now() - t0) / 1000;
    expect(r.code).toBe(1);
    expect(timings.plainHttp).toBeLessThan(90);
    expect(r.stderr).toContain(`${env.registry} speaks plain HTTP, not HTTPS: list it in the operator's chart value registries.insecure`);
    expect(r.stderr).toContain('images.app.kaniko.insecure: true');
  });

  test('--timeout overrides the overall limit (a pod that never gets ready is not a reason to stop early)', async () => {
    const dir = await project('never-ready', { command: 'sleep 3600', resources: '{}\n                  readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}' });
    const t0 = Date.now();
    const r = await dsa(dir, ['deploy', '--timeout', '8s']);
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.stderr).toMatch(/^dsa deploy: timed out after 8s waiting for DevSession never-ready to be ready \(last: deploying… .*\)/m);
  });
});
