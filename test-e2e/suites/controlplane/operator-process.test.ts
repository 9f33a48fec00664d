// The operator as real OS processes (`tsx operator/src/main.ts`) against a real kube-apiserver: leader election
// between two processes on a Lease, failover after SIGKILL (measured), fast handover on SIGTERM, a crash in the
// middle of a reconcile followed by a restart (no duplicate ImageBuilds or build pods), and start-up refusals.
//
// Env: eval "$(test-e2e/cluster/ensure.sh controlplane)" (the node tier works too: build pods request more CPU
// than any node has, so they stay Pending on both tiers). Every process watches only its test's namespace
// (--watch-namespace) so it never touches other suites' objects. Logs: test-e2e/.out/operator-process/*.log.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, DEVSESSION, GROUP, IMAGEBUILD, LABELS, VERSION, imageBuildName, type DevSession, type DevSessionSpec, type ImageBuild } from '@dsa/api';
import { buildPodName, BUILD_POD_COMPONENT } from '../../../operator/src/controllers/imagebuild/desired-build-pod.js';
import { isNotFound } from '../../../operator/src/runtime/api-errors.js';
import { applyCrds, createTestNamespace, kubeFromEnv, scopeArgs, sleep, waitFor, type TestNamespace } from '../../lib/index.js';
import { freePort, OperatorProcess, ProcessRegistry } from '../../lib/process.js';

jest.setTimeout(180_000);

/** LeaderElector defaults (operator/src/runtime/leader-election.ts); main.ts has no flags for them. */
const LEASE_DURATION_MS = 15_000;
const RETRY_PERIOD_MS = 2_000;
const OUT = 'operator-process';

let kc: k8s.KubeConfig;
let custom: k8s.CustomObjectsApi;
let core: k8s.CoreV1Api;
let coord: k8s.CoordinationV1Api;
const procs = new ProcessRegistry();
const namespaces: TestNamespace[] = [];
const timings: Record<string, number> = {};

beforeAll(async () => {
  kc = kubeFromEnv();
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  core = kc.makeApiClient(k8s.CoreV1Api);
  coord = kc.makeApiClient(k8s.CoordinationV1Api);
  await applyCrds();
});

afterAll(async () => {
  await procs.killAll();
  // Finalizers of sessions whose operator is gone would keep the namespace Terminating forever.
  for (const ns of namespaces) await ns.cleanup({ stripFinalizers: [{ group: GROUP, version: VERSION, plural: DEVSESSION.plural }] }).catch(() => undefined);
  if (Object.keys(timings).length) console.log(`operator-process timings (ms): ${JSON.stringify(timings)}`);
});

/** Run a test body; on failure print the tail of every operator log (the jest error alone rarely says why). */
async function withLogs(fn: () => Promise<void>): Promise<void> {
  const since = Date.now();
  try {
    await fn();
  } catch (e) {
    console.error(`operator logs of this test (tails):\n${procs.report(40, since)}`);
    throw e;
  }
}

async function namespace(prefix: string): Promise<string> {
  const ns = await createTestNamespace(kc, prefix);
  namespaces.push(ns);
  return ns.name;
}

/** One operator process watching `ns`, electing on Lease `<ns>/<leaseId>`, ops server on a free loopback port. */
async function startOperator(name: string, ns: string, leaseId: string, extra: string[] = []): Promise<OperatorProcess> {
  const port = await freePort();
  return procs.track(
    new OperatorProcess({
      name,
      dir: OUT,
      port,
      args: [
        '--leader-elect=true',
        '--leader-election-namespace', ns,
        '--leader-election-id', leaseId,
        '--watch-namespace', ns,
        // The namespace carries this file's scope (createTestNamespace); the operator takes exactly that scope.
        ...scopeArgs(),
        '--concurrency', '2',
        '--shutdown-timeout', '5s',
        ...(process.env.DSA_TEST_IMAGE ? ['--helper-image', process.env.DSA_TEST_IMAGE] : []),
        ...extra,
      ],
      // Nothing from the developer's shell may change the flags under test.
      env: { DSA_LEADER_ELECT: undefined, POD_NAMESPACE: undefined, WATCH_NAMESPACE: undefined, DSA_METRICS_BIND_ADDRESS: undefined, DSA_OPERATOR_SCOPE: undefined, DSA_WATCH_LABEL_SELECTOR: undefined, DSA_LOG_LEVEL: 'info' },
    }),
  );
}

/** Informers synced (a standby is ready too: /readyz 200). */
function waitReady(p: OperatorProcess, timeoutMs = 90_000): Promise<unknown> {
  return waitFor(`${p.name} /readyz 200`, async () => {
    if (!p.alive()) throw new Error(`${p.name} exited: ${JSON.stringify(p.exitInfo)}\n${p.tail(20)}`);
    const r = await p.readyz();
    return r?.status === 200 && r.ready;
  }, { timeoutMs, intervalMs: 300 });
}

async function leaseHolder(ns: string, name: string): Promise<string | undefined> {
  try {
    return (await coord.readNamespacedLease({ namespace: ns, name })).spec?.holderIdentity || undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** The process whose identity (`<POD_NAME>_<random>`) holds the Lease. */
const holds = (holder: string | undefined, p: OperatorProcess) => holder !== undefined && holder.startsWith(`${p.name}_`);

// ── DevSession helpers ────────────────────────────────────────────────────────────────────────────────

const cm = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {value: "${value}"}\n`;

async function createSession(ns: string, name: string, spec: Partial<DevSessionSpec>): Promise<void> {
  await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: DEVSESSION.plural,
    namespace: ns,
    body: { apiVersion: API_VERSION, kind: DEVSESSION.kind, metadata: { name }, spec: { project: name, ...spec } },
  });
}

async function getSession(ns: string, name: string): Promise<DevSession> {
  return (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns, name })) as DevSession;
}

async function patchSpec(ns: string, name: string, spec: Partial<DevSessionSpec>): Promise<void> {
  await custom.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns, name, body: { spec } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** Ready=True for the CURRENT generation, with status.observedGeneration caught up. */
function waitSessionReady(ns: string, name: string, timeoutMs = 60_000): Promise<DevSession> {
  return waitFor(`${ns}/${name} Ready for its generation`, async () => {
    const s = await getSession(ns, name);
    const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
    return ready?.status === 'True' && ready.observedGeneration === s.metadata.generation && s.status?.observedGeneration === s.metadata.generation ? s : undefined;
  }, { timeoutMs, intervalMs: 250 });
}

async function configMapValue(ns: string, name: string): Promise<string | undefined> {
  try {
    return (await core.readNamespacedConfigMap({ namespace: ns, name })).data?.value;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function listImageBuilds(ns: string): Promise<ImageBuild[]> {
  return ((await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace: ns })) as { items: ImageBuild[] }).items;
}

async function listBuildPods(ns: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.component}=${BUILD_POD_COMPONENT}` })).items;
}

// ── a) two processes, one leader, failover after SIGKILL ─────────────────────────────────────────────

describe('operator processes with leader election', () => {
  it('two processes: exactly one holds the Lease and reconciles; SIGKILL of the leader fails over after the lease duration', () =>
    withLogs(async () => {
      const ns = await namespace('dsa-opp-a');
      const lease = 'dsa-op-a';
      const a = await startOperator('op-a1', ns, lease);
      const b = await startOperator('op-a2', ns, lease);
      await Promise.all([waitReady(a), waitReady(b)]);
      const holder0 = await waitFor('a Lease holder', () => leaseHolder(ns, lease), { timeoutMs: 30_000 });
      const [leader, standby] = holds(holder0, a) ? [a, b] : [b, a];
      expect(holds(holder0, leader)).toBe(true);
      // Several renew periods later: still exactly one leader, and both processes say so.
      await sleep(2 * RETRY_PERIOD_MS + 500);
      expect(holds(await leaseHolder(ns, lease), leader)).toBe(true);
      expect(await leader.leaderGauge()).toBe(1);
      expect(await standby.leaderGauge()).toBe(0);
      expect(await leader.readyz()).toMatchObject({ status: 200, leader: true });
      const standbyView = await standby.readyz();
      expect(standbyView).toMatchObject({ status: 200, leader: false });
      expect(holds(standbyView?.leaderIdentity, leader)).toBe(true);

      // The leader reconciles a session whose only deployment is a ConfigMap (ready on apply).
      await createSession(ns, 'web', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('web-cfg', 'v1')] } }] });
      const s1 = await waitSessionReady(ns, 'web');
      expect(s1.status).toMatchObject({ phase: 'Ready', observedGeneration: 1, deploymentsReady: '1/1' });
      expect(await configMapValue(ns, 'web-cfg')).toBe('v1');
      expect(await leader.metric('dsa_operator_reconcile_total', { controller: 'devsession' })).toBeGreaterThan(0);
      // The standby has informers running but must not have reconciled anything.
      expect((await standby.metric('dsa_operator_reconcile_total', { controller: 'devsession' })) ?? 0).toBe(0);

      // SIGKILL: no release, the standby must wait for the lease to expire.
      leader.killHard();
      const t0 = Date.now();
      expect(await leader.waitExit(10_000)).toMatchObject({ signal: 'SIGKILL' });
      await waitFor('standby takes the Lease', async () => holds(await leaseHolder(ns, lease), standby), { timeoutMs: LEASE_DURATION_MS + 30_000, intervalMs: 100 });
      const failover = Date.now() - t0;
      timings.failoverAfterSigkill = failover;
      console.log(`failover after SIGKILL: ${failover} ms (lease duration ${LEASE_DURATION_MS} ms, retry period ${RETRY_PERIOD_MS} ms)`);
      // Not before the lease could have expired (the last renew was at most one retry period before the kill)…
      expect(failover).toBeGreaterThanOrEqual(LEASE_DURATION_MS - RETRY_PERIOD_MS - 1000);
      // …and not much after: lease duration + one jittered retry + margin for a loaded 2-core machine.
      expect(failover).toBeLessThanOrEqual(LEASE_DURATION_MS + 2 * RETRY_PERIOD_MS + 6000);
      await waitFor('new leader gauge 1', async () => (await standby.leaderGauge()) === 1, { timeoutMs: 10_000 });

      // The new leader reconciles a spec change.
      await patchSpec(ns, 'web', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('web-cfg', 'v2')] } }] });
      const s2 = await waitSessionReady(ns, 'web');
      expect(s2.status?.observedGeneration).toBe(2);
      expect(await configMapValue(ns, 'web-cfg')).toBe('v2');

      standby.terminate();
      expect(await standby.waitExit(30_000)).toMatchObject({ code: 0 });
    }));

  // ── b) graceful SIGTERM releases the Lease ───────────────────────────────────────────────────────────

  it('SIGTERM of the leader: exits 0, releases the Lease, the standby takes over well within the lease duration', () =>
    withLogs(async () => {
      const ns = await namespace('dsa-opp-b');
      const lease = 'dsa-op-b';
      const a = await startOperator('op-b1', ns, lease);
      const b = await startOperator('op-b2', ns, lease);
      await Promise.all([waitReady(a), waitReady(b)]);
      const holder0 = await waitFor('a Lease holder', () => leaseHolder(ns, lease), { timeoutMs: 30_000 });
      const [leader, standby] = holds(holder0, a) ? [a, b] : [b, a];
      await waitFor('leader gauge 1', async () => (await leader.leaderGauge()) === 1, { timeoutMs: 10_000 });
      await createSession(ns, 'web', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('web-cfg', 'v1')] } }] });
      await waitSessionReady(ns, 'web');

      leader.terminate();
      const t0 = Date.now();
      const exit = await leader.waitExit(30_000);
      expect(exit).toMatchObject({ code: 0, signal: null });
      timings.sigtermExit = exit!.at - t0;
      expect(leader.output()).toContain('released lease');
      await waitFor('standby takes the Lease', async () => holds(await leaseHolder(ns, lease), standby), { timeoutMs: LEASE_DURATION_MS + 10_000, intervalMs: 100 });
      const handover = Date.now() - t0;
      timings.handoverAfterSigterm = handover;
      console.log(`handover after SIGTERM: ${handover} ms (leader exited after ${timings.sigtermExit} ms)`);
      // A released Lease is taken on the standby's next retry, not after the lease duration.
      expect(handover).toBeLessThan(LEASE_DURATION_MS / 2);

      await patchSpec(ns, 'web', { deployments: [{ name: 'cfg', kubectl: { manifests: [cm('web-cfg', 'v2')] } }] });
      await waitSessionReady(ns, 'web');
      expect(await configMapValue(ns, 'web-cfg')).toBe('v2');

      // The last replica going away leaves the Lease free for whoever comes next.
      standby.terminate();
      expect(await standby.waitExit(30_000)).toMatchObject({ code: 0 });
      expect(await leaseHolder(ns, lease)).toBeUndefined();
    }));
});

// ── c) killed mid-reconcile, restarted: converges without duplicates ─────────────────────────────────────

/**
 * A registry that knows no image (404 for every manifest): the ImageBuild controller asks it before creating a
 * build pod. `hold` parks requests until released, which pins the operator inside a reconcile.
 */
class FakeRegistry {
  readonly requests: string[] = [];
  hold = false;
  private parked: ServerResponse[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.requests.push(`${req.method} ${req.url}`);
      if (this.hold) this.parked.push(res);
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.port = (this.server!.address() as { port: number }).port;
  }

  release(): void {
    this.hold = false;
    for (const res of this.parked.splice(0)) res.writeHead(404).end();
  }

  async stop(): Promise<void> {
    this.release();
    await new Promise<void>((ok) => {
      this.server?.close(() => ok());
      this.server?.closeAllConnections();
    });
  }
}

const LOOPBACK_REGISTRY = ['--allow-internal-hosts=127.0.0.1'];

describe('operator killed in the middle of a reconcile', () => {
  const registry = new FakeRegistry();
  beforeAll(() => registry.start());
  afterAll(() => registry.stop());

  const DIGESTS = { api: `sha256:${'1a'.repeat(32)}`, worker: `sha256:${'2b'.repeat(32)}` };
  const sessionSpec = (name: string): Partial<DevSessionSpec> => ({
    images: (['api', 'worker'] as const).map((img) => ({
      name: img,
      image: `127.0.0.1:${registry.port}/e2e/${name}-${img}`,
      context: { upload: { digest: DIGESTS[img] } },
      registry: { insecure: true },
      // More CPU than any node has: the build pod exists but is never scheduled, on either cluster tier.
      builder: { resources: { requests: { cpu: '1000' } } },
    })),
    deployments: ['one', 'two', 'three'].map((d) => ({ name: d, kubectl: { manifests: [cm(`${name}-${d}`, d)] } })),
  });

  type Moment = { name: string; arm: (session: string) => void; fired: (ns: string, session: string) => Promise<boolean> };
  const moments: Moment[] = [
    {
      name: 'right after the first ImageBuild appears',
      arm: () => undefined,
      fired: async (ns, session) => (await listImageBuilds(ns)).some((ib) => ib.metadata.labels?.[LABELS.session] === session),
    },
    {
      name: 'while the ImageBuild controller waits on the registry (no build pod yet)',
      arm: () => (registry.hold = true),
      fired: async (_ns, session) => registry.requests.some((r) => r.includes(`/e2e/${session}-`)),
    },
    {
      name: 'right after the first build pod appears',
      arm: () => undefined,
      fired: async (ns, session) => (await listBuildPods(ns)).some((p) => p.metadata?.labels?.[LABELS.imageBuild]?.startsWith(`${session}-`)),
    },
  ];

  it('3 kill moments: after each restart exactly one ImageBuild per image and one build pod per ImageBuild; status converges', () =>
    withLogs(async () => {
      const ns = await namespace('dsa-opp-c');
      const lease = 'dsa-op-c';
      for (const [i, moment] of moments.entries()) {
        const session = `kill-${i}`;
        // The fake registry is on loopback, which the operator refuses unless allowed (docs/security.md).
        const first = await startOperator(`op-c${i}-first`, ns, lease, LOOPBACK_REGISTRY);
        await waitReady(first);
        // The previous iteration's process released the Lease (SIGTERM), so this one leads within a retry.
        await waitFor(`${first.name} leads`, async () => (await first.leaderGauge()) === 1, { timeoutMs: 30_000 });

        moment.arm(session);
        await createSession(ns, session, sessionSpec(session));
        await waitFor(`kill moment: ${moment.name}`, () => moment.fired(ns, session), { timeoutMs: 60_000, intervalMs: 20 });
        first.killHard();
        const killedAt = Date.now();
        expect(await first.waitExit(10_000)).toMatchObject({ signal: 'SIGKILL' });
        registry.release();
        const atKill = {
          imageBuilds: (await listImageBuilds(ns)).filter((ib) => ib.metadata.labels?.[LABELS.session] === session).map((ib) => ib.metadata.name),
          pods: (await listBuildPods(ns)).map((p) => p.metadata?.name).filter((n) => n?.startsWith(`${session}-`)),
          phase: (await getSession(ns, session)).status?.phase,
        };
        console.log(`[${session}] killed ${moment.name}: ${JSON.stringify(atKill)}`);

        // The restarted process: waits out the dead holder's lease, then picks up where the other stopped.
        const second = await startOperator(`op-c${i}-restart`, ns, lease, LOOPBACK_REGISTRY);
        await waitFor(`${second.name} leads`, async () => (await second.leaderGauge()) === 1, { timeoutMs: LEASE_DURATION_MS + 90_000, intervalMs: 200 });
        timings[`restartLeads-${i}`] = Date.now() - killedAt;

        const converged = await waitFor(`${session} converged`, async () => {
          const s = await getSession(ns, session);
          const ibs = (await listImageBuilds(ns)).filter((ib) => ib.metadata.labels?.[LABELS.session] === session);
          const settled =
            s.status?.observedGeneration === s.metadata.generation &&
            s.status?.phase === 'Building' &&
            s.status.images?.length === 2 &&
            s.status.images.every((e) => e.phase === 'Pending') &&
            ibs.length === 2 &&
            ibs.every((ib) => ib.status?.podName && ib.status.observedGeneration === ib.metadata.generation);
          return settled ? { s, ibs } : undefined;
        }, { timeoutMs: 60_000, intervalMs: 300 });

        // Let any straggling (duplicate) create land before counting.
        await sleep(3000);
        const s = await getSession(ns, session);
        const ibs = (await listImageBuilds(ns)).filter((ib) => ib.metadata.labels?.[LABELS.session] === session);
        const pods = (await listBuildPods(ns)).filter((p) => p.metadata?.name?.startsWith(`${session}-`));
        const expectedIbs = [imageBuildName(session, 'api'), imageBuildName(session, 'worker')].sort();
        expect(ibs.map((ib) => ib.metadata.name).sort()).toEqual(expectedIbs);
        // Same objects as at convergence: nothing was deleted and recreated meanwhile.
        expect(ibs.map((ib) => ib.metadata.uid).sort()).toEqual(converged.ibs.map((ib) => ib.metadata.uid).sort());
        for (const ib of ibs) {
          expect(ib.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: DEVSESSION.kind, name: session, uid: s.metadata.uid, controller: true })]);
          // Exactly one build pod per ImageBuild, the one whose name is derived from (uid, generation, tag).
          const mine = pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === ib.metadata.uid));
          expect(mine.map((p) => p.metadata?.name)).toEqual([buildPodName(ib, ib.spec.tag!)]);
          expect(mine[0]!.status?.phase).toBe('Pending');
          expect(ib.status).toMatchObject({ phase: 'Pending', podName: buildPodName(ib, ib.spec.tag!), observedGeneration: ib.metadata.generation, uploadContainer: 'upload' });
        }
        expect(pods).toHaveLength(2);
        expect(s.status).toMatchObject({ phase: 'Building', observedGeneration: s.metadata.generation, imagesBuilt: '0/2', deploymentsReady: '0/3' });
        expect(s.status?.images?.map((e) => [e.name, e.imageBuild, e.phase])).toEqual([
          ['api', imageBuildName(session, 'api'), 'Pending'],
          ['worker', imageBuildName(session, 'worker'), 'Pending'],
        ]);
        expect(s.status?.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({ status: 'True', reason: 'WaitingForImages', observedGeneration: s.metadata.generation });
        expect(s.metadata.finalizers).toEqual(['dsa.dev/cleanup']);
        // Deployments wait for the images: nothing of theirs may exist yet (a half-done pass must not leak them).
        const deployed = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: `${LABELS.session}=${session}` });
        expect(deployed.items.map((c) => c.metadata?.name)).toEqual([]);
        expect(s.status?.inventory ?? []).toEqual([]);

        second.terminate();
        expect(await second.waitExit(30_000)).toMatchObject({ code: 0 });
      }
    }));
});

// ── d) refusing to start ──────────────────────────────────────────────────────────────────────────────

describe('operator start-up refusals', () => {
  // A plain stack frame line, an escaped one inside a JSON log line, or pino's serialized err.stack.
  const noStack = (out: string) => expect(out).not.toMatch(/^\s+at .+:\d+:\d+\)?$|\\n\s+at |"stack"/m);

  const badFlags: Array<[string[], RegExp]> = [
    [['--concurrency=0'], /^dsa-operator: --concurrency: expected an integer from 1 to 64, got "0"$/],
    [['--bogus'], /^dsa-operator: unknown flag --bogus$/],
    [['--metrics-bind-address', 'nope'], /^dsa-operator: --metrics-bind-address: expected \[host\]:port or "0", got "nope"$/],
    [['--leader-elect=maybe'], /^dsa-operator: --leader-elect: expected true or false, got "maybe"$/],
    [['--leader-elect=true'], /^dsa-operator: --leader-elect needs --leader-election-namespace \(or POD_NAMESPACE\) outside a cluster; or pass --leader-elect=false$/],
    [['--shutdown-timeout', 'soon', '--leader-elect=false'], /^dsa-operator: --shutdown-timeout: expected a duration like 30s, 2m or 500ms, got "soon"$/],
    [['--watch-namespace', 'Bad_NS', '--leader-elect=false'], /^dsa-operator: --watch-namespace: "Bad_NS" is not a valid namespace name$/],
  ];

  it('bad flags: exit 2 and one line saying what is wrong (usage follows), no stack trace', () =>
    withLogs(async () => {
      // In parallel: each is a tsx start-up (a few seconds on a busy machine).
      const runs = badFlags.map(([args], i) => {
        const p = procs.track(new OperatorProcess({ name: `badflag-${i}`, dir: OUT, args, env: { POD_NAMESPACE: undefined, DSA_LEADER_ELECT: undefined, WATCH_NAMESPACE: undefined } }));
        return p.waitExit(60_000).then((exit) => ({ p, exit }));
      });
      for (const [i, { p, exit }] of (await Promise.all(runs)).entries()) {
        const out = p.output();
        expect({ args: badFlags[i]![0], exit: exit?.code }).toEqual({ args: badFlags[i]![0], exit: 2 });
        expect(out.split('\n')[0]).toMatch(badFlags[i]![1]);
        expect(out.split('\n')[2]).toBe('Usage: dsa-operator [flags]');
        noStack(out);
      }
    }));

  it('no kubeconfig anywhere: non-zero exit with a clear message and no stack trace; same for a missing --kubeconfig file', () =>
    withLogs(async () => {
      const home = mkdtempSync(join(tmpdir(), 'dsa-nohome-'));
      try {
        // A clean environment: no KUBECONFIG, an empty HOME (no ~/.kube/config), not in a pod.
        const env = { PATH: process.env.PATH, HOME: home };
        const none = procs.track(new OperatorProcess({ name: 'no-kubeconfig', dir: OUT, args: ['--leader-elect=false', '--metrics-bind-address=0'], env, replaceEnv: true }));
        const missing = procs.track(
          new OperatorProcess({ name: 'missing-kubeconfig', dir: OUT, args: ['--leader-elect=false', '--metrics-bind-address=0', '--kubeconfig', join(home, 'nope.yaml')], env, replaceEnv: true }),
        );
        const [e1, e2] = await Promise.all([none.waitExit(60_000), missing.waitExit(60_000)]);
        expect(e1?.code).toBe(2);
        expect(none.output()).toContain('no Kubernetes configuration found: set KUBECONFIG, pass --kubeconfig, or run in a pod with a service account');
        noStack(none.output());
        expect(e2?.code).toBe(2);
        expect(missing.output()).toContain(join(home, 'nope.yaml'));
        expect(missing.output()).toMatch(/ENOENT|no such file/);
        noStack(missing.output());
        // It failed before doing anything: no "starting" line.
        expect(none.output()).not.toContain('dsa operator starting');
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }));
});
