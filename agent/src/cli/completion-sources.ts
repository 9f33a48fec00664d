// Where shell completion's dynamic values come from: the project's devspace.yaml (profiles), the
// kubeconfig (contexts) and the cluster (namespaces with the DevSessions in them, pods). Every read is
// bounded in size and time and fails soft: a shell waiting on TAB gets an answer, maybe empty, within
// a few seconds, never an error.
import { readFileSync, statSync } from 'node:fs';
import { DEVSESSION, GROUP, LABELS, VERSION } from '@dsa/api';
import { createKubeAccess } from '../kube/access.js';
import { getJson } from '../kube/get-json.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import type { Candidate, CompletionSources, TypedFlags } from './complete.js';
import type { ProcessEnv } from './context.js';
import { discoverConfig } from './project-discovery.js';

const CLUSTER_TIMEOUT_MS = 3000;
const MAX_LIST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const LIST_LIMIT = '500';
/** Names only: the apiserver strips everything but metadata (meta.k8s.io/v1 PartialObjectMetadataList). */
const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json';

export interface SourceIO {
  env: ProcessEnv;
  cwd: string;
  homeDir: string;
}

interface Meta {
  name?: unknown;
  namespace?: unknown;
  labels?: Record<string, unknown>;
}

/** Pure: the `metadata` of each item of a list answer. */
export function listMetadata(body: unknown): Meta[] {
  const items = (body as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? items.map((i) => ((i as { metadata?: Meta } | null)?.metadata ?? {}) as Meta) : [];
}

/** Pure: profile names (and descriptions) of a parsed devspace.yaml, any version. */
export function profileCandidates(doc: unknown): Candidate[] {
  const profiles = (doc as { profiles?: unknown } | null)?.profiles;
  if (!Array.isArray(profiles)) return [];
  return profiles.flatMap((p) => {
    const rec = (p ?? {}) as { name?: unknown; description?: unknown };
    if (typeof rec.name !== 'string' || rec.name === '') return [];
    return [{ value: rec.name, ...(typeof rec.description === 'string' && rec.description ? { description: rec.description } : {}) }];
  });
}

/** Pure: namespaces, each described with the DevSessions in it; namespaces that only hold sessions (a list we may not read) are added. */
export function namespaceCandidates(namespaces: string[], sessions: Array<{ namespace: string; name: string }>, current: string | undefined): Candidate[] {
  const byNs = new Map<string, string[]>();
  for (const s of sessions) byNs.set(s.namespace, [...(byNs.get(s.namespace) ?? []), s.name]);
  const names = [...new Set([...namespaces, ...byNs.keys(), ...(current ? [current] : [])])].sort();
  return names.map((ns) => {
    const here = byNs.get(ns) ?? [];
    const shown = here.slice(0, 3).join(', ') + (here.length > 3 ? `, +${here.length - 3}` : '');
    const description = [ns === current ? 'current' : '', here.length ? `DevSessions: ${shown}` : ''].filter(Boolean).join('; ');
    return { value: ns, ...(description ? { description } : {}) };
  });
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function completionSources(io: SourceIO): CompletionSources {
  const silent = { debug: () => {}, warn: () => {} };
  const access = (typed: TypedFlags) =>
    createKubeAccess({ kubeconfig: typed.kubeconfig, context: typed.context, namespace: typed.namespace, env: io.env, homeDir: io.homeDir, cwd: io.cwd, log: silent });
  const names = async (typed: TypedFlags, path: string): Promise<Meta[] | undefined> => {
    try {
      const kc = await access(typed).kubeConfig();
      const r = await getJson(kc, path, { query: { limit: LIST_LIMIT }, timeoutMs: CLUSTER_TIMEOUT_MS, maxBytes: MAX_LIST_BYTES, accept: METADATA_ONLY });
      return r.ok ? listMetadata(r.body) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    async profiles(typed) {
      try {
        const { path } = discoverConfig({ flag: typed.config, env: io.env, cwd: io.cwd, homeDir: io.homeDir });
        if (statSync(path).size > MAX_CONFIG_BYTES) return [];
        const YAML = (await import('yaml')).default;
        return profileCandidates(YAML.parse(readFileSync(path, 'utf8')));
      } catch {
        return [];
      }
    },
    async contexts(typed) {
      try {
        const kc = loadKubeconfig({ kubeconfig: typed.kubeconfig, env: io.env, homeDir: io.homeDir, cwd: io.cwd });
        return kc.contexts.map((c) => {
          const description = [c.name === kc.currentContext ? 'current' : '', str(c.value.cluster) ? `cluster ${c.value.cluster}` : '', str(c.value.namespace) ? `namespace ${c.value.namespace}` : '']
            .filter(Boolean)
            .join(', ');
          return { value: c.name, ...(description ? { description } : {}) };
        });
      } catch {
        return [];
      }
    },
    async namespaces(typed) {
      let current: string | undefined;
      try {
        current = access(typed).target().namespace;
      } catch {
        return [];
      }
      const [nsList, sessions] = await Promise.all([names({ ...typed, namespace: undefined }, '/api/v1/namespaces'), names(typed, `/apis/${GROUP}/${VERSION}/${DEVSESSION.plural}`)]);
      const sessionRefs = (sessions ?? []).flatMap((m) => (str(m.namespace) && str(m.name) ? [{ namespace: m.namespace as string, name: m.name as string }] : []));
      return namespaceCandidates((nsList ?? []).flatMap((m) => (str(m.name) ? [m.name as string] : [])), sessionRefs, current);
    },
    async pods(typed) {
      let namespace: string;
      try {
        namespace = access(typed).target().namespace;
      } catch {
        return [];
      }
      const pods = await names(typed, `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`);
      return (pods ?? []).flatMap((m) => {
        const name = str(m.name);
        if (!name) return [];
        const session = str(m.labels?.[LABELS.session]);
        return [{ value: name, ...(session ? { description: `DevSession ${session}` } : {}) }];
      });
    },
  };
}
