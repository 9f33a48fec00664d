// Shared setup of the action tests: the real loader and renderer (examples/), the in-memory cluster,
// and a kubeconfig that names a cluster nobody contacts (not a test file itself).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { desiredImageBuilds, type DevSession, type ImageBuild } from '@dsa/api';
import { unusedClients, type TestEnv } from '../devloop/dev-loop.test-util.js';
import type { DevClients } from '../devloop/service.js';
import { createKubeAccess } from '../kube/access.js';
import { defaultServices, type ProjectServices } from '../project/project-services.js';
import type { FakeKube } from '../session/fake-kube.test-util.js';
import type { ActionDeps, ClusterClients, ProjectRef } from './action-deps.js';

export const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'dsa-actions-'));

/** A kubeconfig whose current context has namespace `ns` (its server is never contacted). */
export function kubeconfig(ns: string): string {
  const file = join(tmp, `kc-${ns}.yaml`);
  writeFileSync(
    file,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'k', user: 'u', namespace: ns } }],
      clusters: [{ name: 'k', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'u', user: { token: 't' } }],
    }),
  );
  return file;
}

export function project(example: string, over: Partial<ProjectRef> = {}): ProjectRef {
  return { configPath: join(EXAMPLES, example, 'devspace.yaml'), profiles: [], vars: {}, processEnv: {}, owner: { user: 'alice', host: 'laptop' }, ...over };
}

export interface Uploads {
  /** `<pod> <bytes>` per upload. */
  done: string[];
}

export function actionDeps(env: TestEnv, kube: FakeKube, opts: { namespace?: string; services?: (real: ProjectServices) => ProjectServices; uploads?: Uploads; clients?: Partial<DevClients> } = {}): ActionDeps {
  const cluster: ClusterClients = {
    sessionKube: async () => kube,
    async prepareContext(local) {
      const { prepareContext } = await import('@dsa/api/build-context');
      return prepareContext(local.contextDir, local.dockerfile);
    },
    async uploadContext(_kc, target, tar) {
      let bytes = 0;
      for await (const c of tar) bytes += c.length;
      opts.uploads?.done.push(`${target.pod} ${bytes}`);
      return { bytes };
    },
    devClients: () => unusedClients(opts.clients),
  };
  let services: Promise<ProjectServices> | undefined;
  return {
    kube: createKubeAccess({ kubeconfig: kubeconfig(opts.namespace ?? 'dev'), env: {}, homeDir: tmp, cwd: tmp, log: env.log }),
    services: () => (services ??= defaultServices().then((real) => opts.services?.(real) ?? real)),
    cluster,
  };
}

const readyCondition = (gen: number) => ({ type: 'Ready', status: 'True' as const, observedGeneration: gen, reason: 'Ready', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' });

/**
 * The operator, in memory: an applied session's ImageBuilds wait for an upload (or are Succeeded when
 * `built`), and the session is Ready once its builds are.
 */
export function fakeOperator(kube: FakeKube, uploads: Uploads, opts: { never?: boolean } = {}): void {
  const uploadedPod = (name: string) => uploads.done.some((d) => d.startsWith(`${name}-build `));
  kube.onGetImageBuild = (ref, b) => {
    if (b) return b.status?.phase === 'AwaitingUpload' && uploadedPod(ref.name) ? { ...b, status: { ...b.status, phase: 'Succeeded', image: `${b.spec.image}:dsa-000000000001` } } : b;
    for (const s of kube.sessions.values()) {
      for (const ib of desiredImageBuilds(s)) {
        if (ib.metadata.name !== ref.name || ib.metadata.namespace !== ref.namespace) continue;
        const created: ImageBuild = { ...ib, metadata: { ...ib.metadata, generation: 1 }, status: { observedGeneration: 1, phase: 'AwaitingUpload', podName: `${ref.name}-build`, uploadContainer: 'upload' } };
        return created;
      }
    }
    return undefined;
  };
  kube.onGetSession = (_ref, s) => {
    if (!s || s.metadata.deletionTimestamp) return s;
    const gen = s.metadata.generation ?? 1;
    const pending = desiredImageBuilds(s).filter((ib) => kube.builds.get(`${ib.metadata.namespace}/${ib.metadata.name}`)?.status?.phase !== 'Succeeded' && !uploadedPod(ib.metadata.name));
    if (opts.never || pending.length > 0) return { ...s, status: { observedGeneration: gen, phase: 'Building', imagesBuilt: `0/${desiredImageBuilds(s).length}` } } as DevSession;
    return { ...s, status: { observedGeneration: gen, phase: 'Ready', deploymentsReady: `${s.spec.deployments?.length ?? 0}/${s.spec.deployments?.length ?? 0}`, conditions: [readyCondition(gen)] } } as DevSession;
  };
}
