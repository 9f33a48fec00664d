// Wiring: the shared informers (ImageBuilds + build pods, from the OperatorCache) → Controller →
// ImageBuildReconciler, whose reads come from the same cache.
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION, IMAGEBUILD, type ImageBuild } from '@dsa/api';
import { Controller } from '../../runtime/controller.js';
import { reuseConnections } from '../../runtime/connection-reuse.js';
import { Impersonator } from '../../runtime/impersonation.js';
import type { SharedInformer } from '../../runtime/informer.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { OperatorMetrics } from '../../server/metrics.js';
import type { Logger } from '../../log.js';
import { uploadContext } from '@dsa/api/build-context';
import { cachedImageBuildClients, kubeImageBuildClients } from './clients.js';
import { createOperatorCache, type OperatorCache } from '../operator-cache.js';
import type { BuildPodConfig } from './desired-build-pod.js';
import { ImageBuildReconciler, type ImageBuildReconcilerDeps } from './reconciler.js';

export interface ImageBuildControllerOptions extends Partial<Omit<ImageBuildReconcilerDeps, 'pod'>> {
  pod: BuildPodConfig;
  /** Shared with the DevSession controller (one impersonating config per ServiceAccount). */
  impersonator?: Impersonator;
  /** The operator's shared informers; without one the controller makes its own. */
  cache?: OperatorCache;
  /** Watch one namespace only when no cache is given (tests); default all. */
  namespace?: string;
  /** This operator's scope when no cache is given (see scope/scope.ts). */
  scope?: string;
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

export function createImageBuildController(
  kc: k8s.KubeConfig,
  opts: ImageBuildControllerOptions,
): { controller: Controller<k8s.KubernetesObject>; reconciler: ImageBuildReconciler; cache: OperatorCache; informers: SharedInformer<any>[] } {
  const logger = opts.logger;
  reuseConnections(kc);
  const cache =
    opts.cache ??
    createOperatorCache(kc, { ...(opts.namespace ? { namespaces: [opts.namespace] } : {}), ...(opts.scope !== undefined ? { scope: opts.scope } : {}), ...(logger ? { logger } : {}) });
  const { imageBuilds, buildPods, namespaces, scope } = cache;
  const impersonator = opts.impersonator ?? new Impersonator(kc);
  const reconciler = new ImageBuildReconciler({
    ...opts,
    clients: opts.clients ?? cachedImageBuildClients(kubeImageBuildClients(kc, impersonator), { imageBuilds, buildPods, inScope: (o) => scope.inScope(o) }),
    // Git contexts are uploaded as the build's account too (pods/exec is authorized against it).
    uploader: opts.uploader ?? (async (target, tar, user) => void (await uploadContext(user ? impersonator.config(user) : kc, target, tar))),
  });
  const controller = new Controller<k8s.KubernetesObject>({
    name: 'imagebuild',
    for: imageBuilds,
    forType: { apiVersion: API_VERSION, kind: IMAGEBUILD.kind },
    owns: [buildPods],
    // A namespace's scope label moves its builds in or out of this operator.
    watches: [{ informer: namespaces, map: (ns) => imageBuilds.list(ns.metadata?.name ?? '').map((o) => ({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' })) }],
    reconciler: (req, ctx) => reconciler.reconcile(req, ctx),
    workers: opts.workers ?? 4,
    predicate: (o, old) => imageBuildPredicate(o as unknown as ImageBuild, old as unknown as ImageBuild | undefined) || (old !== undefined && scope.inScope(o) !== scope.inScope(old)),
    metrics: opts.metrics,
    events: opts.events,
    logger,
  });
  return { controller, reconciler, cache, informers: [imageBuilds, buildPods, namespaces] };
}
