// In-memory AnalyzeKube for the analyze, rollout and deploy tests (not a test file itself). Label
// selectors are applied for real (equality terms), so a wrong selector finds nothing.
import type { CoreV1Event, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { DevSession, ImageBuild } from '@dsa/api';
import type { AnalyzeKube, LogOptions } from './kube.js';

export function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels?.[k!] === v;
  });
}

export class FakeAnalyzeKube implements AnalyzeKube {
  pods: V1Pod[] = [];
  replicaSets: V1ReplicaSet[] = [];
  events: CoreV1Event[] = [];
  sessions: DevSession[] = [];
  imageBuilds: ImageBuild[] = [];
  /** `<pod>/<container>[/previous]` → log text. */
  logs = new Map<string, string>();
  calls: string[] = [];

  async listPods(namespace: string, labelSelector?: string) {
    this.calls.push(`pods ${namespace} ${labelSelector ?? ''}`.trim());
    return structuredClone(this.pods.filter((p) => p.metadata?.namespace === namespace && matches(p.metadata?.labels, labelSelector)));
  }
  async listWarningEvents(namespace: string) {
    this.calls.push(`events ${namespace}`);
    return structuredClone(this.events.filter((e) => (e.metadata?.namespace ?? e.involvedObject?.namespace) === namespace && e.type === 'Warning'));
  }
  async listReplicaSets(namespace: string, labelSelector?: string) {
    return structuredClone(this.replicaSets.filter((r) => r.metadata?.namespace === namespace && matches(r.metadata?.labels, labelSelector)));
  }
  async listSessions(namespace: string) {
    return structuredClone(this.sessions.filter((s) => s.metadata.namespace === namespace));
  }
  async listImageBuilds(namespace: string, labelSelector?: string) {
    return structuredClone(this.imageBuilds.filter((b) => b.metadata.namespace === namespace && matches(b.metadata.labels, labelSelector)));
  }
  async podLog(namespace: string, pod: string, container: string, o: LogOptions) {
    this.calls.push(`log ${namespace}/${pod}/${container}${o.previous ? ' previous' : ''}`);
    const text = this.logs.get(`${pod}/${container}${o.previous ? '/previous' : ''}`);
    if (text === undefined) throw new Error(`previous terminated container "${container}" in pod "${pod}" not found`);
    return text;
  }
}

/** A pod of `session` (the labels the operator stamps) owned by `owner`, in one of a few states. */
export function sessionPod(
  name: string,
  o: { session: string; namespace?: string; owner?: { kind: string; name: string; uid: string }; state: 'crashloop' | 'ready' | 'creating' | 'pending-unschedulable' | 'pull' },
): V1Pod {
  const namespace = o.namespace ?? 'dev';
  const t = '2026-11-30T02:40:00Z' as unknown as Date;
  const base: V1Pod = {
    metadata: {
      name,
      namespace,
      labels: { 'dsa.dev/session': o.session, 'dsa.dev/session-namespace': namespace, app: 'x' },
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, uid: o.owner.uid, controller: true }] } : {}),
      creationTimestamp: t,
    },
    spec: { containers: [{ name: 'app', image: 'reg/app:1' }], restartPolicy: 'Always' },
    status: { phase: 'Running', startTime: t },
  };
  switch (o.state) {
    case 'crashloop':
      base.status!.containerStatuses = [
        {
          name: 'app',
          image: 'reg/app:1',
          imageID: '',
          ready: false,
          restartCount: 2,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=app' } },
          lastState: { terminated: { exitCode: 3, reason: 'Error', startedAt: t, finishedAt: t } },
        },
      ];
      base.status!.conditions = [{ type: 'Ready', status: 'False' }];
      break;
    case 'ready':
      base.status!.containerStatuses = [{ name: 'app', image: 'reg/app:1', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: t } } }];
      base.status!.conditions = [{ type: 'Ready', status: 'True' }];
      break;
    case 'creating':
      base.status!.phase = 'Pending';
      base.status!.containerStatuses = [{ name: 'app', image: 'reg/app:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }];
      base.status!.conditions = [{ type: 'Ready', status: 'False' }];
      break;
    case 'pending-unschedulable':
      base.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }] };
      break;
    case 'pull':
      base.status!.phase = 'Pending';
      base.status!.containerStatuses = [
        { name: 'app', image: 'reg/app:1', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "reg/app:1": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "reg/app:1": failed to resolve reference "reg/app:1": reg/app:1: not found' } } },
      ];
      break;
  }
  return base;
}

/** A ReplicaSet of Deployment `deployment` (uid `deployUid`) at `revision`. */
export function replicaSet(name: string, o: { session: string; deployment: string; deployUid: string; revision: number; replicas: number; ready: number; namespace?: string }): V1ReplicaSet {
  return {
    metadata: {
      name,
      namespace: o.namespace ?? 'dev',
      uid: `${name}-uid`,
      labels: { 'dsa.dev/session': o.session, 'dsa.dev/session-namespace': o.namespace ?? 'dev' },
      annotations: { 'deployment.kubernetes.io/revision': String(o.revision) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: o.deployment, uid: o.deployUid, controller: true }],
    },
    spec: { replicas: o.replicas, selector: {} },
    status: { replicas: o.replicas, readyReplicas: o.ready },
  };
}
