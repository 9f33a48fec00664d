// Full-node tier: GitOps with no agent. A DevSession applied with kubectl whose image's build context is a git
// repository (served over smart HTTP from this machine's node address) and whose deployment is an inline kubectl
// manifest referencing the image without a tag. The in-cluster operator (installed from the chart) must clone the
// repository, build with kaniko, push to the local registry, replace the tag in the manifest and roll it out.
//
// Env contract: eval "$(test-e2e/cluster/ensure.sh node)".
import { afterAll, beforeAll, describe, expect, test, jest } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import {
  applyCrds,
  buildOperatorImage,
  cleanupAll,
  createBareRepo,
  createTestNamespace,
  helm,
  helmArgs,
  kubeFromEnv,
  kubectl,
  operatorLogs,
  requireEnv,
  startGitServer,
  waitFor,
  DSA_RESOURCES,
  type GitServer,
  type TestNamespace,
} from '../../lib/index.js';

jest.setTimeout(600_000);

// Its own release and namespace (not dsa-system) so it can run next to operator-chart.test.ts; the CRDs are
// applied with kubectl and the chart's are off, so the two releases never compete for them.
const RELEASE = 'dsa-gitops';
const SYSTEM_NS = 'dsa-gitops-system';
const SESSION = 'gitops-build';

const env = requireEnv('registry', 'nodeImage', 'helm', 'testImage', 'kanikoImage', 'nodeIp');
const marker = `built-from-git-${randomBytes(4).toString('hex')}`;
let kc: k8s.KubeConfig;
let custom: k8s.CustomObjectsApi;
let apps: k8s.AppsV1Api;
let core: k8s.CoreV1Api;
let ns: TestNamespace;
let git: GitServer;
let gitRoot: string;
let commit: string;
let installed = false;
const imageRepo = `${env.registry}/e2e/gitops-app`;

const withLogs = async <T>(fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (e) {
    const ibs = await kubectl(['get', 'imagebuilds', '-n', ns.name, '-o', 'yaml'], { allowFailure: true });
    throw new Error(`${(e as Error).message}\n--- imagebuilds ---\n${ibs.stdout.slice(-4000)}\n--- operator logs ---\n${await operatorLogs(RELEASE, SYSTEM_NS)}`);
  }
};

beforeAll(async () => {
  kc = kubeFromEnv();
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
  ns = await createTestNamespace(kc, 'dsa-e2e-gitops');

  // The repository: the context lives in a subfolder, to exercise subPath.
  gitRoot = await mkdtemp(join(tmpdir(), 'dsa-e2e-git-'));
  commit = await createBareRepo(gitRoot, 'app', {
    'README.md': 'fixture repository for gitops.test.ts\n',
    'app/Dockerfile': ['ARG BASE', 'FROM ${BASE}', 'COPY message.txt /message.txt', 'CMD ["sh", "-c", "cat /message.txt; while true; do sleep 3600; done"]', ''].join('\n'),
    'app/message.txt': `${marker}\n`,
  });
  git = await startGitServer(gitRoot, env.nodeIp);

  const image = await buildOperatorImage();
  await applyCrds();
  await helm(env, helmArgs({ release: RELEASE, namespace: SYSTEM_NS, image, env, crds: false, watchNamespaces: [ns.name], set: ['leaderElection.enabled=false'] }), {
    timeoutMs: 400_000,
  });
  installed = true;
}, 600_000);

afterAll(async () => {
  await cleanupAll([
    () => git?.close(),
    async () => {
      if (!installed) return;
      // With the operator still running, so its finalizer cleanup runs like a user's `kubectl delete` would.
      await kubectl(['delete', 'devsession', SESSION, '-n', ns.name, '--wait=true', '--timeout=120s'], { allowFailure: true });
    },
    () => installed && helm(env, ['uninstall', RELEASE, '--namespace', SYSTEM_NS, '--wait'], { allowFailure: true }),
    () => installed && kubectl(['delete', 'namespace', SYSTEM_NS, '--wait=false'], { allowFailure: true }),
    // If the delete above timed out (or the install failed half-way), nothing removes the finalizers any more.
    () => ns?.cleanup({ stripFinalizers: DSA_RESOURCES }),
    () => gitRoot && rm(gitRoot, { recursive: true, force: true }),
  ]);
});

function session() {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app', labels: { app: 'gitops-app' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'gitops-app' } },
      template: {
        metadata: { labels: { app: 'gitops-app' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          // No tag: the operator replaces it with the content-addressed tag it built.
          containers: [{ name: 'app', image: imageRepo }],
        },
      },
    },
  };
  return {
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'DevSession',
    metadata: { name: SESSION, namespace: ns.name },
    spec: {
      project: SESSION,
      owner: { user: 'gitops' },
      images: [
        {
          name: 'app',
          image: imageRepo,
          context: { git: { url: `${git.url}/app.git`, ref: 'main', subPath: 'app' } },
          buildArgs: { BASE: env.testImage },
          registry: { insecure: true },
        },
      ],
      deployments: [{ name: 'app', kubectl: { manifests: [stringify(deployment)] } }],
    },
  };
}

describe('GitOps: git build context + inline kubectl manifests, no agent', () => {
  test('a DevSession applied with kubectl builds from git and reaches Ready', async () => {
    await kubectl(['apply', '-f', '-'], { input: stringify(session()) });
    const ready = await withLogs(() =>
      waitFor(
        `DevSession ${SESSION} Ready`,
        async () => {
          const s = (await custom.getNamespacedCustomObject({ group: 'dsa.dev', version: 'v1alpha1', namespace: ns.name, plural: 'devsessions', name: SESSION })) as any;
          const cond = (s.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
          // Failed is terminal for this spec: stop waiting and let the assertion below show the message.
          return cond?.status === 'True' || s.status?.phase === 'Failed' ? s : false;
        },
        { timeoutMs: 480_000, intervalMs: 2000 },
      ),
    );
    expect({ phase: ready.status.phase, message: ready.status.message }).toEqual({ phase: 'Ready', message: expect.any(String) });
    expect(ready.status.imagesBuilt).toBe('1/1');
    expect(ready.status.deploymentsReady).toBe('1/1');
  });

  test('the operator cloned from our git server (upload-pack), never pushed', () => {
    const paths = git.requests.map((r) => r.path);
    expect(paths.some((p) => p.endsWith('/app.git/git-upload-pack'))).toBe(true);
    expect(git.requests.every((r) => r.status < 400)).toBe(true);
    expect(paths.some((p) => p.includes('receive-pack'))).toBe(false);
  });

  test('the ImageBuild records the git source, the resolved commit and the pushed image, which the registry serves', async () => {
    const s = (await custom.getNamespacedCustomObject({ group: 'dsa.dev', version: 'v1alpha1', namespace: ns.name, plural: 'devsessions', name: SESSION })) as any;
    const img = s.status.images.find((i: any) => i.name === 'app');
    expect(img.phase).toBe('Succeeded');
    expect(img.image).toMatch(new RegExp(`^${imageRepo.replace(/[.]/g, '\\.')}:dsa-[0-9a-f]+$`));
    expect(img.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ib = (await custom.getNamespacedCustomObject({ group: 'dsa.dev', version: 'v1alpha1', namespace: ns.name, plural: 'imagebuilds', name: img.imageBuild })) as any;
    expect(ib.spec.context.git.url).toBe(`${git.url}/app.git`);
    expect(ib.status.phase).toBe('Succeeded');
    // `main` was resolved to the commit we created.
    expect(ib.status.commit).toBe(commit);
    // The registry really has it.
    const [, tag] = img.image.split(/:(?=[^:]+$)/);
    const res = await fetch(`http://${env.registry}/v2/e2e/gitops-app/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    });
    expect(res.status).toBe(200);
  });

  test('the deployed workload runs the image built from the repository content', async () => {
    const s = (await custom.getNamespacedCustomObject({ group: 'dsa.dev', version: 'v1alpha1', namespace: ns.name, plural: 'devsessions', name: SESSION })) as any;
    const built = s.status.images.find((i: any) => i.name === 'app').image;
    const dep = await apps.readNamespacedDeployment({ name: 'app', namespace: ns.name });
    expect(dep.spec?.template.spec?.containers[0]?.image).toBe(built);
    expect(dep.status?.readyReplicas).toBe(1);
    const pods = await core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=gitops-app' });
    const pod = pods.items.find((p) => p.status?.phase === 'Running');
    expect(pod).toBeDefined();
    const logs = await waitFor('container log with the marker', async () => {
      const out = await core.readNamespacedPodLog({ name: pod!.metadata!.name!, namespace: ns.name, container: 'app' });
      return out.includes(marker) ? out : false;
    });
    expect(logs.trim()).toBe(marker);
  });
});
