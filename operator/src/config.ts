// Operator configuration: command-line flags and environment → one validated, typed object.
//
// Precedence: flag > environment variable > default. Flag names follow controller-runtime/kubebuilder
// (`--metrics-bind-address`, `--leader-elect`, …) so people who have run a Go operator find them where they
// expect. Pure: no process access except through the arguments, so it is unit-tested directly.
import { readFileSync } from 'node:fs';
import { resolveLogLevel } from './log.js';
import { validScope } from './scope/scope.js';
import { CONFINED, DEFAULT_SERVICE_ACCOUNT, type Confinement } from './confinement/confinement.js';
import { parseAllowEntry } from './net/address-guard.js';

/**
 * Built-in builder defaults, used when neither flag nor env sets them. kaniko's upstream repository is archived;
 * v1.23.2 is its last release. Production installs should pin their own (maintained fork, by digest) through
 * DSA_KANIKO_IMAGE / the chart's builder.image.
 */
export const DEFAULT_KANIKO_IMAGE = 'gcr.io/kaniko-project/executor:v1.23.2';
export const DEFAULT_HELPER_IMAGE = 'busybox:1.36';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface BindAddress {
  /** Empty = all interfaces. */
  host: string;
  port: number;
}

export interface OperatorConfig {
  /** Ops HTTP server (/metrics, /healthz, /readyz); false when disabled with "0". */
  metricsBind: BindAddress | false;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  /** Namespaces to watch; empty = all namespaces. */
  watchNamespaces: string[];
  /** This install's scope: only sessions/builds labelled (or in namespaces labelled) dsa.dev/operator-scope=<scope>; '' = those without. */
  scope: string;
  /** Extra label selector for DevSessions and ImageBuilds ('' = none). */
  watchLabelSelector: string;
  /** Parallel reconciles per controller. */
  concurrency: number;
  /** Default kaniko executor image for builds that don't set spec.builder.image; undefined = controller default. */
  kanikoImage: string | undefined;
  /** Busybox-like image for build-pod init containers; undefined = controller default. */
  helperImage: string | undefined;
  /** The dev sidecar image (file sync, reverse ports, restart on upload); undefined = dev pods get no sidecar. */
  sidecarImage: string | undefined;
  logLevel: string;
  /** Explicit kubeconfig path; undefined = KUBECONFIG / ~/.kube/config / in-cluster. */
  kubeconfig: string | undefined;
  /** Time in-flight reconciles get on SIGTERM. */
  shutdownTimeoutMs: number;
  /** Tenant confinement: impersonation, cross-namespace and cluster-scoped objects (docs/security.md). */
  confinement: Confinement;
  /** Builder images ImageBuilds may set in spec.builder.image ('*' = any); the default kaniko image is always allowed. */
  allowedBuilderImages: string[];
  /** Registries (`host[:port]`) spoken to over plain HTTP or without TLS verification, by kaniko and the operator. */
  insecureRegistries: string[];
  /** Loopback/link-local/metadata hosts (host, host:port or CIDR) git and registry requests may still reach. */
  allowInternalHosts: string[];
  /** Largest build context a build pod accepts (bytes); also sizes the build pod's volumes. */
  maxBuildContextBytes: number;
  help: boolean;
  version: boolean;
}

interface FlagSpec {
  name: string;
  env?: string;
  kind: 'string' | 'bool';
  help: string;
  default?: string;
}

export const FLAGS: readonly FlagSpec[] = [
  { name: 'metrics-bind-address', env: 'DSA_METRICS_BIND_ADDRESS', kind: 'string', default: ':8080', help: 'Address of the HTTP server for /metrics, /healthz and /readyz ("0" disables it).' },
  { name: 'leader-elect', env: 'DSA_LEADER_ELECT', kind: 'bool', default: 'true', help: 'Elect a leader through a Lease so only one replica reconciles.' },
  { name: 'leader-election-namespace', env: 'POD_NAMESPACE', kind: 'string', help: 'Namespace of the leader-election Lease (default: POD_NAMESPACE, then the in-cluster namespace).' },
  { name: 'leader-election-id', env: 'DSA_LEADER_ELECTION_ID', kind: 'string', default: 'dsa-operator-leader', help: 'Name of the leader-election Lease.' },
  { name: 'watch-namespace', env: 'WATCH_NAMESPACE', kind: 'string', default: '', help: 'Comma-separated namespaces to watch (default: all namespaces).' },
  { name: 'scope', env: 'DSA_OPERATOR_SCOPE', kind: 'string', default: '', help: 'Reconcile only DevSessions/ImageBuilds whose dsa.dev/operator-scope label (on the object, else on its namespace) is this value; without it, only those with no such label. Lets two operators share a cluster.' },
  { name: 'watch-label-selector', env: 'DSA_WATCH_LABEL_SELECTOR', kind: 'string', default: '', help: 'Reconcile only DevSessions/ImageBuilds matching this label selector (e.g. team=payments), on top of --scope.' },
  { name: 'concurrency', env: 'DSA_CONCURRENCY', kind: 'string', default: '4', help: 'Parallel reconciles per controller (one object is never reconciled twice at once).' },
  { name: 'kaniko-image', env: 'DSA_KANIKO_IMAGE', kind: 'string', help: `Default kaniko executor image for ImageBuilds without spec.builder.image (built-in: ${DEFAULT_KANIKO_IMAGE}).` },
  { name: 'helper-image', env: 'DSA_HELPER_IMAGE', kind: 'string', help: `Busybox-like image for the build pod's upload-receiver init container (built-in: ${DEFAULT_HELPER_IMAGE}).` },
  { name: 'sidecar-image', env: 'DSA_SIDECAR_IMAGE', kind: 'string', help: 'The dev sidecar image added to dev pods with sync paths or reverse ports (docs/sync.md). Without it those dev pods are deployed without a sidecar and the agent reports sync as unavailable.' },
  { name: 'impersonate', env: 'DSA_IMPERSONATE', kind: 'bool', default: 'true', help: "Deploy and build as a ServiceAccount of the session's own namespace (spec.serviceAccountName, else --default-service-account): RBAC decides what a session may create. false = the operator's own rights (unconfined; one trusted team per cluster)." },
  { name: 'default-service-account', env: 'DSA_DEFAULT_SERVICE_ACCOUNT', kind: 'string', default: DEFAULT_SERVICE_ACCOUNT, help: 'ServiceAccount impersonated for sessions and builds without spec.serviceAccountName (in their own namespace).' },
  { name: 'allow-cross-namespace', env: 'DSA_ALLOW_CROSS_NAMESPACE', kind: 'bool', default: 'false', help: "Let sessions deploy objects (and run builds) outside their own namespace. Off: such objects stall the session, naming the object." },
  { name: 'allow-cluster-scoped', env: 'DSA_ALLOW_CLUSTER_SCOPED', kind: 'bool', default: 'false', help: 'Let sessions deploy cluster-scoped kinds (Namespace, ClusterRole, CRDs, …). Off: such objects stall the session.' },
  { name: 'allowed-builder-images', env: 'DSA_ALLOWED_BUILDER_IMAGES', kind: 'string', default: '', help: 'Comma-separated images ImageBuilds may name in spec.builder.image ("*" = any); the default kaniko image is always allowed.' },
  { name: 'insecure-registries', env: 'DSA_INSECURE_REGISTRIES', kind: 'string', default: '', help: 'Comma-separated host[:port] of plain-HTTP or self-signed registries (as containerd lists them): builds pushing to or pulling from them get kaniko\'s insecure flags, and the operator\'s own registry lookups use plain HTTP, without a per-image insecure: true.' },
  { name: 'allow-internal-hosts', env: 'DSA_ALLOW_INTERNAL_HOSTS', kind: 'string', default: '', help: 'Comma-separated hosts, host:port or CIDRs that git sources and registry lookups may reach although they are loopback, link-local or cloud-metadata addresses (refused otherwise).' },
  { name: 'max-build-context', env: 'DSA_MAX_BUILD_CONTEXT', kind: 'string', default: '1Gi', help: "Largest build context a build pod accepts (e.g. 512Mi, 2Gi); the build pod's volumes are sized from it." },
  { name: 'log-level', env: 'DSA_LOG_LEVEL', kind: 'string', default: 'info', help: 'fatal | error | warn | info | debug | trace | silent.' },
  // KUBECONFIG is read by the client itself (it may list several files), so it is not this flag's env var.
  { name: 'kubeconfig', kind: 'string', help: 'Kubeconfig file (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account).' },
  { name: 'shutdown-timeout', env: 'DSA_SHUTDOWN_TIMEOUT', kind: 'string', default: '25s', help: 'How long in-flight reconciles may finish on SIGTERM (keep below the pod\'s terminationGracePeriodSeconds).' },
  { name: 'help', kind: 'bool', default: 'false', help: 'Print this help and exit.' },
  { name: 'version', kind: 'bool', default: 'false', help: 'Print the version and exit.' },
];

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function usage(): string {
  const lines = ['Usage: dsa-operator [flags]', '', 'Flags (environment variable in brackets; flags win):'];
  for (const f of FLAGS) {
    const env = f.env ? ` [${f.env}]` : '';
    const def = f.default !== undefined && f.default !== '' && f.default !== 'false' ? ` (default ${f.default})` : '';
    lines.push(`  --${f.name}${f.kind === 'string' ? ' <value>' : ''}${env}`, `      ${f.help}${def}`);
  }
  return lines.join('\n');
}

/** Split argv into flag → raw value. Accepts --x=v, --x v, bare --bool, --no-bool. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const byName = new Map(FLAGS.map((f) => [f.name, f]));
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] === '-h' ? '--help' : argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (flags start with --)`);
    const eq = arg.indexOf('=');
    let name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.kind === 'bool' && value === undefined) {
      name = name.slice(3);
      spec = byName.get(name);
      value = 'false';
    }
    if (!spec) throw new ConfigError(`unknown flag --${name}`);
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new ConfigError(`flag --${name} needs a value`);
        value = next;
        i++;
      }
    }
    out.set(name, value);
  }
  return out;
}

export function parseBool(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`--${name}: expected true or false, got "${raw}"`);
}

/** ":8080" → all interfaces; "127.0.0.1:8080"; "[::1]:8080"; "0" → disabled. */
export function parseBindAddress(raw: string): BindAddress | false {
  const v = raw.trim();
  if (v === '0') return false;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
  if (!m) throw new ConfigError(`--metrics-bind-address: expected [host]:port or "0", got "${raw}"`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`--metrics-bind-address: port ${port} out of range`);
  return { host: m[1] ?? m[2] ?? '', port };
}

/** "30s", "2m", "1500ms" or plain seconds. */
export function parseDuration(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`--${name}: expected a duration like 30s, 2m or 500ms, got "${raw}"`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

/** "1Gi", "512Mi", "300M", plain bytes → bytes. */
export function parseBytes(name: string, raw: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(`--${name}: expected a size like 512Mi or 2Gi, got "${raw}"`);
  const mult: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  const n = Number(m[1]) * (m[2] ? mult[m[2]]! : 1);
  if (n < 1024 * 1024) throw new ConfigError(`--${name}: ${raw} is too small (at least 1Mi)`);
  return n;
}

const list = (raw: string | undefined): string[] => [...new Set((raw ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)(:\d{1,5})?$/;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * A label selector the apiserver accepts (equality, set-based and existence terms), checked here so a typo is
 * a one-line start-up error instead of an informer failing forever. Returns the problem, or undefined.
 */
export function checkLabelSelector(sel: string): string | undefined {
  if (sel === '') return undefined;
  // Split on commas outside parentheses: `env in (a,b),tier`.
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of sel) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  for (const raw of terms) {
    const t = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^(!?)([^=!\s()]+)$/.exec(t))) {
      if (!LABEL_KEY.test(m[2]!)) return `"${m[2]}" is not a valid label key`;
    } else if ((m = /^([^=!\s()]+)\s*(==|=|!=)\s*([^=!\s()]*)$/.exec(t))) {
      if (!LABEL_KEY.test(m[1]!)) return `"${m[1]}" is not a valid label key`;
      if (!LABEL_VALUE.test(m[3]!)) return `"${m[3]}" is not a valid label value`;
    } else if ((m = /^([^=!\s()]+)\s+(in|notin)\s+\(([^()]*)\)$/.exec(t))) {
      if (!LABEL_KEY.test(m[1]!)) return `"${m[1]}" is not a valid label key`;
      for (const v of m[3]!.split(',').map((x) => x.trim())) if (!LABEL_VALUE.test(v)) return `"${v}" is not a valid label value`;
    } else return `cannot parse "${t}" (expected key, !key, key=value, key!=value, key in (a,b), key notin (a,b))`;
  }
  return undefined;
}

const HELP_ONLY: OperatorConfig = {
  metricsBind: false,
  leaderElect: false,
  leaderElectionNamespace: '',
  leaderElectionId: 'dsa-operator-leader',
  watchNamespaces: [],
  scope: '',
  watchLabelSelector: '',
  concurrency: 1,
  kanikoImage: undefined,
  helperImage: undefined,
  sidecarImage: undefined,
  logLevel: 'info',
  kubeconfig: undefined,
  shutdownTimeoutMs: 0,
  confinement: CONFINED,
  allowedBuilderImages: [],
  insecureRegistries: [],
  allowInternalHosts: [],
  maxBuildContextBytes: 2 ** 30,
  help: false,
  version: false,
};

export interface LoadConfigInput {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  /** Reads the in-cluster namespace file; injectable for tests. */
  readNamespaceFile?: () => string | undefined;
}

function defaultReadNamespaceFile(): string | undefined {
  try {
    return readFileSync(SA_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function loadConfig(input: LoadConfigInput): OperatorConfig {
  const flags = parseFlags(input.argv);
  const get = (name: string): string | undefined => {
    if (flags.has(name)) return flags.get(name);
    const spec = FLAGS.find((f) => f.name === name)!;
    const fromEnv = spec.env ? input.env[spec.env] : undefined;
    // An empty env var counts as unset (the chart renders empty values for unset options).
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return spec.default;
  };
  const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

  const help = parseBool('help', get('help')!);
  const version = parseBool('version', get('version')!);
  // --help/--version must work without a valid environment (e.g. `docker run image --help` on a laptop).
  if (help || version) return { ...HELP_ONLY, help, version };
  const metricsBind = parseBindAddress(get('metrics-bind-address')!);
  const leaderElect = parseBool('leader-elect', get('leader-elect')!);

  const watchNamespaces = [...new Set((get('watch-namespace') ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
  for (const ns of watchNamespaces) if (!DNS_LABEL.test(ns)) throw new ConfigError(`--watch-namespace: "${ns}" is not a valid namespace name`);

  const scope = (get('scope') ?? '').trim();
  if (!validScope(scope)) throw new ConfigError(`--scope: "${scope}" is not a valid label value (63 characters of letters, digits, '-', '_', '.', starting and ending alphanumeric)`);
  const watchLabelSelector = (get('watch-label-selector') ?? '').trim();
  const selectorProblem = checkLabelSelector(watchLabelSelector);
  if (selectorProblem) throw new ConfigError(`--watch-label-selector: ${selectorProblem}`);

  const concurrencyRaw = get('concurrency')!;
  const concurrency = Number(concurrencyRaw);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new ConfigError(`--concurrency: expected an integer from 1 to 64, got "${concurrencyRaw}"`);
  }

  let leaderElectionNamespace = nonEmpty(get('leader-election-namespace')) ?? '';
  if (leaderElect && !leaderElectionNamespace) {
    leaderElectionNamespace = (input.readNamespaceFile ?? defaultReadNamespaceFile)() ?? '';
    if (!leaderElectionNamespace) {
      throw new ConfigError('--leader-elect needs --leader-election-namespace (or POD_NAMESPACE) outside a cluster; or pass --leader-elect=false');
    }
  }
  const leaderElectionId = get('leader-election-id')!;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(leaderElectionId)) {
    throw new ConfigError(`--leader-election-id: "${leaderElectionId}" is not a valid object name`);
  }

  const confinement: Confinement = {
    impersonate: parseBool('impersonate', get('impersonate')!),
    defaultServiceAccount: (get('default-service-account') ?? '').trim(),
    allowCrossNamespace: parseBool('allow-cross-namespace', get('allow-cross-namespace')!),
    allowClusterScoped: parseBool('allow-cluster-scoped', get('allow-cluster-scoped')!),
  };
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(confinement.defaultServiceAccount) || confinement.defaultServiceAccount.length > 253) {
    throw new ConfigError(`--default-service-account: "${confinement.defaultServiceAccount}" is not a valid ServiceAccount name`);
  }
  const insecureRegistries = list(get('insecure-registries'));
  for (const r of insecureRegistries) if (!HOST_PORT.test(r)) throw new ConfigError(`--insecure-registries: "${r}" is not a host or host:port`);
  const allowInternalHosts = list(get('allow-internal-hosts'));
  for (const h of allowInternalHosts) {
    const problem = parseAllowEntry(h).problem;
    if (problem) throw new ConfigError(`--allow-internal-hosts: ${problem}`);
  }

  const rawLevel = get('log-level')!;
  const logLevel = resolveLogLevel(rawLevel, {});
  if (logLevel !== rawLevel.trim().toLowerCase()) throw new ConfigError(`--log-level: unknown level "${rawLevel}"`);

  return {
    metricsBind,
    leaderElect,
    leaderElectionNamespace,
    leaderElectionId,
    watchNamespaces,
    scope,
    watchLabelSelector,
    concurrency,
    kanikoImage: nonEmpty(get('kaniko-image')),
    helperImage: nonEmpty(get('helper-image')),
    sidecarImage: nonEmpty(get('sidecar-image')),
    logLevel,
    kubeconfig: nonEmpty(get('kubeconfig')),
    shutdownTimeoutMs: parseDuration('shutdown-timeout', get('shutdown-timeout')!),
    confinement,
    allowedBuilderImages: list(get('allowed-builder-images')),
    insecureRegistries,
    allowInternalHosts,
    maxBuildContextBytes: parseBytes('max-build-context', get('max-build-context')!),
    help,
    version,
  };
}
