// Is an applied object "there yet"? The same checks `kubectl rollout status` makes
// (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go), plus Jobs and Pods. Kinds without a
// rollout notion are ready as soon as the apiserver accepted them.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface Readiness {
  ready: boolean;
  /** Definitively failed (Job Failed, Deployment ProgressDeadlineExceeded): waiting will not help. */
  failed?: boolean;
  message: string;
}

type Json = Record<string, unknown>;
const num = (v: unknown, d = 0): number => (typeof v === 'number' ? v : d);
interface Cond {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
const conds = (status: Json): Cond[] => (Array.isArray(status.conditions) ? (status.conditions as Cond[]) : []);

/** Readiness of one live object (as read back from the apiserver). */
export function objectReadiness(obj: KubernetesObject): Readiness {
  const o = obj as KubernetesObject & { spec?: Json; status?: Json };
  const spec = o.spec ?? {};
  const status = o.status ?? {};
  const name = `${o.kind}/${o.metadata?.name ?? '?'}`;
  const generation = o.metadata?.generation ?? 0;
  const observed = num(status.observedGeneration, -1);
  const stale = generation > 0 && observed < generation;
  switch (o.kind) {
    case 'Deployment': {
      if (stale) return { ready: false, message: `${name}: waiting for the controller to observe generation ${generation}` };
      const stuck = conds(status).find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
      if (stuck) return { ready: false, failed: true, message: `${name}: ${stuck.message ?? 'progress deadline exceeded'}` };
      const want = num(spec.replicas, 1);
      const updated = num(status.updatedReplicas);
      const total = num(status.replicas);
      const available = num(status.availableReplicas);
      if (updated < want) return { ready: false, message: `${name}: ${updated} of ${want} updated replicas` };
      if (total > updated) return { ready: false, message: `${name}: ${total - updated} old replicas pending termination` };
      if (available < updated) return { ready: false, message: `${name}: ${available} of ${updated} updated replicas available` };
      return { ready: true, message: `${name}: rollout complete` };
    }
    case 'StatefulSet': {
      if (stale) return { ready: false, message: `${name}: waiting for the controller to observe generation ${generation}` };
      const want = num(spec.replicas, 1);
      const ready = num(status.readyReplicas);
      if (ready < want) return { ready: false, message: `${name}: ${ready} of ${want} replicas ready` };
      const strategy = (spec.updateStrategy ?? {}) as Json;
      if (strategy.type === 'OnDelete') return { ready: true, message: `${name}: ready (OnDelete strategy)` };
      const partition = num(((strategy.rollingUpdate ?? {}) as Json).partition);
      const updated = num(status.updatedReplicas);
      if (partition > 0) {
        if (updated < want - partition) return { ready: false, message: `${name}: ${updated} of ${want - partition} partitioned replicas updated` };
        return { ready: true, message: `${name}: partitioned rollout complete` };
      }
      if (status.updateRevision !== status.currentRevision) return { ready: false, message: `${name}: ${updated} of ${want} replicas updated` };
      return { ready: true, message: `${name}: rollout complete` };
    }
    case 'DaemonSet': {
      if (stale) return { ready: false, message: `${name}: waiting for the controller to observe generation ${generation}` };
      const want = num(status.desiredNumberScheduled);
      const updated = num(status.updatedNumberScheduled);
      const available = num(status.numberAvailable);
      if (updated < want) return { ready: false, message: `${name}: ${updated} of ${want} updated pods scheduled` };
      if (available < want) return { ready: false, message: `${name}: ${available} of ${want} updated pods available` };
      return { ready: true, message: `${name}: rollout complete` };
    }
    case 'ReplicaSet':
    case 'ReplicationController': {
      if (stale) return { ready: false, message: `${name}: waiting for the controller to observe generation ${generation}` };
      const want = num(spec.replicas, 1);
      const available = num(status.availableReplicas);
      if (available < want) return { ready: false, message: `${name}: ${available} of ${want} replicas available` };
      return { ready: true, message: `${name}: ready` };
    }
    case 'Job': {
      const c = conds(status);
      const failed = c.find((x) => x.type === 'Failed' && x.status === 'True');
      if (failed) return { ready: false, failed: true, message: `${name}: failed: ${failed.message ?? failed.reason ?? 'job failed'}` };
      if (c.some((x) => x.type === 'Complete' && x.status === 'True')) return { ready: true, message: `${name}: complete` };
      return { ready: false, message: `${name}: ${num(status.succeeded)} of ${num(spec.completions, 1)} completions` };
    }
    case 'Pod': {
      const phase = status.phase;
      if (phase === 'Succeeded') return { ready: true, message: `${name}: succeeded` };
      if (phase === 'Failed') return { ready: false, failed: true, message: `${name}: failed${typeof status.message === 'string' ? `: ${status.message}` : ''}` };
      if (conds(status).some((x) => x.type === 'Ready' && x.status === 'True')) return { ready: true, message: `${name}: running and ready` };
      return { ready: false, message: `${name}: ${typeof phase === 'string' ? phase : 'Pending'}` };
    }
    default:
      return { ready: true, message: `${name}: applied` };
  }
}

/** Kinds whose readiness needs watching after apply. */
export const ROLLOUT_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'Pod']);

/** One deployment's readiness from its objects' readiness: ready when all are; first blocker explains. */
export function summarizeReadiness(items: readonly Readiness[]): Readiness {
  const failed = items.find((r) => r.failed);
  if (failed) return failed;
  const pending = items.filter((r) => !r.ready);
  if (pending.length > 0) {
    const first = pending[0]!;
    return { ready: false, message: pending.length > 1 ? `${first.message} (+${pending.length - 1} more not ready)` : first.message };
  }
  return { ready: true, message: items.length === 0 ? 'nothing to deploy' : items.length === 1 ? items[0]!.message : `${items.length} objects ready` };
}
