// The informers both controllers share, created once per operator (main.ts) or per test harness:
//
//   devsessions      scope selector          DevSession controller (primary), dev-pods controller, dependencies
//   imagebuilds      scope selector          ImageBuild controller (primary), DevSession controller (children)
//   session pods     label dsa.dev/session   DevSession controller: rollouts of what a session deployed
//   build pods       component label         ImageBuild controller: the build pod's progress
//   namespaces       label operator-scope    the scope filter (scope inherited from the namespace)
//   pods@<ns>        none, on demand         dev-pods controller, only namespaces with dev pods
//
// One informer per (resource, namespace scope, selector): see runtime/informer-cache.ts.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject, V1Namespace, V1Pod } from '@kubernetes/client-node';
import { DEVSESSION, GROUP, IMAGEBUILD, LABELS, VERSION } from '@dsa/api';
import { InformerCache, ResourceInformer, reuseConnections, type Clock, type InformerFactory, type Logger, type SharedInformer } from '../runtime/index.js';
import { ScopeFilter, SCOPED_NAMESPACES_SELECTOR, watchSelector } from '../scope/scope.js';
import { BUILD_POD_COMPONENT } from './imagebuild/desired-build-pod.js';

export interface OperatorCacheOptions {
  /** Namespaces to watch; empty/undefined = all. */
  namespaces?: readonly string[];
  /** This operator's scope ('' = the default: objects without one). */
  scope?: string;
  /** Extra label selector for DevSessions and ImageBuilds. */
  watchLabelSelector?: string;
  logger?: Logger;
  clock?: Clock;
  /** Informer relist period (default: the runtime's 5 minutes). */
  resyncPeriodMs?: number;
  /** Tests: informers without an apiserver. */
  factory?: InformerFactory;
}

export interface OperatorCache {
  cache: InformerCache;
  sessions: SharedInformer<KubernetesObject>;
  imageBuilds: SharedInformer<KubernetesObject>;
  sessionPods: SharedInformer<KubernetesObject>;
  buildPods: SharedInformer<V1Pod>;
  namespaces: SharedInformer<V1Namespace>;
  scope: ScopeFilter;
  /** The unlabelled pods of one namespace, started on first use (dev pods select any pod). */
  podsIn(namespace: string): SharedInformer<V1Pod>;
}

export function kubeInformerFactory(kc: k8s.KubeConfig, opts: Pick<OperatorCacheOptions, 'logger' | 'clock' | 'resyncPeriodMs'>): InformerFactory {
  return (key, name) =>
    ResourceInformer.forResource<KubernetesObject>(kc, key, {
      name,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.resyncPeriodMs !== undefined ? { resyncPeriodMs: opts.resyncPeriodMs } : {}),
    });
}

export function createOperatorCache(kc: k8s.KubeConfig | undefined, opts: OperatorCacheOptions = {}): OperatorCache {
  if (kc) reuseConnections(kc);
  const factory = opts.factory ?? (kc ? kubeInformerFactory(kc, opts) : undefined);
  if (!factory) throw new Error('createOperatorCache: a KubeConfig or an informer factory is needed');
  const cache = new InformerCache({ factory, namespaces: opts.namespaces, logger: opts.logger });
  const scopeName = opts.scope ?? '';
  const selector = watchSelector({ scope: scopeName, watchLabelSelector: opts.watchLabelSelector });
  const sessions = cache.scoped<KubernetesObject>({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, labelSelector: selector }, 'devsessions');
  const imageBuilds = cache.scoped<KubernetesObject>({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, labelSelector: selector }, 'imagebuilds');
  // Only pods dsa labelled (decorateObjects puts the session label on pod templates).
  const sessionPods = cache.scoped<KubernetesObject>({ group: '', version: 'v1', plural: 'pods', labelSelector: LABELS.session }, 'session-pods');
  const buildPods = cache.scoped<V1Pod>({ group: '', version: 'v1', plural: 'pods', labelSelector: `${LABELS.component}=${BUILD_POD_COMPONENT}` }, 'build-pods');
  const namespaces = cache.informer<V1Namespace>({ group: '', version: 'v1', plural: 'namespaces', labelSelector: SCOPED_NAMESPACES_SELECTOR }, 'scoped-namespaces');
  return {
    cache,
    sessions,
    imageBuilds,
    sessionPods,
    buildPods,
    namespaces,
    scope: new ScopeFilter(scopeName, namespaces),
    podsIn: (namespace) => cache.informer<V1Pod>({ group: '', version: 'v1', plural: 'pods', namespace }, `pods@${namespace}`),
  };
}
