// dsa operator entry point: flags/env → wiring only. Everything with behaviour lives in runtime/ and
// controllers/; this file loads config and kubeconfig, builds the Manager, registers the two controllers and
// turns the Manager's exit into a process exit code (the only place the operator calls process.exit).
//
// Run from source: `tsx operator/src/main.ts --leader-elect=false` (make run); in the image the esbuild bundle
// of this file is /app/operator.mjs.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { ConfigError, DEFAULT_HELPER_IMAGE, DEFAULT_KANIKO_IMAGE, loadConfig, usage, type OperatorConfig } from './config.js';
import { createImageBuildController } from './controllers/imagebuild/controller.js';
import { createDevSessionController } from './controllers/devsession/controller.js';
import { createAgentPresenceController } from './controllers/devsession/agent-presence.js';
import { createOperatorCache, type OperatorCache } from './controllers/operator-cache.js';
import { createLogger, type Logger } from './log.js';
import { publishOperatorInfo } from './operator-info.js';
import {
  Manager,
  EventRecorder,
  eventSinkFromApi,
  leaseClientFromApi,
  defaultIdentity,
  createMetrics,
  observeRequests,
  reuseConnections,
  Impersonator,
  type ManagerExit,
  type OperatorMetrics,
} from './runtime/index.js';

/** Replaced at bundle time (operator/build/bundle.mjs); "dev" when run from source. */
declare const __DSA_VERSION__: string | undefined;
export const VERSION = typeof __DSA_VERSION__ === 'string' ? __DSA_VERSION__ : 'dev';

/**
 * KUBECONFIG / ~/.kube/config / in-cluster, or an explicit file. client-node silently falls back to
 * http://localhost:8080 when it finds nothing; an operator talking to the wrong endpoint is worse than one that
 * refuses to start, so that case is an error.
 */
export function loadKubeConfig(cfg: Pick<OperatorConfig, 'kubeconfig'>): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (cfg.kubeconfig) kc.loadFromFile(cfg.kubeconfig);
  else kc.loadFromDefault();
  const server = kc.getCurrentCluster()?.server;
  if (!server || server === 'http://localhost:8080') {
    throw new ConfigError('no Kubernetes configuration found: set KUBECONFIG, pass --kubeconfig, or run in a pod with a service account');
  }
  // Keep-alive connections: without them every API call opens a new TLS connection (runtime/connection-reuse.ts).
  return reuseConnections(kc);
}

export interface WiringDeps {
  manager: Manager;
  kc: k8s.KubeConfig;
  cfg: OperatorConfig;
  log: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
}

/**
 * Register the ImageBuild and DevSession controllers (and the dev-pods controller) over ONE shared informer
 * cache: one informer per kind and namespace scope, whoever reads it. With a list of namespaces each kind gets
 * one informer per namespace (what namespaced RBAC allows) behind one view, and one work queue per controller.
 */
export function registerControllers(deps: WiringDeps): OperatorCache {
  const { manager, kc, cfg, log, metrics, events } = deps;
  const pod = {
    kanikoImage: cfg.kanikoImage ?? DEFAULT_KANIKO_IMAGE,
    helperImage: cfg.helperImage ?? DEFAULT_HELPER_IMAGE,
    maxContextBytes: cfg.maxBuildContextBytes,
    insecureRegistries: cfg.insecureRegistries,
    allowedBuilderImages: cfg.allowedBuilderImages,
  };
  const cache = createOperatorCache(kc, { namespaces: cfg.watchNamespaces, scope: cfg.scope, watchLabelSelector: cfg.watchLabelSelector, logger: log });
  // One impersonating config per ServiceAccount, shared by both controllers (docs/security.md).
  const impersonator = new Impersonator(kc);
  const addressPolicy = { allow: cfg.allowInternalHosts };
  manager.add(
    createImageBuildController(kc, { pod, cache, workers: cfg.concurrency, metrics, events, logger: log, impersonator, confinement: cfg.confinement, addressPolicy }).controller,
  );
  const ds = createDevSessionController({
    kc,
    cache,
    workers: cfg.concurrency,
    metrics,
    events,
    logger: log,
    impersonator,
    confinement: cfg.confinement,
    addressPolicy,
    insecureRegistries: cfg.insecureRegistries,
    ...(cfg.sidecarImage ? { sidecarImage: cfg.sidecarImage } : {}),
  });
  manager.add(ds.controller).add(ds.devPods).add(createAgentPresenceController({ kc, sessions: cache.sessions, metrics, logger: log }));
  // Informers started on demand (the pods of namespaces with dev pods) stop with the cache.
  manager.onStop(() => cache.cache.stop());
  log.info(
    {
      kanikoImage: pod.kanikoImage,
      helperImage: pod.helperImage,
      sidecarImage: cfg.sidecarImage ?? '(none: dev pods get no sidecar)',
      namespaces: cfg.watchNamespaces.length ? cfg.watchNamespaces : 'all',
      scope: cfg.scope || '(default)',
      watchLabelSelector: cfg.watchLabelSelector || undefined,
      confinement: cfg.confinement.impersonate
        ? { impersonate: `system:serviceaccount:<session namespace>:${cfg.confinement.defaultServiceAccount}`, allowCrossNamespace: cfg.confinement.allowCrossNamespace, allowClusterScoped: cfg.confinement.allowClusterScoped }
        : 'UNCONFINED: sessions deploy with the operator\'s own rights',
      insecureRegistries: cfg.insecureRegistries.length ? cfg.insecureRegistries : undefined,
    },
    'controllers registered',
  );
  return cache;
}

export interface Operator {
  manager: Manager;
  kc: k8s.KubeConfig;
  log: Logger;
}

/** Build the Manager with both controllers; does not start it. Used by main() and by the benchmark. */
export function buildOperator(cfg: OperatorConfig, deps: { kc: k8s.KubeConfig; log: Logger; env?: Record<string, string | undefined> }): Operator {
  const { kc, log } = deps;
  const env = deps.env ?? process.env;
  const metrics = createMetrics();
  // Every request to the apiserver, by verb: how the benchmark proves a restart writes nothing.
  observeRequests(kc, (verb) => metrics.apiRequests.inc({ verb }));
  const identity = defaultIdentity(env);
  const manager = new Manager({
    logger: log,
    metrics,
    http: cfg.metricsBind === false ? false : { port: cfg.metricsBind.port, ...(cfg.metricsBind.host ? { host: cfg.metricsBind.host } : {}) },
    leaderElection: cfg.leaderElect
      ? {
          namespace: cfg.leaderElectionNamespace,
          name: cfg.leaderElectionId,
          identity,
          client: leaseClientFromApi(kc.makeApiClient(k8s.CoordinationV1Api)),
        }
      : false,
    drainTimeoutMs: cfg.shutdownTimeoutMs,
  });
  const events = new EventRecorder({
    sink: eventSinkFromApi(kc.makeApiClient(k8s.EventsV1Api)),
    reportingInstance: env.POD_NAME || identity,
    logger: log,
  });
  registerControllers({ manager, kc, cfg, log, metrics, events });
  return { manager, kc, log };
}

export async function main(argv: readonly string[] = process.argv.slice(2), env: Record<string, string | undefined> = process.env): Promise<number> {
  let cfg: OperatorConfig;
  try {
    cfg = loadConfig({ argv, env });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`dsa-operator: ${e.message}\n\n${usage()}\n`);
      return 2;
    }
    throw e;
  }
  if (cfg.help) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  if (cfg.version) {
    process.stdout.write(`dsa-operator ${VERSION}\n`);
    return 0;
  }
  const log = createLogger({ level: cfg.logLevel });
  // A promise nobody awaited failed: state is unknown, so log it and exit; the Deployment restarts the pod.
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled promise rejection; exiting');
    process.exit(1);
  });

  let kc: k8s.KubeConfig;
  try {
    kc = loadKubeConfig(cfg);
  } catch (e) {
    // A setup problem, not a bug: the message says what to fix; a stack trace would only bury it.
    log.fatal({ err: e instanceof Error ? e.message : String(e) }, 'cannot load kubeconfig');
    return 2;
  }
  log.info(
    {
      version: VERSION,
      server: kc.getCurrentCluster()?.server,
      watchNamespaces: cfg.watchNamespaces.length ? cfg.watchNamespaces : 'all',
      scope: cfg.scope || '(default)',
      leaderElect: cfg.leaderElect,
      leaderElectionNamespace: cfg.leaderElectionNamespace || undefined,
      concurrency: cfg.concurrency,
    },
    'dsa operator starting',
  );
  const { manager } = buildOperator(cfg, { kc, log, env });
  void publishOperatorInfo(kc, { namespace: cfg.leaderElectionNamespace || env.POD_NAMESPACE || '', version: VERSION, scope: cfg.scope, log });
  manager.handleSignals();
  // A second SIGTERM/SIGINT while draining means "now": the first one already started a graceful stop. Signals
  // within a second of the first count as the same one: Ctrl-C under `tsx` (make run) reaches this process both
  // from the terminal's process group and relayed by tsx.
  let firstSignalAt = 0;
  const hard = () => {
    const now = Date.now();
    if (!firstSignalAt) firstSignalAt = now;
    else if (now - firstSignalAt > 1000) {
      log.warn('second signal during shutdown; exiting immediately');
      process.exit(1);
    }
  };
  process.on('SIGTERM', hard);
  process.on('SIGINT', hard);
  const exit: ManagerExit = await manager.start();
  if (exit.exitCode !== 0) log.error({ reason: exit.reason, err: exit.error }, 'operator exiting with an error');
  return exit.exitCode;
}

// Run only when executed (tsx operator/src/main.ts, node /app/operator.mjs), not when imported by tests/bench.
const invokedDirectly = (() => {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main().then(
    (code) => {
      // Flush pino's stdout buffer before exiting.
      process.exitCode = code;
      setTimeout(() => process.exit(code), 100).unref();
    },
    (e: unknown) => {
      process.stderr.write(`dsa-operator: fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
