// Pure: what a build pod's status means for the ImageBuild (phase, digest, failure text), and the
// summary conditions. Kept free of IO so every pod shape is unit-tested.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { Reason, type BuildPhase } from '@dsa/api';
import type { Builder } from '../../builders/builder.js';
import { KANIKO_CONTAINER } from '../../builders/kaniko.js';
import { UPLOAD_CONTAINER } from '../../builders/receiver.js';
import { apiErrorMessage, isForbidden } from '../../runtime/api-errors.js';
// The forced-build comparison is part of the agent ↔ operator contract: one definition for both sides.
export { isNewerRequest } from '@dsa/api/build-context';

export type BuildPhaseName = (typeof BuildPhase)[keyof typeof BuildPhase];

export type PodObservation =
  | { phase: 'Pending'; message: string }
  | { phase: 'AwaitingUpload'; message: string }
  | { phase: 'Building'; message: string }
  | { phase: 'Succeeded'; digest: string; message: string }
  | { phase: 'Failed'; message: string; container: string; terminationMessage?: string };

function status(statuses: V1ContainerStatus[] | undefined, name: string): V1ContainerStatus | undefined {
  return statuses?.find((s) => s.name === name);
}

/** Map the build pod's state to an ImageBuild phase. */
export function observeBuildPod(pod: V1Pod, builder: Builder, buildContainer = KANIKO_CONTAINER): PodObservation {
  const st = pod.status ?? {};
  const upload = status(st.initContainerStatuses, UPLOAD_CONTAINER);
  const build = status(st.containerStatuses, buildContainer);
  const uploadTerm = upload?.state?.terminated;
  const buildTerm = build?.state?.terminated;

  if (uploadTerm && uploadTerm.exitCode !== 0) {
    return { phase: 'Failed', container: UPLOAD_CONTAINER, message: `receiving the build context failed (exit code ${uploadTerm.exitCode})`, terminationMessage: uploadTerm.message };
  }
  if (buildTerm && buildTerm.exitCode !== 0) {
    return { phase: 'Failed', container: buildContainer, message: `build failed (exit code ${buildTerm.exitCode})`, terminationMessage: buildTerm.message };
  }
  if (st.phase === 'Succeeded' || (buildTerm && buildTerm.exitCode === 0)) {
    const digest = builder.resultDigest(build);
    if (!digest) return { phase: 'Failed', container: buildContainer, message: 'build finished but reported no image digest', terminationMessage: buildTerm?.message };
    return { phase: 'Succeeded', digest, message: 'image built and pushed' };
  }
  if (st.phase === 'Failed') {
    // Whole-pod failures: activeDeadlineSeconds, eviction, node loss.
    return { phase: 'Failed', container: '', message: `build pod failed: ${st.reason ?? 'unknown'}${st.message ? `: ${st.message}` : ''}` };
  }
  for (const s of [upload, build]) {
    const w = s?.state?.waiting;
    if (w && /ErrImagePull|ImagePullBackOff|InvalidImageName|CreateContainerConfigError|CreateContainerError/.test(w.reason ?? '')) {
      // Not terminal for Kubernetes (it keeps retrying) but worth saying: usually a wrong image or secret.
      return { phase: 'Pending', message: `${s!.name}: ${w.reason}${w.message ? `: ${w.message}` : ''}` };
    }
  }
  if (upload?.state?.running) return { phase: 'AwaitingUpload', message: 'waiting for the build context upload' };
  if (uploadTerm && uploadTerm.exitCode === 0) return { phase: 'Building', message: 'building' };
  return { phase: 'Pending', message: 'build pod starting' };
}

/** The last `n` non-empty lines of a log. */
export function tailLines(text: string | undefined, n = 20): string {
  return (text ?? '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-n)
    .join('\n');
}

export const reasonForPhase: Record<BuildPhaseName, string> = {
  Pending: Reason.Progressing,
  AwaitingUpload: Reason.AwaitingUpload,
  Building: Reason.Building,
  Succeeded: Reason.Succeeded,
  Failed: Reason.BuildFailed,
};

/**
 * Reasons for Reconciling=True while a step is retried with backoff: what `kubectl get ib -o wide`
 * and `dsa deploy` show instead of a silent "Pending".
 */
export const RetryReason = {
  RegistryUnreachable: 'RegistryUnreachable',
  GitUnreachable: 'GitUnreachable',
  PodCreationFailed: 'PodCreationFailed',
} as const;
export type RetryReasonName = (typeof RetryReason)[keyof typeof RetryReason];

export type RetryStep =
  | { step: 'registry'; image: string }
  | { step: 'git'; url: string }
  | { step: 'pod'; pod: string };

/** The one-line status.message + reason for an error a step will retry. Pure. */
export function describeRetry(s: RetryStep, e: unknown): { reason: RetryReasonName; message: string } {
  const cause = apiErrorMessage(e);
  switch (s.step) {
    case 'registry':
      return { reason: RetryReason.RegistryUnreachable, message: `cannot check whether ${s.image} exists, the registry is unreachable: ${cause}; retrying` };
    case 'git':
      return { reason: RetryReason.GitUnreachable, message: `cannot fetch ${s.url}: ${cause}; retrying` };
    case 'pod':
      return {
        reason: RetryReason.PodCreationFailed,
        message: `cannot create build pod ${s.pod}${isForbidden(e) ? ' (forbidden: check RBAC, quotas and pod security admission)' : ''}: ${cause}; retrying`,
      };
  }
}
