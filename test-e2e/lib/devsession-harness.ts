// The DevSession controller IN-PROCESS against a real apiserver, in a namespace of its own: the setup
// that the control-plane and full-node DevSession suites share.
import * as k8s from '@kubernetes/client-node';
import { DEVSESSION, GROUP, VERSION, type DevSession } from '@dsa/api';
import { createDevSessionController, type DevSessionControllerBundle, type DevSessionControllerOptions } from '../../operator/src/controllers/devsession/controller.js';
import { isNotFound, type Condition } from '../../operator/src/runtime/index.js';
import { kubeFromEnv } from './env.js';
import { createTestNamespace, type TestNamespace } from './namespace.js';
import { applyCrds } from './operator-install.js';
import { E2E_SCOPE } from './scope.js';

/** What a suite adds to the controller; kc and namespace are the harness's. */
export type DevSessionSuiteOptions = Omit<DevSessionControllerOptions, 'kc' | 'namespace' | 'scope' | 'cache'>;

export interface DevSessionHarness {
  kc: k8s.KubeConfig;
  custom: k8s.CustomObjectsApi;
  objects: k8s.KubernetesObjectApi;
  ns: TestNamespace;
  /** The session, or undefined once it is gone. */
  getSession(name: string): Promise<DevSession | undefined>;
  /** Stops the controller and deletes the namespace. */
  close(): Promise<void>;
}

export const sessionCondition = (s: DevSession | undefined, type: string) => (s?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

const informerSyncMs = 30_000;

/**
 * Starts the controller for one suite; `options` is called once the namespace exists. When it fails
 * half-way, what it had started is closed before the error is rethrown, since the suite gets no harness
 * to clean up with.
 */
export async function startDevSessionHarness(namespacePrefix: string, options: (kc: k8s.KubeConfig, namespace: string) => DevSessionSuiteOptions | Promise<DevSessionSuiteOptions>): Promise<DevSessionHarness> {
  const kc = kubeFromEnv();
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  // kubectl server-side apply: client-node's typed serializer would strip the CRDs' enums and CEL rules.
  await applyCrds();
  const ns = await createTestNamespace(kc, namespacePrefix);
  const sessionPath = { group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns.name };
  let bundle: DevSessionControllerBundle | undefined;
  let running = false;
  const close = async (): Promise<void> => {
    if (running) await Promise.all([bundle?.controller.stop(5_000), bundle?.devPods.stop(5_000)]);
    await bundle?.cache.cache.stop();
    // Finalizers would block namespace deletion once the controller is gone.
    const list = (await custom.listNamespacedCustomObject(sessionPath).catch(() => ({ items: [] }))) as { items: DevSession[] };
    for (const s of list.items) {
      await custom
        .patchNamespacedCustomObject({ ...sessionPath, name: s.metadata.name, body: { metadata: { finalizers: null } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch))
        .catch(() => undefined);
    }
    await ns.cleanup();
  };
  try {
    // The suite's scope (scope.ts): the namespace carries it, so an installed operator keeps out.
    // Confined (the default): the namespace's dsa-deployer holds the chart's tenant Role (createTestNamespace).
    bundle = createDevSessionController({
      kc,
      namespace: ns.name,
      scope: E2E_SCOPE,
      ...(process.env.DSA_REGISTRY ? { insecureRegistries: [process.env.DSA_REGISTRY] } : {}),
      ...(await options(kc, ns.name)),
    });
    bundle.cache.cache.start();
    for (const inf of bundle.cache.cache.informers()) if (!(await inf.waitForSync(informerSyncMs))) throw new Error(`DevSession controller informer ${inf.name} did not sync within ${informerSyncMs / 1000} s`);
    bundle.controller.start();
    bundle.devPods.start();
    running = true;
  } catch (e) {
    await close();
    throw e;
  }
  return {
    kc,
    custom,
    objects,
    ns,
    async getSession(name) {
      try {
        return (await custom.getNamespacedCustomObject({ ...sessionPath, name })) as DevSession;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    },
    close,
  };
}
