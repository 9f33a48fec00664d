// Which pod/container `enter`, `logs` and the dev loop talk to. The operator publishes the running pod
// of each dev pod in status.pods; flags (--pod, -l, --image-selector, -c) override it. Selection over
// a pod list is pure and unit-tested; listing is the caller's.
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS, shortenName, type DevPod, type DevSession } from '@dsa/api';
import { RuntimeError, UsageError } from '../errors.js';

export interface PodTarget {
  namespace: string;
  pod: string;
  container: string;
  /** The dev pod (spec.dev.pods[].name) this came from, when it did. */
  devPod?: string;
}

export interface PodSelectionFlags {
  container?: string;
  pod?: string;
  labelSelector?: string;
  imageSelector?: string;
}

/** `app=api,tier=web` → map; UsageError on anything kubectl would reject as an equality selector. */
export function parseLabelSelector(sel: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of sel.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)\s*==?\s*([-A-Za-z0-9_.]*)$/.exec(part);
    if (!m) throw new UsageError(`--label-selector: "${part}" is not key=value (only equality selectors are supported)`);
    out[m[1]!] = m[2]!;
  }
  if (Object.keys(out).length === 0) throw new UsageError('--label-selector must not be empty');
  return out;
}

const isRunning = (p: V1Pod) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp;
const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const created = (p: V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();

/** Running pods, ready first, newest first (what kubectl exec deploy/x would pick, roughly). Pure. */
export function rankPods(pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter(isRunning).sort((a, b) => Number(isReady(b)) - Number(isReady(a)) || created(b) - created(a));
}

/** Repository of a reference without tag/digest: `reg:5000/a/b:tag@sha256:…` → `reg:5000/a/b`. */
export function repositoryOf(ref: string): string {
  const noDigest = ref.split('@')[0] ?? ref;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

/** Container image matches a selector: exactly, or by repository when the selector has no tag. Pure. */
export function imageMatches(containerImage: string, selector: string): boolean {
  if (containerImage === selector) return true;
  return repositoryOf(selector) === selector && repositoryOf(containerImage) === selector;
}

/** The container to use in `pod`: -c, else the preferred one, else the first. */
export function containerIn(pod: V1Pod, wanted: string | undefined, preferred?: string): string {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (wanted !== undefined) {
    if (!names.includes(wanted)) throw new UsageError(`pod ${pod.metadata?.name} has no container "${wanted}" (containers: ${names.join(', ') || 'none'})`);
    return wanted;
  }
  if (preferred && names.includes(preferred)) return preferred;
  const first = names[0];
  if (first === undefined) throw new RuntimeError(`pod ${pod.metadata?.name} has no containers`);
  return first;
}

/** The dev pod a command should default to: the first with a terminal (for enter), else the first. Pure. */
export function defaultDevPod(session: DevSession, prefer: 'terminal' | 'logs'): DevPod | undefined {
  const pods = session.spec.dev?.pods ?? [];
  const published = new Set((session.status?.pods ?? []).map((p) => p.devPod));
  const live = pods.filter((p) => published.has(p.name));
  const wants = (p: DevPod) => (prefer === 'terminal' ? p.terminal !== undefined && p.terminal.enabled !== false : p.logs?.enabled !== false);
  return live.find(wants) ?? live[0];
}

/** A target from status.pods for `devPod` (default: defaultDevPod), with -c applied. Pure. */
export function targetFromStatus(session: DevSession, opts: { devPod?: string; container?: string; prefer?: 'terminal' | 'logs' }): PodTarget | undefined {
  const name = opts.devPod ?? defaultDevPod(session, opts.prefer ?? 'terminal')?.name;
  const entry = (session.status?.pods ?? []).find((p) => p.devPod === name);
  if (!entry) return undefined;
  return {
    namespace: entry.namespace || session.metadata.namespace || 'default',
    pod: entry.pod,
    container: opts.container ?? entry.container ?? '',
    devPod: entry.devPod,
  };
}

/** Label selector of everything the operator deployed for a session (decorateObjects puts it on pod templates). */
export const sessionPodSelector = (session: DevSession) => `${LABELS.session}=${shortenName(session.metadata.name)}`;

export interface PodLister {
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>;
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
}

/**
 * Resolve the pod for `enter`/`logs`: --pod, -l, --image-selector (in the namespace), else the session's
 * published dev pod. Throws UsageError/RuntimeError with what to do next.
 */
export async function resolvePodTarget(
  lister: PodLister,
  namespace: string,
  session: DevSession | undefined,
  flags: PodSelectionFlags,
  prefer: 'terminal' | 'logs',
): Promise<PodTarget> {
  const preferred = session ? targetFromStatus(session, { prefer })?.container : undefined;
  if (flags.pod) {
    const pod = await lister.getPod(namespace, flags.pod);
    if (!pod) throw new UsageError(`pod ${flags.pod} not found in namespace ${namespace}`);
    return { namespace, pod: flags.pod, container: containerIn(pod, flags.container, preferred) };
  }
  if (flags.labelSelector) {
    const sel = parseLabelSelector(flags.labelSelector);
    const selector = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
    const pod = rankPods(await lister.listPods(namespace, selector))[0];
    if (!pod) throw new RuntimeError(`no running pod matches ${selector} in namespace ${namespace}`);
    return { namespace, pod: pod.metadata!.name!, container: containerIn(pod, flags.container, preferred) };
  }
  if (flags.imageSelector) {
    const wanted = flags.imageSelector;
    for (const pod of rankPods(await lister.listPods(namespace))) {
      const c = (pod.spec?.containers ?? []).find((x) => (!flags.container || x.name === flags.container) && !!x.image && imageMatches(x.image, wanted));
      if (c) return { namespace, pod: pod.metadata!.name!, container: c.name };
    }
    throw new RuntimeError(`no running pod in namespace ${namespace} has a container with image ${wanted}`);
  }
  if (!session) {
    throw new RuntimeError(`no DevSession for this project in namespace ${namespace}`, { hint: 'run dsa up or dsa deploy first, or pick a pod with --pod/-l' });
  }
  const fromStatus = targetFromStatus(session, { prefer, container: flags.container });
  if (fromStatus) {
    if (flags.container !== undefined) {
      const pod = await lister.getPod(fromStatus.namespace, fromStatus.pod);
      if (pod) containerIn(pod, flags.container);
    }
    return fromStatus;
  }
  // No dev pods configured (or none running yet): any running pod the session deployed.
  const pod = rankPods(await lister.listPods(namespace, sessionPodSelector(session)))[0];
  if (!pod) {
    throw new RuntimeError(`DevSession ${session.metadata.name} has no running pod${session.status?.message ? ` (${session.status.message})` : ''}`, {
      hint: 'wait for dsa up/deploy, or pick a pod with --pod/-l',
    });
  }
  return { namespace: pod.metadata!.namespace ?? namespace, pod: pod.metadata!.name!, container: containerIn(pod, flags.container) };
}
