// Prometheus metrics of the operator (prefix dsa_operator_). One object per process, created by main/Manager and
// handed to controllers; tests create their own with a private Registry so registrations never collide.
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'dsa_operator_';

/** Label values of reconcile_total{result}. */
export type ReconcileResult = 'success' | 'requeue' | 'error' | 'terminal' | 'conflict';

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  reconcileDuration: Histogram<'controller'>;
  workqueueDepth: Gauge<'controller'>;
  workqueueAdds: Counter<'controller'>;
  workqueueRetries: Counter<'controller'>;
  informerRestarts: Gauge<'informer'>;
  /** ImageBuild outcomes: result = succeeded | failed | ... (set by the ImageBuild controller). */
  buildsTotal: Counter<'result'>;
  /** 1 while this replica holds the leader Lease. */
  leader: Gauge;
  /**
   * Every request the operator sends to the apiserver, by HTTP verb (WATCH for watch connections), counted
   * where all client-node API calls pass (runtime/connection-reuse.ts). Writes = POST + PUT + PATCH + DELETE.
   */
  apiRequests: Counter<'verb'>;
}

export interface CreateMetricsOptions {
  registry?: Registry;
  /** process_* / nodejs_* default metrics (default true). */
  defaultMetrics?: boolean;
}

export function createMetrics(opts: CreateMetricsOptions = {}): OperatorMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const p = METRIC_PREFIX;
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({ name: `${p}reconcile_total`, help: 'Reconciles by controller and result.', labelNames: ['controller', 'result'], registers }),
    reconcileErrors: new Counter({ name: `${p}reconcile_errors_total`, help: 'Reconciles that failed (error or terminal).', labelNames: ['controller'], registers }),
    reconcileDuration: new Histogram({
      name: `${p}reconcile_duration_seconds`,
      help: 'Reconcile duration.',
      labelNames: ['controller'],
      // Reconciles are mostly a few API calls; the long tail is builds/uploads polled with requeueAfter.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    workqueueDepth: new Gauge({ name: `${p}workqueue_depth`, help: 'Keys waiting in the work queue.', labelNames: ['controller'], registers }),
    workqueueAdds: new Counter({ name: `${p}workqueue_adds_total`, help: 'Adds to the work queue (before dedupe).', labelNames: ['controller'], registers }),
    workqueueRetries: new Counter({ name: `${p}workqueue_retries_total`, help: 'Rate-limited requeues.', labelNames: ['controller'], registers }),
    informerRestarts: new Gauge({ name: `${p}informer_restarts`, help: 'Times an informer restarted after a list/watch error.', labelNames: ['informer'], registers }),
    buildsTotal: new Counter({ name: `${p}builds_total`, help: 'Image builds by result.', labelNames: ['result'], registers }),
    leader: new Gauge({ name: `${p}leader`, help: '1 if this replica is the leader.', registers }),
    apiRequests: new Counter({ name: `${p}api_requests_total`, help: 'Requests sent to the apiserver, by verb (WATCH: watch connections).', labelNames: ['verb'], registers }),
  };
}
