// Wiring of the DevSession controller: informers, watches and the reconciler. main.ts calls
// createDevSessionController() and adds the result to the Manager; tests do the same in-process.
//
// Watches:
//   DevSessions  → the session itself (spec/metadata changes only: our own status writes and the agent's
//                  do not trigger a reconcile) and every session that depends on it (any change, so a
//                  dependency becoming Ready wakes its dependents);
//   ImageBuilds  → the owning session (ownerReference, or the session labels for cross-namespace builds);
//   Pods         → the session named by their labels (rollouts and status.pods follow pod changes).
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { DEVSESSION, GROUP, IMAGEBUILD, LABELS, VERSION, type DevSession } from '@dsa/api';
import {
  Controller,
  ResourceInformer,
  ownerKeyMapper,
  type Clock,
  type EventRecorder,
  type Logger,
  type OperatorMetrics,
  type Request,
} from '../../runtime/index.js';
import { IsomorphicGitFetcher, type GitFetcher } from '../../deploy/git-source.js';
import type { HelmRenderer } from '../../deploy/helm.js';
import type { KustomizeRenderer } from '../../deploy/kustomize.js';
import { ClientNodeDevSessionKube, type DevSessionKube } from './kube.js';
import { DEVSESSION_TYPE, DevSessionReconciler } from './reconciler.js';

export interface DevSessionControllerOptions {
  kc: k8s.KubeConfig;
  /** Watch one namespace only (default: all). */
  namespace?: string;
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
}

export interface DevSessionControllerBundle {
  controller: Controller<KubernetesObject>;
  reconciler: DevSessionReconciler;
  informers: {
    sessions: ResourceInformer<KubernetesObject>;
    imageBuilds: ResourceInformer<KubernetesObject>;
    pods: ResourceInformer<KubernetesObject>;
  };
}

/** Spec, deletion, finalizers, labels/annotations (requestedAt): what a reconcile must react to. */
export function sessionChanged(obj: KubernetesObject, old?: KubernetesObject): boolean {
  if (!old) return true;
  const m = obj.metadata ?? {};
  const o = old.metadata ?? {};
  return (
    m.generation !== o.generation ||
    m.deletionTimestamp !== o.deletionTimestamp ||
    JSON.stringify(m.finalizers ?? []) !== JSON.stringify(o.finalizers ?? []) ||
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
  const { kc, namespace } = opts;
  const informerOpts = { logger: opts.logger, clock: opts.clock, ...(opts.resyncPeriodMs !== undefined ? { resyncPeriodMs: opts.resyncPeriodMs } : {}) };
  const sessions = ResourceInformer.forResource<KubernetesObject>(kc, { group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace }, { ...informerOpts, name: 'devsessions' });
  const imageBuilds = ResourceInformer.forResource<KubernetesObject>(kc, { group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace }, { ...informerOpts, name: 'devsession-imagebuilds' });
  // Only pods dsa labelled (decorateObjects puts the session label on pod templates).
  const pods = ResourceInformer.forResource<KubernetesObject>(kc, { group: '', version: 'v1', plural: 'pods', labelSelector: LABELS.session, namespace }, { ...informerOpts, name: 'devsession-pods' });

  const reconciler = new DevSessionReconciler({
    kube: opts.kube ?? new ClientNodeDevSessionKube(kc),
    sessions: { get: (ns, name) => sessions.get(ns, name) as unknown as DevSession | undefined },
    events: opts.events,
    helm: opts.helm,
    kustomize: opts.kustomize,
    git: opts.git ?? new IsomorphicGitFetcher(opts.workDir ? { workDir: opts.workDir } : {}),
    clock: opts.clock,
    workDir: opts.workDir,
    rolloutPollMs: opts.rolloutPollMs,
  });
  const byOwner = ownerKeyMapper(DEVSESSION_TYPE);
  const controller = new Controller<KubernetesObject>({
    name: 'devsession',
    for: sessions,
    forType: DEVSESSION_TYPE,
    watches: [
      { informer: sessions, map: (o) => dependentsOf(o, sessions.list()) },
      { informer: imageBuilds, map: (o) => { const r = byOwner(o); return r.length ? r : sessionFromLabels(o); } },
      { informer: pods, map: sessionFromLabels },
    ],
    predicate: sessionChanged,
    reconciler,
    workers: opts.workers,
    metrics: opts.metrics,
    events: opts.events,
    logger: opts.logger,
    clock: opts.clock,
  });
  return { controller, reconciler, informers: { sessions, imageBuilds, pods } };
}
