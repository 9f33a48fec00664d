// The operator as users run it: image built from operator/Dockerfile, installed with charts/dsa-operator.
// For full-node suites that need an in-cluster operator (operator-chart, gitops).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectl, run } from './exec.js';
import type { ClusterEnv } from './env.js';
import { E2E_SCOPE } from './scope.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const CHART_DIR = resolve(REPO_ROOT, 'charts/dsa-operator');

/**
 * Build and push the operator image (content-tagged; reused when the registry already has it). Serialized with
 * flock because two suites building the same tag would share buildah's storage.
 */
export async function buildOperatorImage(): Promise<{ repository: string; tag: string; ref: string }> {
  const res = await run('flock', ['/tmp/dsa-operator-image.lock', resolve(REPO_ROOT, 'operator/build/build-image.sh')], { timeoutMs: 540_000 });
  const ref = res.stdout.trim().split('\n').pop() ?? '';
  const i = ref.lastIndexOf(':');
  if (i <= ref.indexOf('/')) throw new Error(`build-image.sh printed no image reference:\n${res.stdout}\n${res.stderr}`);
  return { repository: ref.slice(0, i), tag: ref.slice(i + 1), ref };
}

export interface InstallOptions {
  release: string;
  namespace: string;
  image: { repository: string; tag: string };
  env: Pick<ClusterEnv, 'helm' | 'kanikoImage' | 'testImage' | 'sidecarImage'> & Partial<Pick<ClusterEnv, 'registry'>>;
  watchNamespaces?: string[];
  /** The release's operator scope (default: this test file's E2E_SCOPE, see scope.ts). */
  scope?: string;
  /** Install the CRDs with the chart (default true). */
  crds?: boolean;
  /** Extra `--set` values. */
  set?: string[];
  timeout?: string;
}

export function helmArgs(o: InstallOptions): string[] {
  const set = [
    // Object names = release name, so suites can find `deployment/<release>` whatever the release is called.
    `fullnameOverride=${o.release}`,
    `image.repository=${o.image.repository}`,
    `image.tag=${o.image.tag}`,
    'image.pullPolicy=IfNotPresent',
    `crds.enabled=${o.crds ?? true}`,
    'logLevel=debug',
    ...(o.env.kanikoImage ? [`builder.image=${o.env.kanikoImage}`] : []),
    ...(o.env.testImage ? [`builder.helperImage=${o.env.testImage}`] : []),
    ...(o.env.sidecarImage ? [`sidecar.image=${o.env.sidecarImage}`] : []),
    // The local registry speaks plain HTTP (containerd lists it as such): builds and lookups need no per-image insecure.
    ...(o.env.registry ? [`registries.insecure={${o.env.registry}}`] : []),
    ...(o.watchNamespaces?.length ? [`watchNamespaces={${o.watchNamespaces.join(',')}}`] : []),
    // Never the default scope: an operator installed by a suite must not take sessions of a `make demo` install.
    `scope=${o.scope ?? E2E_SCOPE}`,
    ...(o.set ?? []),
  ];
  return [
    'upgrade', '--install', o.release, CHART_DIR,
    '--namespace', o.namespace, '--create-namespace',
    '--wait', '--timeout', o.timeout ?? '5m',
    ...set.flatMap((s) => ['--set', s]),
  ];
}

export async function helm(env: Pick<ClusterEnv, 'helm'>, args: string[], opts: { allowFailure?: boolean; timeoutMs?: number } = {}) {
  if (!env.helm) throw new Error('DSA_HELM is not set');
  return run(env.helm, args, {
    ...opts,
    env: { HELM_CACHE_HOME: '/tmp/dsa-e2e-helm/cache', HELM_CONFIG_HOME: '/tmp/dsa-e2e-helm/config', HELM_DATA_HOME: '/tmp/dsa-e2e-helm/data' },
  });
}

export const CRD_NAMES = ['devsessions.dsa.dev', 'imagebuilds.dsa.dev'];

/** For TestNamespace.cleanup({ stripFinalizers }) once no operator runs for the namespace any more. */
export const DSA_RESOURCES = [
  { group: 'dsa.dev', version: 'v1alpha1', plural: 'devsessions' },
  { group: 'dsa.dev', version: 'v1alpha1', plural: 'imagebuilds' },
];

/**
 * CRDs created outside this release (kubectl apply by another suite, or a previous release kept them) would make
 * `helm install` refuse to take them over. Helm adopts objects carrying its ownership metadata, so add it.
 */
export async function adoptCrds(release: string, namespace: string): Promise<void> {
  for (const crd of CRD_NAMES) {
    const exists = await kubectl(['get', 'crd', crd, '-o', 'name'], { allowFailure: true });
    if (exists.code !== 0) continue;
    await kubectl(['label', '--overwrite', 'crd', crd, 'app.kubernetes.io/managed-by=Helm']);
    await kubectl(['annotate', '--overwrite', 'crd', crd, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${namespace}`]);
  }
}

/** Apply crds/*.yaml with kubectl (for suites that install the chart with crds.enabled=false). */
export async function applyCrds(): Promise<void> {
  await kubectl(['apply', '--server-side', '--force-conflicts', '-f', resolve(REPO_ROOT, 'crds')]);
  for (const crd of CRD_NAMES) await kubectl(['wait', '--for=condition=Established', '--timeout=60s', `crd/${crd}`]);
}

/** Operator logs (for failure messages). */
export async function operatorLogs(release: string, namespace: string): Promise<string> {
  const r = await kubectl(['-n', namespace, 'logs', `deployment/${release}`, '--tail=80', '--all-containers'], { allowFailure: true });
  return r.stdout + r.stderr;
}
