// Operator benchmark against the control-plane tier (real etcd + kube-apiserver; no kubelet needed because the
// sessions deploy only ConfigMaps). The operator under test is the esbuild bundle (what the image runs), started
// as its own process with `--scope bench-<run>`: only the benchmark's namespaces carry that scope, so it never
// touches anyone else's sessions on a shared cluster (and no other operator touches the benchmark's).
//
// One run, four figures, side by side:
//   1. cold start   — N DevSessions (one ConfigMap each) in M namespaces, created while no operator runs; start
//                     the operator; time until a watch has seen every ConfigMap and every session is Ready for its
//                     generation.
//   2. memory       — the operator's RSS / heap from its own /metrics once all N are Ready and it has settled
//                     (and the peak RSS seen while it worked through the cold start).
//   3. change latency — with all N held: 100 times, JSON-patch one session's ConfigMap value, measure until a
//                     watch sees the ConfigMap carry it (spec change → child applied). Sessions round-robin.
//                     Next to it, the same measurement of a ConfigMap patched directly (no operator): the
//                     apiserver's own write → watch floor on this machine at this moment.
//   4. restart      — stop the operator (SIGTERM), start it again over the N Ready sessions, wait until it has
//                     reconciled all of them; count what it sent to the apiserver from its
//                     dsa_operator_api_requests_total{verb} (counted where every client-node call passes:
//                     operator/src/runtime/connection-reuse.ts). Writes = POST + PUT + PATCH + DELETE; as a
//                     second witness, the resourceVersion of every session and ConfigMap before and after.
//
// Prints figures, asserts nothing. Usage: `make bench` or
//   eval "$(test-e2e/cluster/ensure.sh controlplane)"; node --import tsx bench/operator-bench.ts \
//     [--sessions 1000] [--namespaces 100] [--changes 100] [--concurrency 4]
import { parseArgs } from 'node:util';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, DEVSESSION, GROUP, VERSION } from '../api/src/constants.js';
import { kubeFromEnv } from '../test-e2e/lib/env.js';
import { createTestNamespace, type TestNamespace } from '../test-e2e/lib/namespace.js';
import { scopeLabels } from '../test-e2e/lib/scope.js';
import { waitFor } from '../test-e2e/lib/wait.js';
import { applyCrds, DSA_RESOURCES } from '../test-e2e/lib/operator-install.js';
import { ResourceInformer } from '../operator/src/runtime/informer.js';

const { values: opts } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1000' },
    namespaces: { type: 'string', default: '100' },
    changes: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
  },
});
const SESSIONS = Number(opts.sessions);
const NAMESPACES = Math.min(Number(opts.namespaces), SESSIONS);
const CHANGES = Number(opts.changes);

const kc = kubeFromEnv();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const core = kc.makeApiClient(k8s.CoreV1Api);
const run = randomBytes(3).toString('hex');
const SCOPE = `bench-${run}`;
const RUN_LABEL = 'bench.dsa.dev/run';
const REPO = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${REPO}test-e2e/.out/bench`;

interface Session {
  namespace: string;
  name: string;
}

function configMapManifest(name: string, value: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels: {${RUN_LABEL}: "${run}"}\ndata:\n  value: "${value}"\n`;
}

function sessionBody(s: Session, value: string) {
  return {
    apiVersion: API_VERSION,
    kind: DEVSESSION.kind,
    metadata: { name: s.name, namespace: s.namespace },
    spec: { project: s.name, owner: { user: 'bench' }, deployments: [{ name: 'config', kubectl: { manifests: [configMapManifest(`${s.name}-cfg`, value)] } }] },
  };
}

const dsPath = (namespace: string) => ({ group: GROUP, version: VERSION, namespace, plural: DEVSESSION.plural });
const key = (namespace: string, name: string) => `${namespace}/${name}`;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

async function inBatches<T>(items: readonly T[], size: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

// ── what the benchmark measures with ────────────────────────────────────────────────────────────────
// Informers from the operator's own runtime, not bare watches: under a flood of events the apiserver closes
// watchers that fall behind, and an informer restarts and relists where a bare watch would just go silent.

interface Observed {
  /** ConfigMap `ns/name` → data.value, as last seen. */
  cm: Map<string, string | undefined>;
  /** session key → Ready=True for its current generation. */
  ready: Set<string>;
  onCm?: (key: string, value: string | undefined) => void;
  stop(): Promise<void>;
}

async function observe(namespaces: ReadonlySet<string>): Promise<Observed> {
  const o: Observed = { cm: new Map(), ready: new Set(), stop: async () => undefined };
  const cms = ResourceInformer.forResource<k8s.V1ConfigMap>(kc, { group: '', version: 'v1', plural: 'configmaps', labelSelector: `${RUN_LABEL}=${run}` }, { name: 'bench-configmaps' });
  const onCm = (obj: k8s.V1ConfigMap) => {
    const k = key(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    o.cm.set(k, obj.data?.value);
    o.onCm?.(k, obj.data?.value);
  };
  cms.addHandler({ add: onCm, update: onCm });
  type Ds = k8s.KubernetesObject & { status?: { conditions?: Array<{ type: string; status: string; observedGeneration?: number }> } };
  const sessions = ResourceInformer.forResource<Ds>(kc, { group: GROUP, version: VERSION, plural: DEVSESSION.plural }, { name: 'bench-devsessions' });
  const onSession = (obj: Ds) => {
    const ns = obj.metadata?.namespace ?? '';
    if (!namespaces.has(ns)) return;
    const k = key(ns, obj.metadata?.name ?? '');
    const r = obj.status?.conditions?.find((c) => c.type === 'Ready');
    if (r?.status === 'True' && r.observedGeneration === obj.metadata?.generation) o.ready.add(k);
    else o.ready.delete(k);
  };
  sessions.addHandler({ add: onSession, update: onSession, resync: onSession });
  cms.start();
  sessions.start();
  if (!(await cms.waitForSync(60_000)) || !(await sessions.waitForSync(60_000))) throw new Error('the benchmark\'s own informers did not sync');
  o.stop = async () => {
    await cms.stop();
    await sessions.stop();
  };
  return o;
}

// ── the operator process ────────────────────────────────────────────────────────────────────────────

interface OperatorProc {
  child: ChildProcess;
  port: number;
  startedAt: number;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

function bundle(): string {
  const out = `${REPO}operator/dist/bench-operator.mjs`;
  const b = spawnSync(process.execPath, [`${REPO}operator/build/bundle.mjs`, '--outfile', out], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`bundle failed: ${b.stderr}`);
  return out;
}

/** This environment minus anything that would change the flags under test. */
function operatorEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DSA_OPERATOR_SCOPE', 'DSA_WATCH_LABEL_SELECTOR', 'WATCH_NAMESPACE', 'DSA_CONCURRENCY', 'DSA_LOG_LEVEL']) delete env[k];
  return env;
}

async function startOperator(file: string, name: string): Promise<OperatorProc> {
  mkdirSync(OUT, { recursive: true });
  const log = createWriteStream(`${OUT}/${name}.log`);
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [file, '--leader-elect=false', '--metrics-bind-address=127.0.0.1:0', `--scope=${SCOPE}`, `--concurrency=${opts.concurrency}`, '--log-level=info'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: operatorEnv() },
  );
  let port = 0;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    log.write(d);
    if (port) return;
    buf += d.toString();
    const m = /"port":(\d+)[^\n]*"msg":"ops server listening"/.exec(buf) ?? /"msg":"ops server listening"[^\n]*"port":(\d+)/.exec(buf);
    if (m) port = Number(m[1]);
  });
  child.stderr!.on('data', (d: Buffer) => log.write(d));
  await waitFor(`${name}: ops server`, () => {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${OUT}/${name}.log`);
    return port > 0;
  }, { timeoutMs: 60_000, intervalMs: 20 });
  return {
    child,
    port,
    startedAt,
    metrics: () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      log.end();
    },
  };
}

/** Sum of a Prometheus sample's values whose labels match. */
function metricSum(text: string, name: string, match: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m && m[1] === name && match(m[2] ?? '')) sum += Number(m[3]);
  }
  return sum;
}

const devsession = (l: string) => l.includes('controller="devsession"');

/** Waits until the operator has reconciled `n` sessions and both session queues are empty. */
async function reconciled(op: OperatorProc, n: number, timeoutMs: number): Promise<void> {
  await waitFor(`operator to reconcile ${n} sessions`, async () => {
    const t = await op.metrics();
    const done = metricSum(t, 'dsa_operator_reconcile_total', (l) => devsession(l) && /result="(success|requeue)"/.test(l));
    const depth = metricSum(t, 'dsa_operator_workqueue_depth', (l) => /controller="devsession(-pods)?"/.test(l));
    return done >= n && depth === 0;
  }, { timeoutMs, intervalMs: 100 });
}

/** resourceVersion of every benchmark session and ConfigMap. */
async function resourceVersions(namespaces: readonly TestNamespace[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const ns of namespaces) {
    const list = (await custom.listNamespacedCustomObject(dsPath(ns.name))) as { items: Array<{ metadata: k8s.V1ObjectMeta }> };
    for (const s of list.items) out.set(`ds:${ns.name}/${s.metadata.name}`, s.metadata.resourceVersion ?? '');
  }
  const cms = await core.listConfigMapForAllNamespaces({ labelSelector: `${RUN_LABEL}=${run}` });
  for (const c of cms.items) out.set(`cm:${c.metadata?.namespace}/${c.metadata?.name}`, c.metadata?.resourceVersion ?? '');
  return out;
}

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}

async function main() {
  const info = await kc.makeApiClient(k8s.VersionApi).getCode();
  console.error(`bench: apiserver ${info.gitVersion}, ${SESSIONS} sessions in ${NAMESPACES} namespaces, ${CHANGES} changes, concurrency ${opts.concurrency}, scope ${SCOPE}`);
  await applyCrds();
  const file = bundle();
  const namespaces: TestNamespace[] = [];
  let op: OperatorProc | undefined;
  let observed: Observed | undefined;
  try {
    for (let i = 0; i < NAMESPACES; i++) namespaces.push(await createTestNamespace(kc, `dsa-bench-${run}-${i}`, scopeLabels(SCOPE)));
    const sessions: Session[] = Array.from({ length: SESSIONS }, (_, i) => ({ namespace: namespaces[i % NAMESPACES]!.name, name: `s${String(i).padStart(4, '0')}` }));
    const t0c = performance.now();
    await inBatches(sessions, 25, (s) => custom.createNamespacedCustomObject({ ...dsPath(s.namespace), body: sessionBody(s, 'cold') }));
    console.error(`bench: ${SESSIONS} sessions created in ${((performance.now() - t0c) / 1000).toFixed(1)} s`);
    observed = await observe(new Set(namespaces.map((n) => n.name)));

    // 1 + 2: cold start and memory.
    op = await startOperator(file, 'operator-cold');
    const t0 = op.startedAt;
    let peakRss = 0;
    const sampler = setInterval(() => {
      void op?.metrics().then((t) => (peakRss = Math.max(peakRss, metricSum(t, 'process_resident_memory_bytes')))).catch(() => undefined);
    }, 500);
    let allApplied = NaN;
    let allReady = NaN;
    try {
      await waitFor(`${SESSIONS} ConfigMaps`, () => [...observed!.cm.values()].filter((v) => v === 'cold').length >= SESSIONS && (allApplied = performance.now() - t0), { timeoutMs: 600_000, intervalMs: 20 });
      await waitFor(`${SESSIONS} sessions Ready`, () => observed!.ready.size >= SESSIONS && (allReady = performance.now() - t0), { timeoutMs: 600_000, intervalMs: 20 });
    } finally {
      clearInterval(sampler);
    }
    await reconciled(op, SESSIONS, 120_000);
    const coldCpu = metricSum(await op.metrics(), 'process_cpu_seconds_total');
    await new Promise((r) => setTimeout(r, 5000));
    const settled = await op.metrics();
    const rss = metricSum(settled, 'process_resident_memory_bytes');
    const heap = metricSum(settled, 'nodejs_heap_size_used_bytes');
    peakRss = Math.max(peakRss, rss);

    // 3: change latency with all sessions held.
    const before = await op.metrics();
    const samples: number[] = [];
    for (let i = 1; i <= CHANGES; i++) {
      const s = sessions[(i * 7919) % SESSIONS]!;
      const value = `v${i}`;
      const cmKey = key(s.namespace, `${s.name}-cfg`);
      const applied = new Promise<void>((resolve) => {
        observed!.onCm = (k, v) => k === cmKey && v === value && resolve();
      });
      const t = performance.now();
      await custom.patchNamespacedCustomObject(
        { ...dsPath(s.namespace), name: s.name, body: [{ op: 'replace', path: '/spec/deployments/0/kubectl/manifests/0', value: configMapManifest(`${s.name}-cfg`, value) }] },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      );
      await Promise.race([applied, new Promise((_, rej) => setTimeout(() => rej(new Error(`change ${i} not applied in 30 s`)), 30_000))]);
      samples.push(performance.now() - t);
    }
    observed.onCm = undefined;
    samples.sort((a, b) => a - b);
    const after = await op.metrics();
    const hist = (t: string, suffix: string) => metricSum(t, `dsa_operator_reconcile_duration_seconds_${suffix}`, devsession);
    const reconcileMeanMs = ((hist(after, 'sum') - hist(before, 'sum')) / (hist(after, 'count') - hist(before, 'count'))) * 1000;
    await waitFor('changed sessions Ready', () => observed!.ready.size >= SESSIONS, { timeoutMs: 60_000, intervalMs: 50 });
    await reconciled(op, 0, 60_000);
    await new Promise((r) => setTimeout(r, 2000));

    // Reference for 3, measured the same way at the same moment: a ConfigMap patched directly, until the
    // benchmark's informer sees it — one apiserver write plus one watch delivery, the floor any operator sits on
    // (the operator's own path is two watch deliveries and one apply).
    const refNs = namespaces[0]!.name;
    const refName = 'bench-reference';
    await core.createNamespacedConfigMap({ namespace: refNs, body: { metadata: { name: refName, labels: { [RUN_LABEL]: run } }, data: { value: 'r0' } } });
    const reference: number[] = [];
    for (let i = 1; i <= CHANGES; i++) {
      const value = `r${i}`;
      const seen = new Promise<void>((resolve) => {
        observed!.onCm = (k, v) => k === key(refNs, refName) && v === value && resolve();
      });
      const t = performance.now();
      await core.patchNamespacedConfigMap({ namespace: refNs, name: refName, body: { data: { value } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await Promise.race([seen, new Promise((_, rej) => setTimeout(() => rej(new Error(`reference change ${i} not seen in 30 s`)), 30_000))]);
      reference.push(performance.now() - t);
    }
    observed.onCm = undefined;
    reference.sort((a, b) => a - b);

    // 4: restart over N Ready sessions.
    await op.stop();
    op = undefined;
    const rvBefore = await resourceVersions(namespaces);
    op = await startOperator(file, 'operator-restart');
    const r0 = op.startedAt;
    await waitFor('restarted operator /readyz', async () => (await fetch(`http://127.0.0.1:${op!.port}/readyz`)).status === 200, { timeoutMs: 120_000, intervalMs: 20 });
    const readyzMs = performance.now() - r0;
    await reconciled(op, SESSIONS, 300_000);
    const restartReconciledMs = performance.now() - r0;
    // Anything a reconcile scheduled (events, late writes) has had time to happen.
    await new Promise((r) => setTimeout(r, 5000));
    const rt = await op.metrics();
    const verbs = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'WATCH'];
    const byVerb = Object.fromEntries(verbs.map((v) => [v, metricSum(rt, 'dsa_operator_api_requests_total', (l) => l.includes(`verb="${v}"`))]));
    const writes = byVerb.POST! + byVerb.PUT! + byVerb.PATCH! + byVerb.DELETE!;
    const rvAfter = await resourceVersions(namespaces);
    const changed = [...rvBefore].filter(([k, v]) => rvAfter.get(k) !== v).length;
    await op.stop();
    op = undefined;

    const rows: Array<[string, string, string]> = [
      [`spec change → child applied, p50 (${CHANGES} changes, ${SESSIONS} sessions held)`, `${percentile(samples, 50).toFixed(1)} ms`, '≤ 50 ms'],
      ['spec change → child applied, p99', `${percentile(samples, 99).toFixed(1)} ms`, '≤ 150 ms'],
      ['spec change → child applied, max / mean', `${samples.at(-1)!.toFixed(1)} / ${(samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(1)} ms`, ''],
      ['devsession reconcile duration, mean (latency phase)', `${reconcileMeanMs.toFixed(1)} ms`, ''],
      ['reference: ConfigMap write → watch event, p50 / p99 (no operator)', `${percentile(reference, 50).toFixed(1)} / ${percentile(reference, 99).toFixed(1)} ms`, ''],
      [`cold start: ${SESSIONS} sessions in ${NAMESPACES} namespaces → all ConfigMaps applied`, `${(allApplied / 1000).toFixed(2)} s`, ''],
      [`cold start → all ${SESSIONS} Ready`, `${(allReady / 1000).toFixed(2)} s`, '≤ 60 s'],
      ['operator CPU time for the cold start (start-up included)', `${coldCpu.toFixed(1)} s`, ''],
      [`operator RSS with ${SESSIONS} sessions (settled / peak during cold start)`, `${mib(rss)} / ${mib(peakRss)} MiB`, '≤ 250 MB'],
      ['operator heap used (settled)', `${mib(heap)} MiB`, ''],
      [`restart over ${SESSIONS} Ready sessions: /readyz / all reconciled`, `${(readyzMs / 1000).toFixed(2)} / ${(restartReconciledMs / 1000).toFixed(2)} s`, ''],
      ['restart: writes to the API (POST+PUT+PATCH+DELETE)', `${writes}`, '0'],
      ['restart: reads (GET incl. lists / WATCH connections)', `${byVerb.GET} / ${byVerb.WATCH}`, ''],
      ['restart: sessions + ConfigMaps whose resourceVersion changed', `${changed} of ${rvBefore.size}`, '0'],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    const v = Math.max(...rows.map((r) => r[1].length));
    console.log(`\n${'metric'.padEnd(w)}  ${'value'.padEnd(v)}  target`);
    console.log(`${'-'.repeat(w)}  ${'-'.repeat(v)}  ------`);
    for (const [k, val, target] of rows) console.log(`${k.padEnd(w)}  ${val.padEnd(v)}  ${target}`);
  } finally {
    await observed?.stop();
    await op?.stop();
    // No operator runs for these namespaces any more: strip finalizers or they stay Terminating.
    await inBatches(namespaces, 10, (ns) => ns.cleanup({ stripFinalizers: DSA_RESOURCES }));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
