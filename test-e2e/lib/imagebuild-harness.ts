// The ImageBuild controller IN-PROCESS against the real cluster, in a namespace of its own, with a watch
// on its build pods: the setup that the full-node ImageBuild suites share.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, IMAGEBUILD, LABELS, VERSION, type ImageBuild } from '@dsa/api';
import { createImageBuildController } from '../../operator/src/controllers/imagebuild/controller.js';
import type { OperatorMetrics } from '../../operator/src/server/metrics.js';
import { kubeFromEnv } from './env.js';
import { createTestNamespace, type TestNamespace } from './namespace.js';
import { applyCrds } from './operator-install.js';
import { E2E_SCOPE } from './scope.js';

export interface ImageBuildHarnessOptions {
  /** Prefix of the test namespace's random name. */
  namespacePrefix: string;
  kanikoImage: string;
  /** The image of the build pod's upload init container. */
  helperImage: string;
  workers: number;
  metrics?: OperatorMetrics;
  /** Loopback/link-local hosts the registry lookups may still reach (the operator refuses them by default). */
  allowInternalHosts?: string[];
  /** Called for every event of a build pod in the namespace, from the harness's own watch. */
  onBuildPod: (type: string, pod: k8s.V1Pod) => void;
}

export interface ImageBuildHarness {
  kc: k8s.KubeConfig;
  ns: TestNamespace;
  custom: k8s.CustomObjectsApi;
  core: k8s.CoreV1Api;
  /** The custom-objects request fields that name one ImageBuild of the test namespace. */
  ibPath(name: string): { group: string; version: string; plural: string; namespace: string; name: string };
  getIb(name: string): Promise<ImageBuild>;
  createIb(name: string, spec: ImageBuild['spec']): Promise<void>;
  /** The build pods of an ImageBuild that exist now (the controller deletes them after success). */
  buildPods(ibName: string): Promise<k8s.V1Pod[]>;
  /** Stops the pod watch and the controller; the namespace is left for the suite to clean up. */
  stop(): Promise<void>;
}

const informerSyncMs = 30_000;

/**
 * Starts the controller for one suite. When it fails half-way, what it had started is stopped and the
 * namespace deleted before the error is rethrown, since the suite gets no harness to clean up with.
 */
export async function startImageBuildHarness(o: ImageBuildHarnessOptions): Promise<ImageBuildHarness> {
  const kc = kubeFromEnv();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await applyCrds();
  const ns = await createTestNamespace(kc, o.namespacePrefix);
  const ibPath = (name: string) => ({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: ns.name, name });
  let bundle: ReturnType<typeof createImageBuildController> | undefined;
  let running = false;
  let podWatch: AbortController | undefined;
  const stop = async (): Promise<void> => {
    podWatch?.abort();
    if (running) await bundle?.controller.stop(5_000);
    await bundle?.cache.cache.stop();
  };
  try {
    bundle = createImageBuildController(kc, {
      namespace: ns.name,
      scope: E2E_SCOPE,
      pod: { kanikoImage: o.kanikoImage, helperImage: o.helperImage, uploadTimeoutSeconds: 180, ...(process.env.DSA_REGISTRY ? { insecureRegistries: [process.env.DSA_REGISTRY] } : {}) },
      pollIntervalMs: 3_000,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.allowInternalHosts ? { addressPolicy: { allow: o.allowInternalHosts } } : {}),
      workers: o.workers,
    });
    bundle.cache.cache.start();
    for (const i of bundle.informers) if (!(await i.waitForSync(informerSyncMs))) throw new Error(`ImageBuild controller informer ${i.name} did not sync within ${informerSyncMs / 1000} s`);
    bundle.controller.start();
    running = true;
    podWatch = await new k8s.Watch(kc).watch(`/api/v1/namespaces/${ns.name}/pods`, { labelSelector: `${LABELS.component}=image-build-pod` }, o.onBuildPod, () => undefined);
  } catch (e) {
    await stop();
    await ns.cleanup();
    throw e;
  }
  return {
    kc,
    ns,
    custom,
    core,
    ibPath,
    getIb: async (name) => (await custom.getNamespacedCustomObject(ibPath(name))) as ImageBuild,
    async createIb(name, spec) {
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: IMAGEBUILD.plural,
        namespace: ns.name,
        body: { apiVersion: API_VERSION, kind: IMAGEBUILD.kind, metadata: { name }, spec },
      });
    },
    buildPods: async (ibName) => (await core.listNamespacedPod({ namespace: ns.name, labelSelector: `${LABELS.imageBuild}=${ibName}` })).items,
    stop,
  };
}
