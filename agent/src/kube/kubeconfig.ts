// Kubeconfig, context and namespace resolution, done by hand with kubectl's rules so that:
// - `dsa render` can find the namespace without loading @kubernetes/client-node (slow to import)
//   and without contacting a cluster;
// - "no cluster configured" is an error, not client-node's silent fallback to http://localhost:8080.
// Clients are built from the result (client.ts), so both paths agree on which context is used.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import { ClusterError, UsageError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface NamedEntry<T> {
  name: string;
  /** The file that defined the entry (kubectl: the first file that sets a name wins). */
  file: string;
  value: T;
}

export interface KubeContextValue {
  cluster?: string;
  user?: string;
  namespace?: string;
  [k: string]: unknown;
}

/** The merged view of every kubeconfig file that applies. */
export interface MergedKubeconfig {
  /** Files that were read, in precedence order. Empty when none exists. */
  files: string[];
  currentContext?: string;
  contexts: Array<NamedEntry<KubeContextValue>>;
  clusters: Array<NamedEntry<Record<string, unknown>>>;
  users: Array<NamedEntry<Record<string, unknown>>>;
}

export interface KubeconfigSources {
  /** `--kubeconfig`: only this file is read, and it must exist (as kubectl). */
  kubeconfig?: string;
  env: Env;
  homeDir: string;
  cwd: string;
}

/** Which files to read: `--kubeconfig`, else every existing KUBECONFIG entry, else ~/.kube/config. */
export function kubeconfigFiles({ kubeconfig, env, homeDir, cwd }: KubeconfigSources): string[] {
  if (kubeconfig !== undefined && kubeconfig !== '') {
    const file = resolve(cwd, kubeconfig);
    if (!existsSync(file)) throw new UsageError(`--kubeconfig ${kubeconfig}: no such file`);
    return [file];
  }
  const list = env.KUBECONFIG;
  if (list !== undefined && list !== '') {
    // kubectl ignores empty entries and files that do not exist; duplicates count once.
    const files = list
      .split(delimiter)
      .filter((f) => f !== '')
      .map((f) => resolve(cwd, f));
    return [...new Set(files)].filter((f) => existsSync(f));
  }
  const fallback = join(homeDir, '.kube', 'config');
  return existsSync(fallback) ? [fallback] : [];
}

// Fields holding file paths, which kubectl resolves against the kubeconfig file's folder.
const CLUSTER_PATH_FIELDS = ['certificate-authority'];
const USER_PATH_FIELDS = ['client-certificate', 'client-key', 'tokenFile'];

function absolutize(value: Record<string, unknown>, fields: string[], dir: string): Record<string, unknown> {
  const out = { ...value };
  for (const f of fields) {
    const v = out[f];
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) out[f] = join(dir, v);
  }
  return out;
}

function readKubeconfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClusterError(`cannot read kubeconfig ${file}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new UsageError(`kubeconfig ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UsageError(`kubeconfig ${file}: expected a mapping at the top level`);
  return doc as Record<string, unknown>;
}

function namedList(doc: Record<string, unknown>, key: string, inner: string, file: string): Array<NamedEntry<Record<string, unknown>>> {
  const list = doc[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new UsageError(`kubeconfig ${file}: ${key} must be a list`);
  const out: Array<NamedEntry<Record<string, unknown>>> = [];
  for (const item of list as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const rec = item as Record<string, unknown>;
    if (typeof rec.name !== 'string') continue;
    const value = rec[inner];
    out.push({ name: rec.name, file, value: typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {} });
  }
  return out;
}

/** Read and merge kubeconfig files with kubectl's precedence: the first file to set a value wins. */
export function loadKubeconfig(sources: KubeconfigSources): MergedKubeconfig {
  const files = kubeconfigFiles(sources);
  const merged: MergedKubeconfig = { files, contexts: [], clusters: [], users: [] };
  const add = <T>(into: Array<NamedEntry<T>>, entries: Array<NamedEntry<T>>) => {
    for (const e of entries) if (!into.some((x) => x.name === e.name)) into.push(e);
  };
  for (const file of files) {
    const doc = readKubeconfigFile(file);
    const dir = dirname(file);
    const current = doc['current-context'];
    if (merged.currentContext === undefined && typeof current === 'string' && current !== '') merged.currentContext = current;
    add(merged.contexts, namedList(doc, 'contexts', 'context', file) as Array<NamedEntry<KubeContextValue>>);
    add(
      merged.clusters,
      namedList(doc, 'clusters', 'cluster', file).map((e) => ({ ...e, value: absolutize(e.value, CLUSTER_PATH_FIELDS, dir) })),
    );
    add(
      merged.users,
      namedList(doc, 'users', 'user', file).map((e) => ({ ...e, value: absolutize(e.value, USER_PATH_FIELDS, dir) })),
    );
  }
  return merged;
}

export type NamespaceSource = 'flag' | 'project' | 'context' | 'in-cluster' | 'default';

/** Where dsa would talk to, decided offline. */
export interface KubeTarget {
  files: string[];
  /** The context in use, if any (from --context, the project's kubeContext, or current-context). */
  contextName?: string;
  context?: KubeContextValue;
  clusterName?: string;
  /** The API server URL, when a cluster is configured. */
  server?: string;
  namespace: string;
  namespaceSource: NamespaceSource;
  /** No kubeconfig, but running in a pod: use the service account. */
  inCluster: boolean;
  /** The project's kubeContext, when it does not exist in the kubeconfig (callers warn). */
  ignoredProjectContext?: string;
}

export interface TargetOptions {
  /** `--context` / `--kube-context`. */
  context?: string;
  /** `-n/--namespace`. */
  namespace?: string;
  /** What the project asked for (v1beta2 `cluster.kubeContext` / `cluster.namespace`); flags win. */
  projectContext?: string;
  projectNamespace?: string;
  env: Env;
  /** Where the in-cluster namespace file lives (injected by tests). */
  serviceAccountDir?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Resolve context and namespace: `-n` > project namespace > context namespace > in-cluster
 * namespace > `default`. An explicitly requested context that does not exist is an error, even for
 * offline commands: silently rendering for another namespace would be worse.
 */
export function resolveTarget(kc: MergedKubeconfig, opts: TargetOptions): KubeTarget {
  const explicit = opts.context !== undefined && opts.context !== '' ? opts.context : undefined;
  // A context named by the project but absent locally is not an error: the file travels between
  // machines (DevSpace v1beta2 `cluster.kubeContext`); we fall back to current-context and say so.
  const projectContext = opts.projectContext && kc.contexts.some((c) => c.name === opts.projectContext) ? opts.projectContext : undefined;
  const ignoredProjectContext = opts.projectContext && projectContext === undefined ? opts.projectContext : undefined;
  const contextName = explicit ?? projectContext ?? kc.currentContext;
  const entry = contextName === undefined ? undefined : kc.contexts.find((c) => c.name === contextName);
  if (contextName !== undefined && entry === undefined) {
    const where = kc.files.length > 0 ? kc.files.join(delimiter) : 'no kubeconfig file found';
    throw new ClusterError(`context "${contextName}" not found in kubeconfig (${where})`, {
      hint: kc.contexts.length > 0 ? `available: ${kc.contexts.map((c) => c.name).join(', ')}` : undefined,
    });
  }
  const context = entry?.value;
  const clusterName = typeof context?.cluster === 'string' ? context.cluster : undefined;
  const cluster = clusterName === undefined ? undefined : kc.clusters.find((c) => c.name === clusterName);
  const server = typeof cluster?.value.server === 'string' ? cluster.value.server : undefined;
  const inCluster = kc.files.length === 0 && !!opts.env.KUBERNETES_SERVICE_HOST;

  let namespace: string | undefined;
  let namespaceSource: NamespaceSource = 'default';
  if (opts.namespace) [namespace, namespaceSource] = [opts.namespace, 'flag'];
  else if (opts.projectNamespace) [namespace, namespaceSource] = [opts.projectNamespace, 'project'];
  else if (typeof context?.namespace === 'string' && context.namespace !== '') [namespace, namespaceSource] = [context.namespace, 'context'];
  else if (inCluster) {
    const ns = readServiceAccountNamespace(opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
    if (ns) [namespace, namespaceSource] = [ns, 'in-cluster'];
  }
  return {
    files: kc.files,
    ...(contextName !== undefined && entry !== undefined ? { contextName, context } : {}),
    ...(clusterName !== undefined ? { clusterName } : {}),
    ...(server !== undefined ? { server } : {}),
    namespace: namespace ?? 'default',
    namespaceSource,
    inCluster,
    ...(ignoredProjectContext ? { ignoredProjectContext } : {}),
  };
}

function readServiceAccountNamespace(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Commands that contact the cluster call this first: it turns every "nothing configured" case into
 * a ClusterError that says what to do.
 */
export function requireCluster(target: KubeTarget): void {
  if (target.inCluster) return;
  if (target.files.length === 0) {
    throw new ClusterError('no cluster configured: no kubeconfig found (checked --kubeconfig, KUBECONFIG and ~/.kube/config)', {
      hint: 'point KUBECONFIG or --kubeconfig at a kubeconfig file',
    });
  }
  if (target.contextName === undefined) {
    throw new ClusterError(`no cluster configured: kubeconfig has no current-context (${target.files.join(delimiter)})`, {
      hint: 'pass --context <name> or run `kubectl config use-context <name>`',
    });
  }
  if (target.server === undefined) {
    throw new ClusterError(
      target.clusterName === undefined
        ? `context "${target.contextName}" names no cluster`
        : `context "${target.contextName}" refers to cluster "${target.clusterName}", which has no server in the kubeconfig`,
    );
  }
}

/** A kubeconfig document holding only the chosen context, with absolute paths, for client-node. */
export function targetKubeconfigYaml(kc: MergedKubeconfig, target: KubeTarget): string {
  const ctx = kc.contexts.find((c) => c.name === target.contextName);
  const userName = typeof ctx?.value.user === 'string' ? ctx.value.user : undefined;
  const cluster = kc.clusters.find((c) => c.name === target.clusterName);
  const user = userName === undefined ? undefined : kc.users.find((u) => u.name === userName);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': target.contextName,
    contexts: ctx ? [{ name: ctx.name, context: { ...ctx.value, namespace: target.namespace } }] : [],
    clusters: cluster ? [{ name: cluster.name, cluster: cluster.value }] : [],
    users: user ? [{ name: user.name, user: user.value }] : [],
  };
  return YAML.stringify(doc);
}
