// dsa's own objects: what the operator says about a DevSession and its ImageBuilds (conditions,
// phases, messages, the build's log tail), turned into problems with what to do. Pure.
import { ConditionType, LABELS, Reason, type DevSession, type ImageBuild } from '@dsa/api';
import { oneLine } from './events.js';
import type { ObjectRef, Problem } from './model.js';
import { buildRegistryHint, classifyRegistryError, pullHint, pullReason, registryHost, registryOf } from './registry.js';

/** A problem plus how long it must persist before a deploy waiting on it gives up (undefined: never). */
export interface ResourceProblem extends Problem {
  failFastAfterMs?: number;
}

type Cond = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number; lastTransitionTime?: string };
const cond = (conds: unknown, type: string): Cond | undefined => (conds as Cond[] | undefined)?.find((c) => c.type === type);

/** Operator retry reasons of the ImageBuild controller (operator/src/controllers/imagebuild/build-state.ts). */
const BUILD_RETRY_REASONS = new Set(['RegistryUnreachable', 'GitUnreachable', 'PodCreationFailed', Reason.ProgressingWithRetry]);

export const sessionRef = (s: DevSession): ObjectRef => ({ kind: 'DevSession', namespace: s.metadata.namespace ?? '', name: s.metadata.name });
export const imageBuildRef = (ib: ImageBuild): ObjectRef => ({ kind: 'ImageBuild', namespace: ib.metadata.namespace ?? '', name: ib.metadata.name });

/** Without a status this long after creation, nothing reconciles the session. */
const NO_OPERATOR_MS = 60_000;

export function sessionProblems(s: DevSession, now: Date): ResourceProblem[] {
  const ref = sessionRef(s);
  if (s.metadata.deletionTimestamp) return [{ kind: 'SessionProgressing', severity: 'warning', object: ref, summary: 'being deleted (dsa down)', details: [], hint: 'wait for the operator to remove what it deployed' }];
  const st = s.status;
  const gen = s.metadata.generation ?? 1;
  const created = Date.parse(String(s.metadata.creationTimestamp ?? '')) || now.getTime();
  if (st?.observedGeneration === undefined) {
    const old = now.getTime() - created >= NO_OPERATOR_MS;
    return [
      {
        kind: 'SessionRetrying',
        severity: old ? 'error' : 'warning',
        object: ref,
        summary: old ? 'no dsa operator has reconciled this session' : 'waiting for the operator to pick it up',
        details: [],
        hint: 'install the operator (make deploy, or its Helm chart), or check that it runs; an operator started with --scope only reconciles namespaces and sessions labelled dsa.dev/operator-scope with that scope',
        failFastAfterMs: 30_000,
      },
    ];
  }
  const details = sessionDetails(s);
  if (st.observedGeneration < gen) {
    return [{ kind: 'SessionProgressing', severity: 'warning', object: ref, summary: `the operator has not picked up generation ${gen} yet (it last saw ${st.observedGeneration})`, details, hint: 'wait a moment; if it stays, check the operator\'s logs' }];
  }
  const stalled = cond(st.conditions, ConditionType.Stalled);
  if (stalled?.status === 'True') {
    const message = oneLine(stalled.message || st.message || 'stalled');
    return [{ kind: 'SessionFailed', severity: 'error', object: ref, summary: `${stalled.reason ?? 'Stalled'}: ${message}`, details, hint: stallHint(stalled.reason, message), failFastAfterMs: 0 }];
  }
  const ready = cond(st.conditions, ConditionType.Ready);
  if (ready?.status === 'True') return [];
  const reconciling = cond(st.conditions, ConditionType.Reconciling);
  const message = oneLine(st.message ?? reconciling?.message ?? ready?.message ?? 'in progress');
  if (reconciling?.reason === Reason.ProgressingWithRetry || /; retrying$/.test(message)) {
    return [{ kind: 'SessionRetrying', severity: 'error', object: ref, summary: `retrying: ${message}`, details, hint: retryHint(message), failFastAfterMs: 60_000 }];
  }
  return [{ kind: 'SessionProgressing', severity: 'warning', object: ref, summary: `${(st.phase ?? 'pending').toLowerCase()}: ${message}`, details, hint: 'still in progress: dsa analyze --wait waits until it settles' }];
}

/** The not-ready parts of a session: deployments, dependencies, images. */
function sessionDetails(s: DevSession): string[] {
  const st = s.status ?? {};
  return [
    ...(st.dependencies ?? []).filter((d) => !d.ready).map((d) => `dependency ${d.name}: ${oneLine(d.message ?? 'not ready')}`),
    ...(st.images ?? []).filter((i) => i.phase && i.phase !== 'Succeeded').map((i) => `image ${i.name}: ${i.phase}`),
    ...(st.deployments ?? []).filter((d) => !d.ready).map((d) => `deployment ${d.name}: ${oneLine(d.message ?? 'not ready')}`),
  ];
}

function stallHint(reason: string | undefined, message: string): string {
  const trouble = classifyRegistryError(message);
  const registry = buildRegistryHint(trouble, registryOf(message));
  switch (reason) {
    case Reason.ImageBuildFailed:
      return registry ?? 'an image failed to build: see its ImageBuild below (the build log), fix the Dockerfile or context, and deploy again';
    case Reason.DependencyFailed:
      return 'a dependency\'s session failed: analyze its DevSession (listed above when in this namespace)';
    case Reason.DependencyCycle:
      return 'the dependencies form a cycle: remove one of the edges in devspace.yaml';
    case Reason.ManifestRejected:
      return 'the apiserver rejected a rendered object: fix the manifest or chart values it names (dsa render shows what is sent)';
    case Reason.ObjectNotAllowed:
      return 'the operator does not let sessions create this object (its confinement settings): deploy it into the session\'s namespace, or ask an admin';
    case Reason.ChartNotFound:
      return 'the chart cannot be found: check its name, repo and version';
    case Reason.GitFetchFailed:
      return 'the operator cannot fetch the git repository: check the URL and ref';
    case Reason.InvalidSpec:
      return 'the session\'s spec is invalid: dsa validate shows why';
    case Reason.DeployFailed:
      return 'a deployment cannot become ready: see the pods and events of this namespace below';
    default:
      return registry ?? 'see the message; kubectl describe devsession shows the conditions';
  }
}

function retryHint(message: string): string {
  return buildRegistryHint(classifyRegistryError(message), registryOf(message)) ?? 'the operator keeps retrying a failing step: the message says which; its logs have more';
}

export function imageBuildProblems(ib: ImageBuild): ResourceProblem[] {
  const ref = imageBuildRef(ib);
  const st = ib.status;
  if (!st || ib.metadata.deletionTimestamp) return [];
  if (st.observedGeneration !== undefined && st.observedGeneration < (ib.metadata.generation ?? 1)) return [];
  const key = ib.metadata.labels?.[LABELS.image];
  const host = registryHost(ib.spec.image);
  const message = oneLine(st.message ?? '');
  const stalled = cond(st.conditions, ConditionType.Stalled);
  if (st.phase === 'Failed' || stalled?.status === 'True') {
    const text = `${message}\n${st.logTail ?? ''}`;
    const trouble = classifyRegistryError(text);
    const logs = (st.logTail ?? '').split('\n').filter((l) => l.trim() !== '');
    return [
      {
        kind: 'BuildFailed',
        severity: 'error',
        object: ref,
        ...(key ? { image: key } : {}),
        summary: `build of ${ib.spec.image} failed: ${message || stalled?.message || 'no message'}`,
        details: st.podName ? [`build pod: ${st.podName} (kept an hour: kubectl logs -n ${ref.namespace} ${st.podName})`] : [],
        ...(logs.length ? { logs } : {}),
        hint: /cannot create build pod|may not create|forbidden/i.test(message)
          ? 'the build pod may not be created in this namespace: the message says what to grant (RBAC of the deployer ServiceAccount, quota, pod security)'
          : registryTrouble(trouble)
            ? buildRegistryHint(trouble, registryOf(text) ?? host, key)!
            : 'fix the Dockerfile or the build context (the build log is above), then deploy again',
        failFastAfterMs: 0,
      },
    ];
  }
  const reconciling = cond(st.conditions, ConditionType.Reconciling);
  if (reconciling?.status === 'True' && BUILD_RETRY_REASONS.has(reconciling.reason ?? '')) {
    const trouble = classifyRegistryError(message);
    const definitive = trouble === 'http-registry' || trouble === 'untrusted-certificate';
    return [
      {
        kind: 'BuildRetrying',
        severity: 'error',
        object: ref,
        ...(key ? { image: key } : {}),
        summary: `${reconciling.reason}: ${message}`,
        details: [],
        hint:
          reconciling.reason === 'GitUnreachable'
            ? 'the operator cannot reach the git repository: check the URL, and that the operator\'s pod can reach it'
            : reconciling.reason === 'PodCreationFailed'
              ? 'the build pod cannot be created: check the namespace\'s quota, pod security and the operator\'s RBAC'
              : (buildRegistryHint(trouble, registryOf(message) ?? host, key) ?? 'the operator retries with backoff; its logs have more'),
        // A registry that speaks another protocol will not start speaking ours: no point retrying.
        failFastAfterMs: definitive ? 0 : 20_000,
      },
    ];
  }
  // The build pod cannot start: its image (kaniko, the upload helper) cannot be pulled.
  if (st.phase === 'Pending' && /ErrImagePull|ImagePullBackOff|InvalidImageName/.test(message)) {
    const reason = pullReason(message.replace(/^[\w-]+: (ErrImagePull|ImagePullBackOff|InvalidImageName): /, ''));
    return [
      {
        kind: 'BuildRetrying',
        severity: 'error',
        object: ref,
        summary: `the build pod cannot start: ${message}`,
        details: [`registry: ${reason}`],
        hint: `${pullHint(classifyRegistryError(message), 'the builder image', registryOf(message))} (the builder image is the operator's --kaniko-image / chart value)`,
        failFastAfterMs: 20_000,
      },
    ];
  }
  return [];
}

const registryTrouble = (t: string) => t === 'http-registry' || t === 'untrusted-certificate' || t === 'unauthorized' || (t === 'unreachable');
