// Full-node tier: `dsa analyze` on a real namespace, through the real CLI, with an in-process operator:
//
//   a crash-looping Deployment → exit 3, the pod with its exit code, last log lines and what to do
//   (text, and the AnalyzeReport envelope with -o json / -o yaml) · a failed in-cluster build → the
//   ImageBuild with kaniko's log and the DevSession's stall · the same namespace cleaned up and healthy →
//   exit 0, "No problems found".
//
// Env contract: eval "$(make -s cluster-env)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { DSA_RESOURCES, REPO_ROOT, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, waitFor, type RunResult, type TestNamespace } from '../../lib/index.js';
import { grantDeployer } from '../../lib/tenant.js';
import { startOperator } from './cli-project.test-util.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');
const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let work: string;
let stopOperator: (() => Promise<void>) | undefined;

interface Report {
  kind: string;
  namespace: string;
  healthy: boolean;
  counts: { errors: number; warnings: number; pods: number };
  problems: Array<{ kind: string; severity: string; object: { kind: string; name: string }; container?: string; exitCode?: number; logs?: string[]; hint: string; summary: string }>;
}

async function project(name: string, command: string, images = ''): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'devspace.yaml'),
    `version: v2beta1
name: ${name}
${images}deployments:
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
                  image: ${env.testImage}
                  command: ["sh", "-c", ${JSON.stringify(command)}]
`,
  );
  return dir;
}

function dsa(dir: string, args: string[], timeoutMs = 300_000): Promise<RunResult> {
  return run(process.execPath, [DSA, '-n', ns.name, '--no-color', ...args], { cwd: dir, env: { KUBECONFIG: env.kubeconfig }, timeoutMs, allowFailure: true });
}
const show = (r: RunResult) => `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

beforeAll(async () => {
  kc = kubeFromEnv();
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-analyze');
  // The operator deploys and builds as the namespace's deployer ServiceAccount (tenant confinement).
  await grantDeployer(kc, ns.name);
  work = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-analyze-'));
  stopOperator = startOperator(kc, ns.name, env, { logLevel: 'fatal' });
});

afterAll(async () => {
  await stopOperator?.();
  // The operator is stopped: nothing would remove the sessions' finalizers, and the namespace would stay Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('dsa analyze', () => {
  let crasher: string;

  test('a crash loop: exit 3, the pod, its exit code, its last words and what to do', async () => {
    crasher = await project('crasher', 'echo "loading config"; echo "panic: missing DATABASE_URL" >&2; exit 2');
    const deploy = await dsa(crasher, ['deploy']);
    expect(deploy.code).toBe(1);
    const r = await dsa(crasher, ['analyze']);
    if (r.code !== 3) throw new Error(show(r));
    expect(r.stdout).toMatch(/^Pod [^\n]+\/crasher-[a-z0-9-]+\n {2}✗ app: crash loop: exit code 2, \d+ restarts?\n/m);
    expect(r.stdout).toMatch(/\| panic: missing DATABASE_URL/);
    expect(r.stdout).toMatch(/→ the container exits with code 2 soon after starting/);
    expect(r.stdout).toMatch(/^DevSession [^\n]+\/crasher\n {2}! deploying: /m);
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(new RegExp(`^1 problem in namespace ${ns.name} \\(1 pod, session crasher\\), and 1 warning\\.$`));
  });

  test('-o json and -o yaml: the AnalyzeReport envelope, same exit code', async () => {
    const j = await dsa(crasher, ['analyze', '-o', 'json']);
    expect(j.code).toBe(3);
    const report = JSON.parse(j.stdout) as Report;
    expect(report).toMatchObject({ kind: 'AnalyzeReport', namespace: ns.name, healthy: false, counts: { errors: 1, warnings: 1, pods: 1 } });
    const crash = report.problems.find((p) => p.kind === 'CrashLoop');
    expect(crash).toMatchObject({ severity: 'error', container: 'app', exitCode: 2, object: { kind: 'Pod' } });
    expect(crash?.logs).toContain('panic: missing DATABASE_URL');
    const y = await dsa(crasher, ['analyze', '-o', 'yaml']);
    expect(y.code).toBe(3);
    expect((YAML.parse(y.stdout) as Report).problems.map((p) => p.kind)).toEqual(report.problems.map((p) => p.kind));
  });

  test('a failed in-cluster build: the ImageBuild with kaniko\'s log, the session\'s stall', async () => {
    const dir = await project('broken-build', 'sleep 3600', `images:\n  app:\n    image: ${env.registry}/e2e/analyze-broken\n    dockerfile: ./Dockerfile\n    kaniko: {insecure: true}\n`);
    await writeFile(path.join(dir, 'Dockerfile'), `FROM ${env.testImage}\nRUN echo "compiling..." && echo "error: missing semicolon" && false\n`);
    const deploy = await dsa(dir, ['deploy']);
    expect(deploy.code).toBe(1);
    expect(deploy.stderr).toContain('DevSession broken-build failed: image app failed to build');
    const r = await dsa(dir, ['analyze', '-o', 'json']);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as Report;
    const build = report.problems.find((p) => p.kind === 'BuildFailed');
    expect(build).toMatchObject({ object: { kind: 'ImageBuild', name: 'broken-build-app' } });
    expect(build?.logs?.join('\n')).toContain('error: missing semicolon');
    expect(report.problems.find((p) => p.kind === 'SessionFailed')).toMatchObject({ object: { kind: 'DevSession', name: 'broken-build' } });
    const down = await dsa(dir, ['down'], 180_000);
    expect(down.code).toBe(0);
  });

  test('the namespace cleaned up and a healthy session deployed: exit 0', async () => {
    const down = await dsa(crasher, ['down'], 180_000);
    expect(down.code).toBe(0);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await waitFor('the crash-looping pods to be gone', async () => (await core.listNamespacedPod({ namespace: ns.name })).items.length === 0, { timeoutMs: 120_000, intervalMs: 1000 });
    const healthy = await project('healthy', 'echo ok; sleep 3600');
    const deploy = await dsa(healthy, ['deploy']);
    if (deploy.code !== 0) throw new Error(show(deploy));
    const r = await dsa(healthy, ['analyze', '--wait', '--timeout', '60s']);
    if (r.code !== 0) throw new Error(show(r));
    expect(r.stdout).toBe(`No problems found in namespace ${ns.name} (1 pod, session healthy). dsa logs --pick shows a container's log.\n`);
  });
});
