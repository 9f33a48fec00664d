// What is wrong with a pod, from its status and its events, with what to do about it. Pure: the
// fixtures in __fixtures__/ are real pods of a real cluster (crash loop, OOM kill, pull failures,
// unschedulable, failing readiness probe, missing ConfigMap).
//
// Each problem also says how soon a rollout waiting for this pod may give up (failFastAfterMs, see
// rollout.ts): a crash loop or a missing image cannot heal by waiting, a pending pod may get a node.
import type { CoreV1Event, V1Container, V1ContainerStatus, V1ContainerStateTerminated, V1Pod, V1Probe } from '@kubernetes/client-node';
import { LABELS } from '@dsa/api';
import { age, eventLine, eventsAbout, eventTime, oneLine } from './events.js';
import type { ObjectRef, Problem } from './model.js';
import { classifyRegistryError, pullHint, pullReason, registryOf } from './registry.js';

export interface PodCheckOptions {
  now: Date;
  /** A running container that is not ready for this long is reported (default 30 s). */
  notReadyAfterMs?: number;
  /** A container stuck in ContainerCreating this long, with warning events, is reported (default 60 s). */
  creatingAfterMs?: number;
  /** Restarts before this window are history (default 2 h, as DevSpace's analyze). */
  restartWindowMs?: number;
}

/** A problem, plus how long it must persist before a rollout waiting for the pod stops (undefined: never). */
export interface PodProblem extends Problem {
  failFastAfterMs?: number;
}

const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const CREATE_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'PreCreateHookError', 'PostStartHookError', 'PreStartHookError']);

const ms = (t: unknown): number | undefined => {
  if (t === undefined || t === null) return undefined;
  const d = new Date(t as string);
  return Number.isNaN(d.getTime()) ? undefined : d.getTime();
};

export const podRef = (pod: V1Pod): ObjectRef => ({ kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '?' });

/** dsa's own build pods: the ImageBuild's status reports them (and a failed one is kept an hour for its logs). */
export const isBuildPod = (pod: V1Pod): boolean => pod.metadata?.labels?.[LABELS.imageBuild] !== undefined;

const ownerKind = (pod: V1Pod): string | undefined => pod.metadata?.ownerReferences?.find((r) => r.controller)?.kind ?? pod.metadata?.ownerReferences?.[0]?.kind;

/** Every problem of one pod. A pod being deleted has none (it is on its way out). */
export function podProblems(pod: V1Pod, events: readonly CoreV1Event[], opts: PodCheckOptions): PodProblem[] {
  if (pod.metadata?.deletionTimestamp) return [];
  const ref = podRef(pod);
  const podEvents = eventsAbout(events, ref);
  const out: PodProblem[] = [];
  const status = pod.status ?? {};
  if (status.phase === 'Succeeded') return [];

  const scheduled = status.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const message = oneLine(scheduled.message ?? podEvents.find((e) => e.reason === 'FailedScheduling')?.message ?? 'no node fits');
    out.push({
      kind: 'Unschedulable',
      severity: 'error',
      object: ref,
      summary: `cannot be scheduled: ${message}`,
      details: podEvents.filter((e) => e.reason === 'FailedScheduling').slice(0, 1).map((e) => eventLine(e, opts.now)),
      hint: schedulingHint(message, pod),
      failFastAfterMs: 5_000,
    });
    return out;
  }

  if (status.phase === 'Failed') {
    out.push(failedPod(pod, ref));
    return out;
  }

  const specs = new Map<string, V1Container>([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => [c.name, c]));
  const statuses: Array<[V1ContainerStatus, boolean]> = [
    ...(status.initContainerStatuses ?? []).map((s): [V1ContainerStatus, boolean] => [s, true]),
    ...(status.containerStatuses ?? []).map((s): [V1ContainerStatus, boolean] => [s, false]),
  ];
  for (const [cs, init] of statuses) {
    const p = containerProblem(pod, ref, cs, init, specs.get(cs.name), podEvents, opts);
    if (p) out.push(p);
  }
  return out;
}

function containerProblem(pod: V1Pod, ref: ObjectRef, cs: V1ContainerStatus, init: boolean, spec: V1Container | undefined, events: CoreV1Event[], opts: PodCheckOptions): PodProblem | undefined {
  const now = opts.now.getTime();
  const waiting = cs.state?.waiting;
  const term = cs.state?.terminated;
  const last = cs.lastState?.terminated;
  const restarts = cs.restartCount ?? 0;
  const base = { object: ref, container: cs.name, ...(restarts > 0 ? { restarts } : {}) };
  const mine = events.filter((e) => !e.involvedObject?.fieldPath || e.involvedObject.fieldPath.includes(`{${cs.name}}`));

  if (waiting?.reason && PULL_REASONS.has(waiting.reason)) {
    const image = spec?.image ?? cs.image ?? '?';
    // ImagePullBackOff's own message is often just "Back-off pulling image"; the kubelet's Failed event has the registry's answer.
    let reason = pullReason(waiting.message ?? '');
    if (!waiting.message || /^Back-off pulling image/.test(reason)) {
      const failed = mine.find((e) => e.reason === 'Failed' && /^Failed to pull image/.test(e.message ?? ''));
      if (failed) reason = pullReason(failed.message ?? '');
    }
    const trouble = waiting.reason === 'InvalidImageName' ? 'invalid-name' : classifyRegistryError(`${reason} ${waiting.message ?? ''}`);
    return {
      ...base,
      kind: 'ImagePull',
      severity: 'error',
      summary: `cannot pull image ${image} (${waiting.reason})`,
      details: [`registry: ${oneLine(reason) || 'no reason given'}`],
      hint: pullHint(trouble, image, registryOf(`${waiting.message ?? ''} ${reason}`, image)),
      // A registry that answers "not found" or refuses the protocol will not change its mind; one that
      // does not answer at all may be restarting.
      failFastAfterMs: trouble === 'unreachable' || trouble === 'other' ? 10_000 : 0,
    };
  }

  if (waiting?.reason && CREATE_REASONS.has(waiting.reason)) {
    const message = oneLine(waiting.message ?? '');
    return {
      ...base,
      kind: 'ContainerConfig',
      severity: 'error',
      summary: `cannot start container ${cs.name} (${waiting.reason}): ${message}`,
      details: [],
      hint: createHint(message, ref.namespace),
      // The ConfigMap or Secret may be applied a moment later by the same deploy.
      failFastAfterMs: 15_000,
    };
  }

  // Crash loop: waiting in back-off, or terminated non-zero and about to be restarted.
  const restartable = init ? pod.spec?.restartPolicy !== 'Never' : pod.spec?.restartPolicy !== 'Never' && pod.spec?.restartPolicy !== 'OnFailure';
  const crashed = waiting?.reason === 'CrashLoopBackOff' ? (last ?? term) : term && term.exitCode !== 0 && restartable ? term : undefined;
  if (crashed || waiting?.reason === 'CrashLoopBackOff') {
    const t = crashed;
    const oom = t?.reason === 'OOMKilled';
    const code = t?.exitCode;
    const probe = mine.find((e) => e.reason === 'Unhealthy' && /^Liveness probe failed/.test(e.message ?? ''));
    const details = [
      ...(t?.message ? [`termination message: ${oneLine(t.message)}`] : []),
      ...(probe ? [eventLine(probe, opts.now)] : []),
      ...(waiting?.message ? [oneLine(waiting.message)] : []),
    ];
    const what = init ? `init container ${cs.name}` : 'the container';
    return {
      ...base,
      kind: oom ? 'OOMKilled' : init ? 'InitFailed' : 'CrashLoop',
      severity: 'error',
      summary: oom
        ? `${what} is killed for using more memory than its limit${limitOf(spec) ? ` (${limitOf(spec)})` : ''}, ${restarts} restart${restarts === 1 ? '' : 's'}`
        : `${init ? `init container ${cs.name} fails` : 'crash loop'}: exit code ${code ?? '?'}${t?.reason && t.reason !== 'Error' ? ` (${t.reason})` : ''}, ${restarts} restart${restarts === 1 ? '' : 's'}`,
      details,
      ...(code !== undefined ? { exitCode: code } : {}),
      // In back-off the container that crashed is the previous one; terminated (not restarted yet) it is the current one.
      logsFrom: waiting ? 'previous' : 'current',
      hint: oom ? oomHint(spec) : probe ? `the liveness probe kills it (${probeText(spec?.livenessProbe)}): make the app answer it, or give it more time (initialDelaySeconds, failureThreshold)` : exitHint(code, what),
      // One crash may be a dependency not up yet; a restart that crashes again is a loop.
      ...(waiting?.reason === 'CrashLoopBackOff' || restarts >= 1 ? { failFastAfterMs: 0 } : {}),
    };
  }

  if (waiting?.reason === 'ContainerCreating' || waiting?.reason === 'PodInitializing') {
    const since = ms(pod.status?.startTime) ?? ms(pod.metadata?.creationTimestamp) ?? now;
    const warnings = events.filter((e) => e.type === 'Warning' && /^Failed/.test(e.reason ?? ''));
    if (warnings.length > 0 && now - since >= (opts.creatingAfterMs ?? 60_000)) {
      return {
        ...base,
        kind: 'ContainerConfig',
        severity: 'error',
        summary: `stuck in ${waiting.reason} for ${age(now - since)}: ${warnings[0]!.reason}`,
        details: warnings.slice(0, 3).map((e) => eventLine(e, opts.now)),
        hint: createHint(warnings[0]!.message ?? '', ref.namespace),
        failFastAfterMs: 30_000,
      };
    }
    return undefined;
  }

  const running = cs.state?.running;
  if (running) {
    const recentRestart = last && restarts > 0 && now - (ms(last.finishedAt) ?? 0) <= (opts.restartWindowMs ?? 2 * 3600_000);
    if (recentRestart && last.reason === 'OOMKilled') {
      return {
        ...base,
        kind: 'OOMKilled',
        severity: 'error',
        summary: `was killed for using more memory than its limit${limitOf(spec) ? ` (${limitOf(spec)})` : ''} ${age(now - (ms(last.finishedAt) ?? now))} ago; ${restarts} restart${restarts === 1 ? '' : 's'}`,
        details: [],
        exitCode: last.exitCode,
        logsFrom: 'previous',
        hint: oomHint(spec),
      };
    }
    if (!init && cs.ready === false) {
      const since = ms(running.startedAt) ?? now;
      if (now - since >= (opts.notReadyAfterMs ?? 30_000)) {
        const unhealthy = mine.find((e) => e.reason === 'Unhealthy');
        const probe = spec?.startupProbe && cs.started === false ? spec.startupProbe : spec?.readinessProbe;
        const which = spec?.startupProbe && cs.started === false ? 'startup' : 'readiness';
        return {
          ...base,
          kind: 'NotReady',
          severity: 'error',
          summary: `running for ${age(now - since)} but not ready: its ${which} probe fails`,
          details: [...(unhealthy ? [eventLine(unhealthy, opts.now)] : []), ...(probe ? [`${which} probe: ${probeText(probe)}`] : [])],
          logsFrom: 'current',
          hint: probe
            ? `the app does not answer its ${which} probe (${probeText(probe)}): check that it listens there (dsa logs -c ${cs.name}), or fix the probe in the manifest`
            : 'the container reports not ready: see its log',
        };
      }
    }
    if (recentRestart && last.exitCode !== 0) {
      return {
        ...base,
        kind: 'Restarted',
        severity: 'warning',
        summary: `restarted ${restarts} time${restarts === 1 ? '' : 's'}; last exit code ${last.exitCode}${last.reason && last.reason !== 'Error' ? ` (${last.reason})` : ''} ${age(now - (ms(last.finishedAt) ?? now))} ago`,
        details: [],
        exitCode: last.exitCode,
        logsFrom: 'previous',
        hint: 'it runs now; the previous run\'s last log lines above show why it stopped',
      };
    }
  }
  return undefined;
}

function failedPod(pod: V1Pod, ref: ObjectRef): PodProblem {
  const st = pod.status ?? {};
  // A Job's pods may fail and be retried; the Job's own Warning events say when it gives up.
  const job = ownerKind(pod) === 'Job';
  if (st.reason === 'Evicted') {
    return { kind: 'PodFailed', severity: job ? 'warning' : 'error', object: ref, summary: `evicted: ${oneLine(st.message ?? '')}`, details: [], hint: 'the node ran short of a resource (memory, disk): lower the pod\'s usage or set requests that reserve what it needs' };
  }
  const term = [...(st.containerStatuses ?? [])].map((c) => ({ name: c.name, t: c.state?.terminated })).find((c) => c.t && c.t.exitCode !== 0);
  const t: V1ContainerStateTerminated | undefined = term?.t;
  return {
    kind: 'PodFailed',
    severity: job ? 'warning' : 'error',
    object: ref,
    ...(term ? { container: term.name } : {}),
    summary: term ? `failed: container ${term.name} exited with code ${t?.exitCode}${t?.reason && t.reason !== 'Error' ? ` (${t.reason})` : ''}` : `failed${st.reason ? `: ${st.reason}` : ''}${st.message ? `: ${oneLine(st.message)}` : ''}`,
    details: t?.message ? [`termination message: ${oneLine(t.message)}`] : [],
    ...(t ? { exitCode: t.exitCode, logsFrom: 'current' as const } : {}),
    hint: term ? exitHint(t?.exitCode, `container ${term.name}`) : 'kubectl describe pod shows why it failed',
    ...(job ? {} : { failFastAfterMs: 0 }),
  };
}

/** `httpGet :8080/healthz every 2s`, `exec cat /tmp/ready`, `tcpSocket :5432`. */
export function probeText(p: V1Probe | undefined): string {
  if (!p) return 'none';
  const every = p.periodSeconds ? ` every ${p.periodSeconds}s` : '';
  if (p.httpGet) return `httpGet ${p.httpGet.scheme === 'HTTPS' ? 'https ' : ''}:${String(p.httpGet.port)}${p.httpGet.path ?? '/'}${every}`;
  if (p.tcpSocket) return `tcpSocket :${String(p.tcpSocket.port)}${every}`;
  if (p.grpc) return `grpc :${p.grpc.port}${every}`;
  if (p.exec) return `exec ${(p.exec.command ?? []).join(' ')}${every}`;
  return `probe${every}`;
}

const limitOf = (spec: V1Container | undefined): string | undefined => {
  const m = spec?.resources?.limits?.memory;
  return m === undefined ? undefined : `limit ${String(m)}`;
};

function oomHint(spec: V1Container | undefined): string {
  const limit = spec?.resources?.limits?.memory;
  return limit !== undefined
    ? `raise resources.limits.memory (now ${String(limit)}) in the manifest, or make the app use less memory (a JVM or Node heap sized to the limit)`
    : 'the node ran out of memory for it: set resources.requests/limits.memory so the scheduler reserves what it needs';
}

/** What an exit code usually means. */
export function exitHint(code: number | undefined, what = 'the container'): string {
  switch (code) {
    case 127:
      return `${what} exits with 127 (command not found): check the image's entrypoint/command and that the binary exists in the image`;
    case 126:
      return `${what} exits with 126 (not executable): check the command's file permissions in the image`;
    case 137:
      return `${what} was killed (SIGKILL, exit 137): a failing liveness probe or the memory limit; see the events`;
    case 139:
      return `${what} crashed with a segmentation fault (exit 139)`;
    case 143:
      return `${what} stopped on SIGTERM (exit 143): something asked it to stop`;
    default:
      return `${what} exits with code ${code ?? '?'} soon after starting: fix what its last log lines show, then dsa deploy again`;
  }
}

function createHint(message: string, namespace: string): string {
  const cm = /configmaps? "([^"]+)" not found/i.exec(message);
  if (cm) return `ConfigMap ${cm[1]} does not exist in namespace ${namespace}: create it (or deploy it as part of the project), or fix the name in the pod spec`;
  const secret = /secrets? "([^"]+)" not found/i.exec(message);
  if (secret) return `Secret ${secret[1]} does not exist in namespace ${namespace}: create it (kubectl create secret …), or fix the name in the pod spec`;
  const pvc = /persistentvolumeclaims? "([^"]+)" not found/i.exec(message);
  if (pvc) return `PersistentVolumeClaim ${pvc[1]} does not exist in namespace ${namespace}: create it, or fix the volume`;
  if (/executable file not found|no such file or directory/i.test(message)) return 'the container\'s command is not in the image: fix command/args in the manifest or the image\'s entrypoint';
  return 'the container cannot be created as specified: fix the pod spec (see the message)';
}

function schedulingHint(message: string, pod: V1Pod): string {
  const insufficient = [...message.matchAll(/Insufficient ([\w./-]*[\w/-])/g)].map((m) => m[1]!);
  if (insufficient.length) {
    const requests = (pod.spec?.containers ?? [])
      .map((c) => Object.entries(c.resources?.requests ?? {}).filter(([k]) => insufficient.includes(k)).map(([k, v]) => `${c.name}: ${k} ${String(v)}`))
      .flat();
    return `no node has enough free ${insufficient.join(' and ')} for the pod's requests${requests.length ? ` (${requests.join(', ')})` : ''}: lower resources.requests in the manifest, or free capacity on the nodes`;
  }
  if (/untolerated taint|had taint/i.test(message)) return 'every node has a taint the pod does not tolerate: add a toleration to the pod, or remove the taint';
  if (/node affinity|node selector|didn't match Pod's node/i.test(message)) return 'no node matches the pod\'s nodeSelector/affinity: fix them, or label a node to match';
  if (/unbound immediate PersistentVolumeClaims|persistentvolumeclaim/i.test(message)) return 'the pod\'s PersistentVolumeClaim is not bound: check kubectl get pvc, and that the cluster has a StorageClass that provisions it';
  if (/Too many pods/i.test(message)) return 'the nodes run as many pods as they may: delete unused pods or add a node';
  if (/free ports/i.test(message)) return 'the hostPort the pod asks for is taken on every node: drop hostPort or pick another one';
  return 'the scheduler cannot place the pod: see its message';
}

/** When the pod's most recent event happened (for ordering and ages). */
export function lastEventTime(pod: V1Pod, events: readonly CoreV1Event[]): number | undefined {
  return eventsAbout(events, podRef(pod))
    .map((e) => eventTime(e)?.getTime())
    .find((t) => t !== undefined);
}
