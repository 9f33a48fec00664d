// Wiring of the DevSession controller: informers (from the shared OperatorCache), watches and the reconciler,
// plus the small dev-pods controller that keeps status.pods current. main.ts calls
// createDevSessionController() and adds both controllers to the Manager; tests do the same in-process.
//
// Watches:
//   DevSessions  → the session itself (spec/metadata changes only: our own status writes and the agent's
//                  do not trigger a reconcile) and every session that depends on it (any change, so a
//                  dependency becoming Ready wakes its dependents);
//   ImageBuilds  → the owning session (ownerReference, or the session labels for cross-namespace builds);
//   Pods         → the session named by their labels (rollouts follow pod changes);
//   Namespaces   → their sessions, when a namespace's scope label changes.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FINALIZER, LABELS, type DevSession } from '@dsa/api';
import {
  Controller,
  ownerKeyMapper,
  reuseConnections,
  type Clock,
  type EventRecorder,
  type Logger,
  type OperatorMetrics,
  type Request,
  type SharedInformer,
} from '../../runtime/index.js';
import { CapabilitiesProbe } from '../../deploy/capabilities.js';
import { IsomorphicGitFetcher, type GitFetcher } from '../../deploy/git-source.js';
import type { HelmRenderer } from '../../deploy/helm.js';
import type { ImageConfigSource } from '../../deploy/image-config.js';
import type { KustomizeRenderer } from '../../deploy/kustomize.js';
import type { Transform } from '../../deploy/pipeline.js';
import type { Confinement } from '../../confinement/confinement.js';
import type { AddressPolicy } from '../../net/address-guard.js';
import { RegistryClient } from '../../registry/client.js';
import { Impersonator } from '../../runtime/index.js';
import { createOperatorCache, type OperatorCache } from '../operator-cache.js';
import { ClientNodeDevPodsWriter, createDevPodsController } from './dev-pods-controller.js';
import { ClientNodeDevSessionKube, type DevSessionKube } from './kube.js';
import { InformerDevSessionReads } from './reads.js';
import { DEVSESSION_TYPE, DevSessionReconciler } from './reconciler.js';

export interface DevSessionControllerOptions {
  kc: k8s.KubeConfig;
  /** The operator's shared informers; without one the controller makes its own (tests, one namespace). */
  cache?: OperatorCache;
  /** Watch one namespace only when no cache is given (default: all). */
  namespace?: string;
  /** This operator's scope when no cache is given (see scope/scope.ts). */
  scope?: string;
  workers?: number;
  logger?: Logger;
  metrics?: OperatorMetrics;
  events?: EventRecorder;
  clock?: Clock;
  helm?: HelmRenderer;
  kustomize?: KustomizeRenderer;
  git?: GitFetcher;
  workDir?: string;
  /** Override the apiserver access (tests). */
  kube?: DevSessionKube;
  /** Informer relist period (default: the runtime's 5 minutes). */
  resyncPeriodMs?: number;
  rolloutPollMs?: number;
  /** The deploy pipeline (default DEFAULT_TRANSFORMS). */
  transforms?: readonly Transform[];
  /** Tenant confinement (default: confined, confinement/confinement.ts). */
  confinement?: Confinement;
  /** Internal hosts git sources and registry lookups may reach (--allow-internal-hosts). */
  addressPolicy?: AddressPolicy;
  /** Registries spoken to over plain HTTP (--insecure-registries). */
  insecureRegistries?: readonly string[];
  /** Shared with the ImageBuild controller (one impersonating config per ServiceAccount). */
  impersonator?: Impersonator;
  imageConfigSource?: ImageConfigSource;
  /** The dev sidecar image (operator flag --sidecar-image). */
  sidecarImage?: string;
}

export interface DevSessionControllerBundle {
  controller: Controller<KubernetesObject>;
  /** Keeps status.pods current (its own field manager). */
  devPods: Controller<KubernetesObject>;
  reconciler: DevSessionReconciler;
  cache: OperatorCache;
  /** Every informer the two controllers read (for harnesses that run them without a Manager). */
  informers: { sessions: SharedInformer<KubernetesObject>; imageBuilds: SharedInformer<KubernetesObject>; pods: SharedInformer<KubernetesObject>; namespaces: SharedInformer<KubernetesObject> };
}

/**
 * Spec, deletion, the loss of our finalizer, annotations (requestedAt): what a reconcile must react to. Our own
 * writes do not count: a status write changes none of these, and adding our finalizer (the first thing a pass
 * does) needs no second pass.
 */
export function sessionChanged(obj: KubernetesObject, old?: KubernetesObject): boolean {
  if (!old) return true;
  const m = obj.metadata ?? {};
  const o = old.metadata ?? {};
  return (
    m.generation !== o.generation ||
    m.deletionTimestamp !== o.deletionTimestamp ||
    (!(m.finalizers ?? []).includes(FINALIZER) && JSON.stringify(m.finalizers ?? []) !== JSON.stringify(o.finalizers ?? [])) ||
    JSON.stringify(m.annotations ?? {}) !== JSON.stringify(o.annotations ?? {})
  );
}

/** Sessions (from `all`) that list `changed` as a dependency. */
export function dependentsOf(changed: KubernetesObject, all: readonly KubernetesObject[]): Request[] {
  const ns = changed.metadata?.namespace ?? '';
  const name = changed.metadata?.name ?? '';
  return all
    .filter((x) => ((x as unknown as DevSession).spec?.dependencies ?? []).some((d) => (d.namespace || x.metadata?.namespace) === ns && d.name === name))
    .map((x) => ({ namespace: x.metadata?.namespace ?? '', name: x.metadata?.name ?? '' }));
}

/** The session a child belongs to by its labels (cross-namespace children have no ownerReference). */
export function sessionFromLabels(obj: KubernetesObject): Request[] {
  const l = obj.metadata?.labels ?? {};
  const name = l[LABELS.session];
  if (!name) return [];
  return [{ namespace: l[LABELS.sessionNamespace] ?? obj.metadata?.namespace ?? '', name }];
}

export function createDevSessionController(opts: DevSessionControllerOptions): DevSessionControllerBundle {
  const { kc } = opts;
  reuseConnections(kc);
  const cache =
    opts.cache ??
    createOperatorCache(kc, {
      ...(opts.namespace ? { namespaces: [opts.namespace] } : {}),
      ...(opts.scope !== undefined ? { scope: opts.scope } : {}),
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.resyncPeriodMs !== undefined ? { resyncPeriodMs: opts.resyncPeriodMs } : {}),
    });
  const { sessions, imageBuilds, sessionPods, namespaces, scope } = cache;
  const kube = opts.kube ?? new ClientNodeDevSessionKube(kc, opts.impersonator ?? new Impersonator(kc));
  const reads = new InformerDevSessionReads(sessions, imageBuilds, scope, opts.clock);
  const reconciler = new DevSessionReconciler({
    kube,
    reads,
    events: opts.events,
    helm: opts.helm,
    kustomize: opts.kustomize,
    git:
      opts.git ??
      new IsomorphicGitFetcher({
        ...(opts.workDir ? { workDir: opts.workDir } : {}),
        ...(opts.addressPolicy ? { policy: opts.addressPolicy } : {}),
        ...(opts.logger ? { log: (msg: string, fields: Record<string, unknown>) => opts.logger!.warn(fields, msg) } : {}),
      }),
    clock: opts.clock,
    logger: opts.logger,
    workDir: opts.workDir,
    rolloutPollMs: opts.rolloutPollMs,
    capabilities: new CapabilitiesProbe(kc.makeApiClient(k8s.VersionApi)),
    scope,
    ...(opts.transforms ? { transforms: opts.transforms } : {}),
    ...(opts.confinement ? { confinement: opts.confinement } : {}),
    ...(opts.insecureRegistries?.length ? { insecureRegistries: opts.insecureRegistries } : {}),
    imageConfigSource: opts.imageConfigSource ?? new RegistryClient({ ...(opts.addressPolicy ? { addressPolicy: opts.addressPolicy } : {}) }),
    ...(opts.sidecarImage ? { sidecarImage: opts.sidecarImage } : {}),
  });
  const byOwner = ownerKeyMapper(DEVSESSION_TYPE);
  const inNamespace = (ns: KubernetesObject): Request[] => sessions.list(ns.metadata?.name ?? '').map((o) => ({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }));
  const controller = new Controller<KubernetesObject>({
    name: 'devsession',
    for: sessions,
    forType: DEVSESSION_TYPE,
    watches: [
      { informer: sessions, map: (o) => dependentsOf(o, sessions.list()) },
      { informer: imageBuilds, map: (o) => { const r = byOwner(o); return r.length ? r : sessionFromLabels(o); } },
      { informer: sessionPods, map: sessionFromLabels },
      // A namespace's scope label moves its sessions in or out of this operator.
      { informer: namespaces, map: inNamespace },
    ],
    predicate: (o, old) => sessionChanged(o, old) || (old !== undefined && scope.inScope(o) !== scope.inScope(old)),
    reconciler,
    workers: opts.workers,
    metrics: opts.metrics,
    events: opts.events,
    logger: opts.logger,
    clock: opts.clock,
  });
  const devPods = createDevPodsController({
    cache,
    reads,
    writer: new ClientNodeDevPodsWriter(kc),
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { controller, devPods, reconciler, cache, informers: { sessions, imageBuilds, pods: sessionPods, namespaces: namespaces as SharedInformer<KubernetesObject> } };
}
