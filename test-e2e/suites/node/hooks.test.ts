// Full-node tier: hooks run at DevSpace's points when the agent drives the session — locally in the
// project folder (each writing a line to a file, so the order is checked), and in a container of the
// deployed pod through exec — with an in-cluster kaniko build in between, through the real CLI and an
// in-process operator. `dsa down` runs the purge hooks around the deletion.
//
// Env contract: eval "$(make -s cluster-env)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DSA_RESOURCES, REPO_ROOT, applyCrds, createTestNamespace, kubeFromEnv, kubectl, requireEnv, run, type RunResult, type TestNamespace } from '../../lib/index.js';
import { grantDeployer } from '../../lib/tenant.js';
import { startOperator } from './cli-project.test-util.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');
const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let dir: string;
let stopOperator: (() => Promise<void>) | undefined;

const log = (line: string) => `echo "${line}" >> hooks.log`;

function dsa(args: string[], timeoutMs = 300_000): Promise<RunResult> {
  return run(process.execPath, [DSA, '-n', ns.name, '--no-color', ...args], { cwd: dir, env: { KUBECONFIG: env.kubeconfig }, timeoutMs, allowFailure: true });
}
const show = (r: RunResult) => `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

beforeAll(async () => {
  kc = kubeFromEnv();
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-hooks');
  // The operator deploys and builds as the namespace's deployer ServiceAccount (tenant confinement).
  await grantDeployer(kc, ns.name);
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-hooks-'));
  const image = `${env.registry}/e2e/hooked`;
  await writeFile(path.join(dir, 'Dockerfile'), `FROM ${env.testImage}\nRUN echo built-for-hooks > /built.txt\nCMD ["sleep", "3600"]\n`);
  await writeFile(
    path.join(dir, 'devspace.yaml'),
    `version: v2beta1
name: hooked
images:
  app:
    image: ${image}
    dockerfile: ./Dockerfile
    kaniko: {insecure: true}
deployments:
  web:
    kubectl:
      inlineManifest: |-
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: hooked}
        spec:
          selector: {matchLabels: {app: hooked}}
          template:
            metadata: {labels: {app: hooked}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: app, image: ${image}}]
hooks:
  - events: [before:build]
    command: ${JSON.stringify(log('before:build'))}
  - events: ["before:build:app"]
    command: ${JSON.stringify(log('before:build:app $DEVSPACE_HOOK_IMAGE_CONFIG_NAME'))}
  - events: ["after:build:app"]
    command: ${JSON.stringify(log('after:build:app $DEVSPACE_HOOK_IMAGE_NAME'))}
  - events: [after:build]
    command: ${JSON.stringify(log('after:build'))}
  - events: [before:deploy]
    command: ${JSON.stringify(log('before:deploy $DEVSPACE_HOOK_KUBE_NAMESPACE'))}
  - events: ["before:deploy:web"]
    command: ${JSON.stringify(log('before:deploy:web'))}
  - events: ["after:deploy:web"]
    command: ${JSON.stringify(log('after:deploy:web $DEVSPACE_HOOK_DEPLOY_NAME'))}
  - events: [after:deploy]
    command: ${JSON.stringify(log('after:deploy'))}
  - name: stamp-the-pod
    events: [after:deploy]
    command: cat /built.txt > /tmp/hook.txt && echo "in $(hostname)"
    container:
      labelSelector: {app: hooked}
      containerName: app
  - events: [before:purge]
    command: ${JSON.stringify(log('before:purge'))}
  - events: [after:purge]
    command: ${JSON.stringify(log('after:purge'))}
`,
  );
  stopOperator = startOperator(kc, ns.name, env, { logLevel: 'fatal' });
});

afterAll(async () => {
  await stopOperator?.();
  // The operator is stopped: nothing would remove the sessions' finalizers, and the namespace would stay Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('hooks', () => {
  test('dsa deploy runs the build and deploy hooks in order, locally and in the deployed container', async () => {
    const r = await dsa(['deploy', '--timeout', '8m']);
    if (r.code !== 0) throw new Error(show(r));
    const lines = (await readFile(path.join(dir, 'hooks.log'), 'utf8')).trim().split('\n');
    expect(lines).toEqual([
      'before:build',
      'before:build:app app',
      `before:deploy ${ns.name}`,
      'before:deploy:web',
      expect.stringMatching(new RegExp(`^after:build:app ${env.registry}/e2e/hooked:dsa-[0-9a-f]{12}$`)),
      'after:build',
      'after:deploy:web web',
      'after:deploy',
    ]);
    expect(r.stderr).toContain("hook 'stamp-the-pod' in container");
    // The container hook's output is on stderr; stdout stays the result table.
    expect(r.stderr).toMatch(/^in hooked-[a-z0-9-]+$/m);
    expect(r.stdout).toMatch(/^hooked\s+\S+\s+Ready/m);
    const pods = await kubectl(['get', 'pods', '-n', ns.name, '-l', 'app=hooked', '-o', 'jsonpath={.items[0].metadata.name}'], { env: { KUBECONFIG: env.kubeconfig } });
    const stamped = await kubectl(['exec', '-n', ns.name, pods.stdout, '-c', 'app', '--', 'cat', '/tmp/hook.txt'], { env: { KUBECONFIG: env.kubeconfig } });
    expect(stamped.stdout.trim()).toBe('built-for-hooks');
  });

  test('dsa down runs the purge hooks before and after the deletion', async () => {
    await writeFile(path.join(dir, 'hooks.log'), '');
    const r = await dsa(['down'], 180_000);
    if (r.code !== 0) throw new Error(show(r));
    expect((await readFile(path.join(dir, 'hooks.log'), 'utf8')).trim().split('\n')).toEqual(['before:purge', 'after:purge']);
  });
});
