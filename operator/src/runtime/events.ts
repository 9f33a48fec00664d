// events.k8s.io/v1 Event recorder. There is no client-go-style aggregation in TS, so callers emit on transitions
// only (recordOnce remembers the last event per object+key). Recording never throws: an Event is diagnostics,
// never a reason to fail or retry a reconcile.
import * as k8s from '@kubernetes/client-node';
import type { EventsV1Event, KubernetesObject } from '@kubernetes/client-node';
import { realClock, type Clock } from './clock.js';
import { apiErrorMessage } from './api-errors.js';
import { silentLogger, type Logger } from '../log.js';

export const REPORTING_CONTROLLER = 'dsa.dev/operator';

export type EventType = 'Normal' | 'Warning';

export interface EventSpec {
  type: EventType;
  /** CamelCase machine-readable reason, e.g. "BuildFailed". */
  reason: string;
  /** What was done/attempted, machine-readable verb, e.g. "Build", "Reconcile". */
  action: string;
  /** Human-readable text (truncated to 1 KiB as the API requires). */
  note: string;
  related?: KubernetesObject;
}

/** Narrow write interface so tests use an in-memory sink. */
export interface EventSink {
  create(namespace: string, event: EventsV1Event): Promise<unknown>;
}

export function eventSinkFromApi(api: k8s.EventsV1Api): EventSink {
  return { create: (namespace, body) => api.createNamespacedEvent({ namespace, body }) };
}

export interface EventRecorderOptions {
  sink: EventSink;
  /** Pod name (or hostname) of this replica. */
  reportingInstance: string;
  reportingController?: string;
  clock?: Clock;
  logger?: Logger;
  /** How many object+key fingerprints recordOnce remembers (oldest evicted first). Default 4096. */
  dedupeCacheSize?: number;
}

function reference(obj: KubernetesObject): k8s.V1ObjectReference {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata?.name,
    namespace: obj.metadata?.namespace,
    uid: obj.metadata?.uid,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}

const truncate = (s: string, n: number) => (s.length <= n ? s : s.slice(0, n - 3) + '...');

export class EventRecorder {
  private readonly sink: EventSink;
  private readonly reportingController: string;
  private readonly reportingInstance: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly maxEntries: number;
  /** objectId \0 key → fingerprint of the last event recorded for it. Map keeps insertion order → cheap LRU. */
  private readonly last = new Map<string, string>();
  private seq = 0;

  constructor(opts: EventRecorderOptions) {
    this.sink = opts.sink;
    this.reportingController = opts.reportingController ?? REPORTING_CONTROLLER;
    this.reportingInstance = truncate(opts.reportingInstance, 128);
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ component: 'events' });
    this.maxEntries = opts.dedupeCacheSize ?? 4096;
  }

  /** Build the Event body (exposed for tests and for callers that batch). */
  build(obj: KubernetesObject, spec: EventSpec): { namespace: string; event: EventsV1Event } {
    const now = this.clock.now();
    const name = obj.metadata?.name ?? 'unknown';
    // Cluster-scoped objects get their events in "default", as kubectl and client-go do.
    const namespace = obj.metadata?.namespace || 'default';
    const suffix = `${now.toString(16)}${(this.seq++ & 0xffff).toString(16).padStart(4, '0')}`;
    const event: EventsV1Event = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${name.slice(0, 253 - suffix.length - 1)}.${suffix}`, namespace },
      eventTime: new k8s.V1MicroTime(now),
      type: spec.type,
      reason: truncate(spec.reason, 128),
      action: truncate(spec.action, 128),
      note: truncate(spec.note, 1024),
      regarding: reference(obj),
      related: spec.related ? reference(spec.related) : undefined,
      reportingController: this.reportingController,
      reportingInstance: this.reportingInstance,
    };
    return { namespace, event };
  }

  /** Write one Event. Resolves false (and logs) on failure; never throws. */
  async event(obj: KubernetesObject, spec: EventSpec): Promise<boolean> {
    try {
      const { namespace, event } = this.build(obj, spec);
      await this.sink.create(namespace, event);
      return true;
    } catch (e) {
      this.log.warn({ err: apiErrorMessage(e), reason: spec.reason, object: obj.metadata?.name }, 'failed to record event');
      return false;
    }
  }

  /**
   * Emit only on a transition: records when the (type, reason, note) for this object and `key` differs from the
   * last one recorded. `key` scopes independent streams on one object (e.g. "Ready", "Build").
   */
  async recordOnce(obj: KubernetesObject, key: string, spec: EventSpec): Promise<boolean> {
    const id = `${obj.metadata?.uid ?? `${obj.metadata?.namespace}/${obj.metadata?.name}`}\0${key}`;
    const fingerprint = `${spec.type}\0${spec.reason}\0${spec.note}`;
    if (this.last.get(id) === fingerprint) return false;
    this.last.delete(id);
    this.last.set(id, fingerprint);
    if (this.last.size > this.maxEntries) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    return this.event(obj, spec);
  }

  /** Drop recordOnce memory for an object (call when it is deleted). */
  forget(obj: KubernetesObject): void {
    const prefix = `${obj.metadata?.uid ?? `${obj.metadata?.namespace}/${obj.metadata?.name}`}\0`;
    for (const id of [...this.last.keys()]) if (id.startsWith(prefix)) this.last.delete(id);
  }
}
