// `--pick`: choose among the running pods of the session (or namespace) and their containers.
import type { V1Pod } from '@kubernetes/client-node';
import { UsageError } from '../errors.js';
import type { PodTarget } from './pods.js';
import { rankPods } from './pods.js';

/** One choice per container of every running pod: `pod/container`. Pure. */
export function pickChoices(pods: readonly V1Pod[], namespace: string): PodTarget[] {
  return rankPods(pods).flatMap((p) => (p.spec?.containers ?? []).map((c) => ({ namespace: p.metadata?.namespace ?? namespace, pod: p.metadata?.name ?? '', container: c.name })));
}

/** Resolve an answer (a 1-based number or `pod/container`) to a choice. Pure. */
export function choose(choices: readonly PodTarget[], answer: string): PodTarget {
  const a = answer.trim();
  const n = Number.parseInt(a, 10);
  const byNumber = String(n) === a ? choices[n - 1] : undefined;
  const found = byNumber ?? choices.find((c) => `${c.pod}/${c.container}` === a || (c.pod === a && choices.filter((x) => x.pod === a).length === 1));
  if (!found) throw new UsageError(`"${a}" is not one of the listed containers`);
  return found;
}
