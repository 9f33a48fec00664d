// What dsa stamps on every object it applies: ownership labels (so objects can be found and pruned per
// session and deployment) and the namespace (kubectl's `-n` defaulting, done before apply so the
// inventory records where each object really lives).
import type { KubernetesObject } from '@kubernetes/client-node';
import { LABELS, MANAGED_BY, shortenName } from '@dsa/api';
import { podTemplatePath, getIn, setIn } from './tag-replacement.js';

export interface DecorateOptions {
  session: string;
  sessionNamespace: string;
  /** The session's uid: pruning deletes only objects labelled with it (inventory.ts ownedBySession). */
  sessionUid?: string;
  deployment: string;
  /** Namespace for namespaced objects that do not set one. */
  defaultNamespace: string;
  /**
   * Whether the kind is namespaced (from discovery). undefined = unknown kind: treated as namespaced,
   * the apply then reports the real problem.
   */
  isNamespaced: (apiVersion: string, kind: string) => boolean | undefined;
}

/** Labels dsa owns on every applied object. */
export function ownershipLabels(o: Pick<DecorateOptions, 'session' | 'sessionNamespace' | 'sessionUid' | 'deployment'>): Record<string, string> {
  // Label values are capped at 63 characters; shortenName is the same stable shortening ImageBuilds use.
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.session]: shortenName(o.session),
    [LABELS.sessionNamespace]: shortenName(o.sessionNamespace),
    ...(o.sessionUid ? { [LABELS.sessionUid]: o.sessionUid } : {}),
    [LABELS.deployment]: o.deployment,
  };
}

export function decorateObjects<T extends KubernetesObject>(objects: readonly T[], o: DecorateOptions): T[] {
  const labels = ownershipLabels(o);
  // Pods get only the session/deployment labels: enough to find them for status.pods (and to map pod
  // events back to the session), while managed-by stays the user's (charts often set it in templates).
  // The uid stays off pod templates: pods need no proof of ownership, and a template change rolls out.
  const { [LABELS.managedBy]: _managedBy, [LABELS.sessionUid]: _uid, ...podLabels } = labels;
  return objects.map((obj) => {
    const apiVersion = obj.apiVersion ?? '';
    const kind = obj.kind ?? '';
    const namespaced = o.isNamespaced(apiVersion, kind) ?? true;
    const metadata = { ...(obj.metadata ?? {}) };
    metadata.labels = { ...(metadata.labels ?? {}), ...labels };
    if (namespaced) {
      if (!metadata.namespace) metadata.namespace = o.defaultNamespace;
    } else {
      delete metadata.namespace;
    }
    let out: KubernetesObject = { ...obj, metadata };
    const tpl = podTemplatePath(kind);
    if (tpl) {
      const tplMeta = getIn(out, [...tpl, 'metadata']);
      const existing = (tplMeta && typeof tplMeta === 'object' ? tplMeta : {}) as { labels?: Record<string, string> };
      out = setIn(out, [...tpl, 'metadata'], { ...existing, labels: { ...(existing.labels ?? {}), ...podLabels } }) as KubernetesObject;
    } else if (kind === 'Pod') {
      metadata.labels = { ...metadata.labels, ...podLabels };
    }
    return out as T;
  });
}
