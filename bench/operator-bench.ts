// Operator benchmark against the control-plane tier (real etcd + kube-apiserver; no kubelet needed because the
// sessions deploy only ConfigMaps). The operator runs in this process (buildOperator from operator/src/main.ts),
// exactly as `make run` would run it, minus leader election and the HTTP server.
//
//   1. change latency   — one DevSession; 100 times: patch the ConfigMap in its spec, measure until the
//                         ConfigMap in the cluster carries the new value (spec change → child applied).
//   2. cold start       — 200 DevSessions created while no operator runs; start the operator, measure until all
//                         200 ConfigMaps exist and all 200 sessions report Ready.
//   3. memory           — RSS / heap of this process with the operator holding 200 sessions (bench and tsx
//                         overhead included), and — closer to production — the RSS of the esbuild bundle
//                         (operator/dist/operator.mjs, what the image runs) started as its own process on the same
//                         200 sessions, read from its /metrics once it has reconciled them all (this also gives the
//                         restart time with 200 already-applied sessions).
//
// Prints figures, asserts nothing. Usage: `make bench` or
//   eval "$(test-e2e/cluster/ensure.sh controlplane)"; node --expose-gc --import tsx bench/operator-bench.ts [--sessions 200] [--changes 100]
import { parseArgs } from 'node:util';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, DEVSESSION, GROUP, VERSION } from '../api/src/constants.js';
import { buildOperator, createLogger, loadConfig } from '@dsa/operator';
import { kubeFromEnv } from '../test-e2e/lib/env.js';
import { createTestNamespace, type TestNamespace } from '../test-e2e/lib/namespace.js';
import { waitFor } from '../test-e2e/lib/wait.js';
import { applyCrds, DSA_RESOURCES } from '../test-e2e/lib/operator-install.js';

const { values: opts } = parseArgs({
  options: {
    sessions: { type: 'string', default: '200' },
    changes: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '4' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const SESSIONS = Number(opts.sessions);
const CHANGES = Number(opts.changes);

const kc = kubeFromEnv();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const run = randomBytes(2).toString('hex');

function configMapManifest(name: string, value: string): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
}

function session(namespace: string, name: string, value: string) {
  return {
    apiVersion: API_VERSION,
    kind: DEVSESSION.kind,
    metadata: { name, namespace },
    spec: {
      project: name,
      owner: { user: 'bench' },
      deployments: [{ name: 'config', kubectl: { manifests: [configMapManifest(`${name}-cfg`, value)] } }],
    },
  };
}

const dsApi = (namespace: string) => ({ group: GROUP, version: VERSION, namespace, plural: DEVSESSION.plural });

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

/** Wait for a ConfigMap's data.value through a watch (no polling delay in the measurement). */
function watchConfigMaps(namespace: string, onChange: (name: string, value: string | undefined) => void): Promise<AbortController> {
  return new k8s.Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    {},
    (_phase, obj: k8s.V1ConfigMap) => onChange(obj.metadata?.name ?? '', obj.data?.value),
    () => undefined,
  );
}

function startOperator(namespaces: string[]) {
  const cfg = loadConfig({
    argv: ['--leader-elect=false', '--metrics-bind-address=0', `--concurrency=${opts.concurrency}`, `--watch-namespace=${namespaces.join(',')}`],
    env: {},
  });
  const log = createLogger({ level: opts['log-level'] });
  const { manager } = buildOperator(cfg, { kc, log, env: { POD_NAME: `bench-${run}` } });
  const exit = manager.start();
  return { manager, exit };
}

const isReady = (o: any) => (o?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

async function changeLatency(ns: TestNamespace): Promise<{ p50: number; p99: number; max: number; mean: number }> {
  const name = `lat-${run}`;
  await custom.createNamespacedCustomObject({ ...dsApi(ns.name), body: session(ns.name, name, 'v0') });
  const waiters = new Map<string, () => void>();
  const seen = new Map<string, string | undefined>();
  const watch = await watchConfigMaps(ns.name, (cm, value) => {
    seen.set(cm, value);
    const w = value !== undefined ? waiters.get(value) : undefined;
    if (w) {
      waiters.delete(value!);
      w();
    }
  });
  try {
    await waitFor('first ConfigMap', () => seen.get(`${name}-cfg`) === 'v0', { timeoutMs: 60_000 });
    const samples: number[] = [];
    for (let i = 1; i <= CHANGES; i++) {
      const value = `v${i}`;
      const applied = new Promise<void>((resolve) => waiters.set(value, resolve));
      const t0 = performance.now();
      await custom.patchNamespacedCustomObject(
        {
          ...dsApi(ns.name),
          name,
          body: [{ op: 'replace', path: '/spec/deployments/0/kubectl/manifests/0', value: configMapManifest(`${name}-cfg`, value) }],
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
      );
      await Promise.race([applied, new Promise((_, rej) => setTimeout(() => rej(new Error(`change ${i} not applied in 30 s`)), 30_000))]);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return {
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: samples[samples.length - 1]!,
      mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    };
  } finally {
    watch.abort();
  }
}

type RunningOperator = ReturnType<typeof startOperator>;

async function coldStart(ns: TestNamespace): Promise<{ allApplied: number; allReady: number; op: RunningOperator }> {
  // Create the sessions with no operator running (bounded parallelism: the apiserver is on the same 2 cores).
  const names = Array.from({ length: SESSIONS }, (_, i) => `s${String(i).padStart(3, '0')}-${run}`);
  for (let i = 0; i < names.length; i += 20) {
    await Promise.all(names.slice(i, i + 20).map((n) => custom.createNamespacedCustomObject({ ...dsApi(ns.name), body: session(ns.name, n, 'cold') })));
  }
  const applied = new Set<string>();
  const watch = await watchConfigMaps(ns.name, (cm, value) => value === 'cold' && applied.add(cm));
  const t0 = performance.now();
  const op = startOperator([ns.name]);
  try {
    let allApplied = NaN;
    await waitFor(`${SESSIONS} ConfigMaps`, () => applied.size >= SESSIONS && (allApplied = performance.now() - t0), { timeoutMs: 600_000, intervalMs: 20 });
    await waitFor(
      `${SESSIONS} sessions Ready`,
      async () => {
        const list = (await custom.listNamespacedCustomObject(dsApi(ns.name))) as { items: unknown[] };
        return list.items.filter(isReady).length >= SESSIONS;
      },
      { timeoutMs: 600_000, intervalMs: 200 },
    );
    const allReady = performance.now() - t0;
    return { allApplied, allReady, op };
  } catch (e) {
    await op.manager.stop();
    throw e;
  } finally {
    watch.abort();
  }
}

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Sum of a Prometheus counter/gauge's samples whose labels match. */
function metricSum(text: string, name: string, match: (labels: string) => boolean): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m && m[1] === name && match(m[2] ?? '')) sum += Number(m[3]);
  }
  return sum;
}

/** The bundled operator as a separate process on `namespace`; RSS once it has reconciled every session. */
async function bundleRestart(namespace: string): Promise<{ readyMs: number; reconciledMs: number; rss: number; heap: number }> {
  const b = spawnSync(process.execPath, [`${REPO}operator/build/bundle.mjs`, '--outfile', `${REPO}operator/dist/bench-operator.mjs`], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`bundle failed: ${b.stderr}`);
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [`${REPO}operator/dist/bench-operator.mjs`, '--leader-elect=false', '--metrics-bind-address=127.0.0.1:0', `--watch-namespace=${namespace}`, `--concurrency=${opts.concurrency}`, '--log-level=info'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
  );
  let port = 0;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const m = /"port":(\d+),"msg":"ops server listening"/.exec(buf) ?? /"msg":"ops server listening".*"port":(\d+)/.exec(buf);
    if (m && !port) port = Number(m[1]);
    if (buf.length > 1_000_000) buf = buf.slice(-10_000);
  });
  try {
    await waitFor('bundled operator ops server', () => port > 0, { timeoutMs: 30_000, intervalMs: 20 });
    const metrics = () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    let readyMs = NaN;
    await waitFor('bundled operator /readyz', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 && (readyMs = performance.now() - t0), { timeoutMs: 120_000, intervalMs: 20 });
    let text = '';
    await waitFor(
      `bundled operator to reconcile ${SESSIONS} sessions`,
      async () => {
        text = await metrics();
        const done = metricSum(text, 'dsa_operator_reconcile_total', (l) => l.includes('controller="devsession"') && /result="(success|requeue)"/.test(l));
        const depth = metricSum(text, 'dsa_operator_workqueue_depth', (l) => l.includes('controller="devsession"'));
        return done >= SESSIONS && depth === 0;
      },
      { timeoutMs: 600_000, intervalMs: 100 },
    );
    const reconciledMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 2000));
    text = await metrics();
    return {
      readyMs,
      reconciledMs,
      rss: metricSum(text, 'process_resident_memory_bytes', () => true),
      heap: metricSum(text, 'nodejs_heap_size_used_bytes', () => true),
    };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function mib(n: number): string {
  return (n / 1024 / 1024).toFixed(1);
}

async function main() {
  const info = await kc.makeApiClient(k8s.VersionApi).getCode();
  console.error(`bench: apiserver ${info.gitVersion}, ${SESSIONS} sessions, ${CHANGES} changes, concurrency ${opts.concurrency}`);
  await applyCrds();
  const rssBefore = process.memoryUsage().rss;
  const cold = await createTestNamespace(kc, 'dsa-bench-cold');
  const lat = await createTestNamespace(kc, 'dsa-bench-lat');
  let op: RunningOperator | undefined;
  try {
    // Phase 1: cold start. The operator watches only this namespace; the latency phase gets its own operator
    // afterwards so 200 idle sessions' resyncs don't mix into the latency figures.
    const c = await coldStart(cold);
    op = c.op;
    // Let the post-Ready status churn settle, then measure memory while it holds all sessions.
    await new Promise((r) => setTimeout(r, 3000));
    (globalThis as { gc?: () => void }).gc?.();
    const mem = process.memoryUsage();
    await op?.manager.stop();
    op = undefined;

    // Phase 3 (on phase 1's sessions): the bundled operator as its own process.
    const bundle = await bundleRestart(cold.name);

    // Phase 2: change latency on a fresh operator watching only the latency namespace.
    op = startOperator([lat.name]);
    const l = await changeLatency(lat);
    // Where the time goes: the operator's own reconcile duration for the same changes.
    const hist = (await op.manager.metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'dsa_operator_reconcile_duration_seconds');
    const series = (hist?.values ?? []) as Array<{ metricName?: string; value: number; labels: Record<string, string | number> }>;
    const pick = (suffix: string) => series.find((v) => v.metricName === `dsa_operator_reconcile_duration_seconds_${suffix}` && v.labels.controller === 'devsession')?.value ?? NaN;
    const reconcileMeanMs = (pick('sum') / pick('count')) * 1000;
    const reconciles = pick('count');
    await op.manager.stop();
    op = undefined;

    const rows: Array<[string, string]> = [
      [`spec change → child applied, p50 (${CHANGES} changes)`, `${l.p50.toFixed(1)} ms`],
      [`spec change → child applied, p99`, `${l.p99.toFixed(1)} ms`],
      [`spec change → child applied, max / mean`, `${l.max.toFixed(1)} / ${l.mean.toFixed(1)} ms`],
      [`devsession reconcile duration, mean (latency phase)`, `${reconcileMeanMs.toFixed(1)} ms over ${reconciles} reconciles`],
      [`cold start: ${SESSIONS} sessions → all ConfigMaps applied`, `${(c.allApplied / 1000).toFixed(2)} s`],
      [`cold start: ${SESSIONS} sessions → all Ready`, `${(c.allReady / 1000).toFixed(2)} s`],
      [`process RSS with ${SESSIONS} sessions (in-process, incl. tsx)`, `${mib(mem.rss)} MiB (${mib(rssBefore)} MiB before)`],
      [`heap used with ${SESSIONS} sessions (in-process)`, `${mib(mem.heapUsed)} MiB${(globalThis as { gc?: unknown }).gc ? ' (after gc)' : ''}`],
      [`bundled operator restart: /readyz`, `${(bundle.readyMs / 1000).toFixed(2)} s`],
      [`bundled operator restart: ${SESSIONS} existing sessions reconciled`, `${(bundle.reconciledMs / 1000).toFixed(2)} s`],
      [`bundled operator RSS / heap used with ${SESSIONS} sessions`, `${mib(bundle.rss)} / ${mib(bundle.heap)} MiB`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`\n${'metric'.padEnd(w)}  value`);
    console.log(`${'-'.repeat(w)}  ${'-'.repeat(24)}`);
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  } finally {
    await op?.manager.stop();
    // The operators are stopped: remove the sessions' finalizers or the namespaces stay Terminating.
    await Promise.all([cold.cleanup({ stripFinalizers: DSA_RESOURCES }), lat.cleanup({ stripFinalizers: DSA_RESOURCES })]);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
