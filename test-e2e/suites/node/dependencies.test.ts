// Full-node tier: dependencies from git, fetched by the agent with the git CLI from a local repository
// (file://, no network), cached under $DSA_CACHE/dependencies (CI exports DSA_CACHE; the suite sets its own),
// loaded like path dependencies and deployed as their own DevSessions:
//
//   branch · tag · revision · subPath each deploy the content of that ref · skipBuild deploys a
//   dependency's image without building it · ignoreDependencies leaves the dependency's own
//   dependencies out · a new commit on the branch is picked up by the next deploy · dsa down
//   --dependencies finds them again from the cache.
//
// Env contract: eval "$(make -s cluster-env)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEVSESSION, GROUP, IMAGEBUILD, VERSION } from '@dsa/api';
import { DSA_RESOURCES, REPO_ROOT, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, run, type RunResult, type TestNamespace } from '../../lib/index.js';
import { grantDeployer } from '../../lib/tenant.js';
import { startOperator } from './cli-project.test-util.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');
const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');

let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let ns: TestNamespace;
let work: string;
let repo: string;
let cache: string;
let first: string;
let stopOperator: (() => Promise<void>) | undefined;

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@dsa.dev', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@dsa.dev', GIT_CONFIG_NOSYSTEM: '1' };
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { ...gitEnv, HOME: work }, encoding: 'utf8' }).trim();

/** A dependency project publishing `version` in ConfigMap svc-${DEP_ID}. */
const svc = (version: string) => `version: v2beta1
name: svc
vars:
  DEP_ID: {default: none}
deployments:
  config:
    kubectl:
      inlineManifest: |-
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: svc-\${DEP_ID}}
        data: {version: "${version}"}
`;

async function put(rel: string, text: string): Promise<void> {
  await mkdir(path.dirname(path.join(repo, rel)), { recursive: true });
  await writeFile(path.join(repo, rel), text);
}

function dsa(args: string[], timeoutMs = 300_000): Promise<RunResult> {
  return run(process.execPath, [DSA, '--config', path.join(work, 'root', 'devspace.yaml'), '-n', ns.name, '--no-color', ...args], { cwd: work, env: { KUBECONFIG: env.kubeconfig, XDG_CACHE_HOME: cache, DSA_CACHE: path.join(cache, 'dsa') }, timeoutMs, allowFailure: true });
}
const show = (r: RunResult) => `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

async function configMap(name: string): Promise<Record<string, string> | undefined> {
  try {
    return (await core.readNamespacedConfigMap({ namespace: ns.name, name })).data ?? {};
  } catch (e) {
    if ((e as { code?: number }).code === 404) return undefined;
    throw e;
  }
}

async function sessionNames(): Promise<string[]> {
  const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns.name })) as { items: Array<{ metadata: { name: string } }> };
  return list.items.map((s) => s.metadata.name).sort();
}

beforeAll(async () => {
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-deps');
  // The operator deploys and builds as the namespace's deployer ServiceAccount (tenant confinement).
  await grantDeployer(kc, ns.name);
  work = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-deps-'));
  cache = path.join(work, 'cache');
  repo = path.join(work, 'repo');
  await mkdir(repo);
  git('init', '-q', '-b', 'main');
  await put('svc/devspace.yaml', svc('v1'));
  // skipBuild: building this image would fail; the deployment runs the image's existing tag.
  const [repoName, tag] = [env.testImage.slice(0, env.testImage.lastIndexOf(':')), env.testImage.slice(env.testImage.lastIndexOf(':') + 1)];
  await put('built/Dockerfile', 'FROM scratch\nRUN false\n');
  await put(
    'built/devspace.yaml',
    `version: v2beta1
name: built
images:
  app:
    image: ${repoName}
    tags: ["${tag}"]
deployments:
  built:
    kubectl:
      inlineManifest: |-
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: prebuilt}
        spec:
          selector: {matchLabels: {app: prebuilt}}
          template:
            metadata: {labels: {app: prebuilt}}
            spec:
              terminationGracePeriodSeconds: 1
              containers: [{name: app, image: ${repoName}, command: [sleep, "3600"]}]
`,
  );
  await put('other/devspace.yaml', `version: v2beta1\nname: other\ndependencies:\n  nested:\n    path: ../nested\ndeployments:\n  other:\n    kubectl:\n      inlineManifest: |-\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {name: other}\n`);
  await put('nested/devspace.yaml', `version: v2beta1\nname: nested\ndeployments:\n  nested:\n    kubectl:\n      inlineManifest: |-\n        apiVersion: v1\n        kind: ConfigMap\n        metadata: {name: nested}\n`);
  git('add', '-A');
  git('commit', '-qm', 'v1');
  first = git('rev-parse', 'HEAD');
  git('tag', 'v1');
  await put('svc/devspace.yaml', svc('v2'));
  git('commit', '-qam', 'v2');
  git('checkout', '-q', '-b', 'feature');
  await put('svc/devspace.yaml', svc('feature'));
  git('commit', '-qam', 'feature');
  git('checkout', '-q', 'main');

  const url = `file://${repo}`;
  const dep = (name: string, source: string, extra = '') => `  - name: ${name}\n    source: {git: "${url}"${source}}\n${extra}`;
  await mkdir(path.join(work, 'root'));
  // v1beta10: DevSpace's dependency fields (skipBuild exists only before v2beta1).
  await writeFile(
    path.join(work, 'root', 'devspace.yaml'),
    `version: v1beta10
dependencies:
${dep('main', ', subPath: svc', '    vars: [{name: DEP_ID, value: main}]\n')}${dep('feature', ', branch: feature, subPath: svc', '    vars: [{name: DEP_ID, value: feature}]\n')}${dep('tagged', ', tag: v1, subPath: svc', '    vars: [{name: DEP_ID, value: tagged}]\n')}${dep('pinned', `, revision: ${first}, subPath: svc`, '    vars: [{name: DEP_ID, value: pinned}]\n')}${dep('prebuilt', ', subPath: built', '    skipBuild: true\n')}${dep('other', ', subPath: other', '    ignoreDependencies: true\n')}deployments:
  - name: root
    kubectl:
      manifests: [cm.yaml]
`,
  );
  await writeFile(path.join(work, 'root', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: root}\ndata: {role: root}\n');

  stopOperator = startOperator(kc, ns.name, env, { logLevel: 'fatal' });
});

afterAll(async () => {
  await stopOperator?.();
  // The operator is stopped: nothing would remove the sessions' finalizers, and the namespace would stay Terminating.
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (work) await rm(work, { recursive: true, force: true });
});

describe('git dependencies', () => {
  test('branch, tag, revision and subPath each deploy their content; skipBuild and ignoreDependencies as DevSpace means them', async () => {
    const r = await dsa(['deploy', '--timeout', '5m']);
    if (r.code !== 0) throw new Error(show(r));
    for (const name of ['root-main', 'root-feature', 'root-tagged', 'root-pinned', 'root-prebuilt', 'root-other', 'root']) expect(r.stdout).toMatch(new RegExp(`^${name}\\s+${ns.name}\\s+Ready`, 'm'));
    expect(await configMap('svc-main')).toEqual({ version: 'v2' });
    expect(await configMap('svc-feature')).toEqual({ version: 'feature' });
    expect(await configMap('svc-tagged')).toEqual({ version: 'v1' });
    expect(await configMap('svc-pinned')).toEqual({ version: 'v1' });
    expect(await configMap('root')).toEqual({ role: 'root' });
    // ignoreDependencies: `other` is deployed, its own dependency is not.
    expect(await configMap('other')).toBeDefined();
    expect(await configMap('nested')).toBeUndefined();
    expect(await sessionNames()).toEqual(['root', 'root-feature', 'root-main', 'root-other', 'root-pinned', 'root-prebuilt', 'root-tagged']);
    // skipBuild: no ImageBuild for the dependency's image, and the Deployment runs the existing tag.
    await expect(custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: ns.name, name: 'root-prebuilt-app' })).rejects.toMatchObject({ code: 404 });
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    expect((await apps.readNamespacedDeployment({ namespace: ns.name, name: 'prebuilt' })).spec?.template.spec?.containers[0]?.image).toBe(env.testImage);
    // One checkout per (url, ref): main (also used by the subPath `built` and `other`), feature, v1, the pinned revision.
    expect((await readdir(path.join(cache, 'dsa', 'dependencies'))).filter((d) => !d.endsWith('.lock'))).toHaveLength(4);
  });

  test('a new commit on the branch is picked up by the next deploy (the cache is updated)', async () => {
    await put('svc/devspace.yaml', svc('v3'));
    git('commit', '-qam', 'v3');
    const r = await dsa(['deploy', '--timeout', '5m']);
    if (r.code !== 0) throw new Error(show(r));
    expect(await configMap('svc-main')).toEqual({ version: 'v3' });
    // The tag and the pinned revision do not move.
    expect(await configMap('svc-tagged')).toEqual({ version: 'v1' });
    expect(await configMap('svc-pinned')).toEqual({ version: 'v1' });
  });

  test('dsa down --dependencies finds the git dependencies in the cache and deletes every session', async () => {
    const r = await dsa(['down', '--dependencies'], 300_000);
    if (r.code !== 0) throw new Error(show(r));
    expect(await sessionNames()).toEqual([]);
    expect(await configMap('svc-main')).toBeUndefined();
  });
});
