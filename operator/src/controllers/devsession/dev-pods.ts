// status.pods: for each dev pod, the running pod (and container) the agent should exec/port-forward/sync
// into. Pure selection over a pod list; the reconciler does the listing.
import type { V1Pod } from '@kubernetes/client-node';
import type { DevPod, DevPodStatus, SessionImage } from '@dsa/api';
import { imageMatches } from '../../deploy/dev-overrides.js';

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const created = (p: V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();

/** The best pod for `devPod` among `pods` (same namespace already): running and ready, newest first. */
export function pickDevPod(devPod: DevPod, images: readonly SessionImage[], pods: readonly V1Pod[], namespace: string): DevPodStatus | undefined {
  const sel = devPod.selector;
  const candidates: Array<{ pod: V1Pod; container: string }> = [];
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') continue;
    const containers = pod.spec?.containers ?? [];
    let c;
    if (sel.labelSelector) {
      const labels = pod.metadata?.labels ?? {};
      if (!Object.entries(sel.labelSelector).every(([k, v]) => labels[k] === v)) continue;
      c = sel.containerName ? containers.find((x) => x.name === sel.containerName) : containers[0];
    } else {
      c = containers.find((x) => (!sel.containerName || x.name === sel.containerName) && !!x.image && imageMatches(devPod, images, x.image));
    }
    if (c) candidates.push({ pod, container: c.name });
  }
  candidates.sort((a, b) => Number(isReady(b.pod)) - Number(isReady(a.pod)) || created(b.pod) - created(a.pod));
  const best = candidates[0];
  if (!best) return undefined;
  return { devPod: devPod.name, pod: best.pod.metadata?.name ?? '', container: best.container, namespace };
}

/** Label selector string (`a=b,c=d`) for a map. */
export function selectorString(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
