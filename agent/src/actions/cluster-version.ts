// Which dsa API the cluster speaks, for `dsa version --cluster` and the one-time warning of `dsa up` and
// `dsa deploy`. Two reads any authenticated user can be allowed:
// - discovery (GET /apis/dsa.dev): the versions of the installed CRDs the apiserver serves; every
//   authenticated user may read discovery (the system:discovery role);
// - the operator's ConfigMap `dsa-operator-info` in the operator's namespace (published at start-up by
//   operator/src/operator-info.ts): its version, the API version it reconciles and the digest of the
//   CRD schemas it was built with.
// Agent and operator "disagree" when the cluster does not serve this agent's API version, when the
// operator reconciles another one, or when both were built from different schemas of the same version
// (fields one side knows would be pruned or rejected by the other).
import type { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, GROUP } from '@dsa/api';
import type { AgentEnv } from '../env.js';
import { ClusterError } from '../errors.js';
import { getJson, type GetJsonResult } from '../kube/get-json.js';
import type { ActionDeps } from './action-deps.js';

/** Same name as operator/src/operator-info.ts (a unit test keeps them equal). */
export const OPERATOR_INFO_NAME = 'dsa-operator-info';
/** The chart's documented namespace (`make deploy`, docs/operator.md). */
export const DEFAULT_OPERATOR_NAMESPACE = 'dsa-system';
export const OPERATOR_NAMESPACE_ENV = 'DSA_OPERATOR_NAMESPACE';

const READ_TIMEOUT_MS = 5000;
const MAX_BYTES = 256 * 1024;

export interface AgentApi {
  /** `dsa.dev/v1alpha1`. */
  apiVersion: string;
  /** apiDigest() of the CRDs this agent writes against. */
  apiDigest: string;
}

export interface OperatorInfo {
  namespace: string;
  version: string;
  apiVersion: string;
  apiDigest: string;
  scope: string;
  /** When the operator published it (its start). */
  startedAt: string;
}

export type OperatorLookup = { found: true; info: OperatorInfo } | { found: false; reason: string };

export interface ClusterApi {
  /** dsa.dev versions the apiserver serves; [] when the CRDs are not installed. */
  servedVersions: string[];
  preferredVersion: string;
  operator: OperatorLookup;
}

/** sha256 (12 hex digits) of the generated CRDs' names and versions (schemas, printer columns, served/storage). */
export function computeApiDigest(crds: ReadonlyArray<{ metadata: { name: string }; spec: { versions: unknown } }>, hash: { canonicalJson(v: unknown): string; sha256Hex(s: string): string }): string {
  return hash.sha256Hex(hash.canonicalJson(crds.map((c) => ({ name: c.metadata.name, versions: c.spec.versions })))).slice(0, 12);
}

/** This agent's API; the digest is computed (and the API module loaded) only when the build did not record it. */
export async function agentApi(recorded: string): Promise<AgentApi> {
  if (recorded) return { apiVersion: API_VERSION, apiDigest: recorded };
  const api = await import('@dsa/api');
  return { apiVersion: API_VERSION, apiDigest: computeApiDigest(api.generateCrds(), api) };
}

/** Pure: the operator's ConfigMap data, or why it cannot be used. */
export function parseOperatorInfo(namespace: string, body: unknown): OperatorLookup {
  const data = (body as { data?: Record<string, unknown> } | undefined)?.data;
  const str = (k: string): string => (typeof data?.[k] === 'string' ? (data[k] as string).slice(0, 200) : '');
  if (!data || !str('version')) return { found: false, reason: `${namespace}/${OPERATOR_INFO_NAME} has no version` };
  return {
    found: true,
    info: { namespace, version: str('version'), apiVersion: str('apiVersion'), apiDigest: str('apiDigest'), scope: str('scope'), startedAt: str('startedAt') },
  };
}

function lookupFailure(namespace: string, r: Extract<GetJsonResult, { ok: false }>): OperatorLookup {
  const where = `${namespace}/${OPERATOR_INFO_NAME}`;
  if (r.status === 404) return { found: false, reason: `no ConfigMap ${where}: no operator in ${namespace} (another namespace? set ${OPERATOR_NAMESPACE_ENV} or --operator-namespace), or one that does not publish its version` };
  if (r.status === 401 || r.status === 403) return { found: false, reason: `not allowed to read ConfigMap ${where} (${r.message})` };
  return { found: false, reason: `reading ConfigMap ${where}: HTTP ${r.status}: ${r.message}` };
}

/** Discovery and the operator's ConfigMap, read in parallel with bounds; a network failure is a ClusterError. */
export async function readClusterApi(kc: KubeConfig, opts: { operatorNamespace: string; signal?: AbortSignal }): Promise<ClusterApi> {
  const bounds = { timeoutMs: READ_TIMEOUT_MS, maxBytes: MAX_BYTES, ...(opts.signal ? { signal: opts.signal } : {}) };
  const ns = opts.operatorNamespace;
  let group: GetJsonResult;
  let info: GetJsonResult;
  try {
    [group, info] = await Promise.all([
      getJson(kc, `/apis/${GROUP}`, bounds),
      getJson(kc, `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${OPERATOR_INFO_NAME}`, bounds),
    ]);
  } catch (e) {
    throw new ClusterError(`cannot reach the cluster at ${kc.getCurrentCluster()?.server ?? '?'}: ${(e as Error).message}`, { cause: e });
  }
  let servedVersions: string[] = [];
  let preferredVersion = '';
  if (group.ok) {
    const g = group.body as { versions?: Array<{ version?: unknown }>; preferredVersion?: { version?: unknown } };
    servedVersions = (g.versions ?? []).map((v) => v.version).filter((v): v is string => typeof v === 'string');
    preferredVersion = typeof g.preferredVersion?.version === 'string' ? g.preferredVersion.version : '';
  } else if (group.status !== 404) {
    throw new ClusterError(`reading /apis/${GROUP}: HTTP ${group.status}: ${group.message}`);
  }
  return { servedVersions, preferredVersion, operator: info.ok ? parseOperatorInfo(ns, info.body) : lookupFailure(ns, info) };
}

/** Pure: one line per disagreement between this agent and the cluster; [] = none known. */
export function apiSkew(agent: AgentApi, cluster: ClusterApi): string[] {
  const out: string[] = [];
  const version = agent.apiVersion.slice(agent.apiVersion.indexOf('/') + 1);
  if (cluster.servedVersions.length === 0) out.push(`the cluster does not serve ${GROUP} (the dsa CRDs are not installed)`);
  else if (!cluster.servedVersions.includes(version))
    out.push(`the cluster serves ${GROUP} ${cluster.servedVersions.join(', ')}, but this dsa writes ${agent.apiVersion}`);
  if (cluster.operator.found) {
    const op = cluster.operator.info;
    if (op.apiVersion && op.apiVersion !== agent.apiVersion) out.push(`the operator ${op.version} in ${op.namespace} reconciles ${op.apiVersion}, but this dsa writes ${agent.apiVersion}`);
    else if (op.apiDigest && agent.apiDigest && op.apiDigest !== agent.apiDigest)
      out.push(
        `the operator ${op.version} in ${op.namespace} was built with another ${op.apiVersion || agent.apiVersion} schema (${op.apiDigest}, this dsa: ${agent.apiDigest}): fields only one side knows are dropped or rejected`,
      );
  }
  return out;
}

export interface ApiCheckOptions {
  /** apiDigest recorded at build time ('' from source). */
  recordedDigest: string;
  operatorNamespace: string;
}

/**
 * For `up` and `deploy`: read the cluster's API and warn, once, about each disagreement. Never throws
 * and never fails the command: the apply that follows reports real errors itself. Bounded by the
 * reads' timeouts.
 */
export async function warnOnApiSkew(env: AgentEnv, deps: ActionDeps, opts: ApiCheckOptions): Promise<void> {
  try {
    const kc = await deps.kube.kubeConfig();
    const [agent, cluster] = await Promise.all([agentApi(opts.recordedDigest), readClusterApi(kc, { operatorNamespace: opts.operatorNamespace, signal: env.signal })]);
    const skew = apiSkew(agent, cluster);
    if (skew.length) env.log.warn(`${skew.join('; ')}. Use the same release of dsa and of the operator (dsa version --cluster).`);
    else if (!cluster.operator.found) env.log.debug(`API check: ${cluster.operator.reason}`);
  } catch (e) {
    env.log.debug(`API check skipped: ${(e as Error).message}`);
  }
}
