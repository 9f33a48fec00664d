// Wiring: informers (ImageBuilds + build pods) → Controller → ImageBuildReconciler.
import type * as k8s from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { API_VERSION, GROUP, IMAGEBUILD, LABELS, VERSION, type ImageBuild } from '@dsa/api';
import { Controller } from '../../runtime/controller.js';
import { ResourceInformer } from '../../runtime/informer.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { OperatorMetrics } from '../../server/metrics.js';
import type { Logger } from '../../log.js';
import { uploadContext } from '@dsa/api/build-context';
import { kubeImageBuildClients } from './clients.js';
import { BUILD_POD_COMPONENT, type BuildPodConfig } from './desired-build-pod.js';
import { ImageBuildReconciler, type ImageBuildReconcilerDeps } from './reconciler.js';

export interface ImageBuildControllerOptions extends Partial<Omit<ImageBuildReconcilerDeps, 'pod'>> {
  pod: BuildPodConfig;
  /** Watch one namespace only (tests); default all. */
  namespace?: string;
  /** Parallel builds of different ImageBuilds (default 4). */
  workers?: number;
  metrics?: OperatorMetrics;
  events?: EventRecorder;
  logger?: Logger;
}

/** Reconcile on spec changes, creation, deletion and annotation bumps (requested-at); not on our own status writes. */
export function imageBuildPredicate(obj: ImageBuild, old?: ImageBuild): boolean {
  if (!old) return true;
  return (
    obj.metadata.generation !== old.metadata.generation ||
    obj.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    JSON.stringify(obj.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {})
  );
}

export function createImageBuildController(kc: k8s.KubeConfig, opts: ImageBuildControllerOptions): { controller: Controller<k8s.KubernetesObject>; reconciler: ImageBuildReconciler; informers: ResourceInformer<any>[] } {
  const logger = opts.logger;
  const ibInformer = ResourceInformer.forResource<k8s.KubernetesObject>(
    kc,
    { group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: opts.namespace },
    { name: IMAGEBUILD.plural, logger },
  );
  const podInformer = ResourceInformer.forResource<V1Pod>(
    kc,
    { group: '', version: 'v1', plural: 'pods', namespace: opts.namespace, labelSelector: `${LABELS.component}=${BUILD_POD_COMPONENT}` },
    { name: 'build-pods', logger },
  );
  const reconciler = new ImageBuildReconciler({
    clients: opts.clients ?? kubeImageBuildClients(kc),
    uploader: opts.uploader ?? (async (target, tar) => void (await uploadContext(kc, target, tar))),
    ...opts,
  });
  const controller = new Controller<k8s.KubernetesObject>({
    name: 'imagebuild',
    for: ibInformer,
    forType: { apiVersion: API_VERSION, kind: IMAGEBUILD.kind },
    owns: [podInformer],
    reconciler: (req, ctx) => reconciler.reconcile(req, ctx),
    workers: opts.workers ?? 4,
    predicate: (o, old) => imageBuildPredicate(o as unknown as ImageBuild, old as unknown as ImageBuild | undefined),
    metrics: opts.metrics,
    events: opts.events,
    logger,
  });
  return { controller, reconciler, informers: [ibInformer, podInformer] };
}
