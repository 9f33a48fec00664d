// The analyze checks on real pods and events: __fixtures__/ was captured from the harness cluster
// (busybox pods that crash, get OOM-killed, cannot be pulled from a missing tag / a closed port / a
// plain-HTTP registry over HTTPS, ask for 64 CPUs, fail a readiness probe, or lack a ConfigMap).
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import type { DevSession, ImageBuild } from '@dsa/api';
import { analyzeObjects, buildReport, logLines, withLogs } from './collect.js';
import { eventProblems } from './events.js';
import type { AnalyzeKube } from './kube.js';
import type { Problem } from './model.js';
import { podProblems, type PodProblem } from './pods.js';
import { classifyRegistryError, pullReason, registryOf } from './registry.js';
import { formatReport } from './report.js';
import { explainRegistries, httpRegistryProbe, opaqueHttpsFailure } from './registry-probe.js';
import { imageBuildProblems, sessionProblems } from './resources.js';

const fixture = <T>(name: string): T[] => (JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8')) as { items: T[] }).items;
const pods = fixture<V1Pod>('pods.json');
const events = fixture<CoreV1Event>('events.json');
const now = new Date('2026-11-30T02:43:30Z');
const pod = (name: string) => pods.find((p) => p.metadata?.name === name)!;
const problemsOf = (name: string): PodProblem[] => podProblems(pod(name), events, { now });
const one = (name: string): PodProblem => {
  const ps = problemsOf(name);
  expect(ps).toHaveLength(1);
  return ps[0]!;
};

describe('pod checks on real pods', () => {
  test('a crash loop: exit code, restarts, the previous run\'s log, fails a rollout at once', () => {
    const p = one('crashloop');
    expect(p).toMatchObject({ kind: 'CrashLoop', severity: 'error', container: 'app', exitCode: 3, logsFrom: 'previous', failFastAfterMs: 0 });
    expect(p.restarts).toBeGreaterThanOrEqual(3);
    expect(p.summary).toMatch(/^crash loop: exit code 3, \d+ restarts$/);
    expect(p.details.join('\n')).toMatch(/back-off \S+ restarting failed container=app/);
    expect(p.hint).toContain('exits with code 3');
  });

  test('a container between two crashes (terminated, not yet in back-off) is a crash loop too', () => {
    const copy = structuredClone(pod('crashloop'));
    const cs = copy.status!.containerStatuses![0]!;
    cs.state = { terminated: { exitCode: 3, reason: 'Error', startedAt: cs.lastState!.terminated!.startedAt, finishedAt: cs.lastState!.terminated!.finishedAt } };
    const p = podProblems(copy, [], { now })[0]!;
    expect(p).toMatchObject({ kind: 'CrashLoop', exitCode: 3, logsFrom: 'current', failFastAfterMs: 0 });
    // Its first crash, before any restart: reported, but a rollout gives it its restart.
    cs.restartCount = 0;
    const first = podProblems(copy, [], { now })[0]!;
    expect(first.kind).toBe('CrashLoop');
    expect(first.failFastAfterMs).toBeUndefined();
  });

  test('an OOM kill names the memory limit', () => {
    const p = one('oom');
    expect(p).toMatchObject({ kind: 'OOMKilled', severity: 'error', exitCode: 137 });
    expect(p.summary).toContain('limit 24Mi');
    expect(p.hint).toContain('resources.limits.memory (now 24Mi)');
  });

  test('a missing tag: the registry says not found', () => {
    const p = one('pullfail');
    expect(p).toMatchObject({ kind: 'ImagePull', severity: 'error', failFastAfterMs: 0 });
    expect(p.summary).toBe('cannot pull image 192.0.2.2:5000/dsa/does-not-exist:v1 (ImagePullBackOff)');
    expect(p.details).toEqual(['registry: 192.0.2.2:5000/dsa/does-not-exist:v1: not found']);
    expect(p.hint).toMatch(/is not in the registry/);
  });

  test('a closed registry port: unreachable from the node, and a rollout waits a little before giving up', () => {
    const p = one('pullrefused');
    expect(p.details[0]).toBe('registry: Head "http://127.0.0.1:1/v2/team/api/manifests/v1": dial tcp 127.0.0.1:1: connect: connection refused');
    expect(p.hint).toContain('cannot reach the registry 127.0.0.1:1');
    expect(p.failFastAfterMs).toBe(10_000);
  });

  test('a plain-HTTP registry pulled over HTTPS gets the containerd hint', () => {
    const p = one('https-mismatch');
    expect(p.details[0]).toContain('http: server gave HTTP response to HTTPS client');
    expect(p.hint).toContain('172.21.1.3:5000 speaks plain HTTP');
    expect(p.hint).toContain('hosts.toml');
  });

  test('unschedulable: the scheduler\'s reason and the request that does not fit', () => {
    const p = one('unschedulable');
    expect(p).toMatchObject({ kind: 'Unschedulable', severity: 'error', failFastAfterMs: 5_000 });
    expect(p.summary).toContain('0/1 nodes are available: 1 Insufficient cpu');
    expect(p.hint).toContain('no node has enough free cpu for the pod\'s requests (app: cpu 64)');
  });

  test('not ready: the failing probe from the events and the probe itself', () => {
    const p = one('notready');
    expect(p).toMatchObject({ kind: 'NotReady', severity: 'error', logsFrom: 'current' });
    expect(p.failFastAfterMs).toBeUndefined();
    expect(p.details.join('\n')).toContain('Readiness probe failed: Get "http://10.244.0.27:8080/healthz"');
    expect(p.details).toContain('readiness probe: httpGet :8080/healthz every 2s');
    // Just started: not a problem yet.
    expect(podProblems(pod('notready'), events, { now: new Date('2026-11-30T02:41:20Z') })).toEqual([]);
  });

  test('a missing ConfigMap names it', () => {
    const p = one('badconfig');
    expect(p).toMatchObject({ kind: 'ContainerConfig', severity: 'error', failFastAfterMs: 15_000 });
    expect(p.hint).toContain('ConfigMap missing-config does not exist in namespace h9c-fixtures');
  });

  test('a healthy pod has no problems, whatever the kubelet warns about its DNS', () => {
    expect(problemsOf('healthy')).toEqual([]);
    expect(eventProblems(events, { now })).toEqual([]);
  });

  test('a pod being deleted, and a finished one, are not problems', () => {
    const gone = structuredClone(pod('crashloop'));
    gone.metadata!.deletionTimestamp = now;
    expect(podProblems(gone, events, { now })).toEqual([]);
    const done = structuredClone(pod('healthy'));
    done.status!.phase = 'Succeeded';
    expect(podProblems(done, events, { now })).toEqual([]);
  });
});

describe('the namespace report', () => {
  test('every broken fixture pod is an error; the healthy one is not listed', () => {
    const problems = analyzeObjects({ pods, events, sessions: [], imageBuilds: [] }, now);
    expect(problems.map((p) => p.object.name).sort()).toEqual(['badconfig', 'crashloop', 'https-mismatch', 'notready', 'oom', 'pullfail', 'pullrefused', 'unschedulable']);
    expect(problems.every((p) => p.severity === 'error')).toBe(true);
    // The report never carries the deploy's timing field.
    expect(problems.some((p) => 'failFastAfterMs' in p)).toBe(false);
    const report = buildReport('h9c-fixtures', [], problems, pods.length, now);
    expect(report).toMatchObject({ apiVersion: 'dsa.dev/v1alpha1', kind: 'AnalyzeReport', healthy: false, counts: { errors: 8, warnings: 0, pods: 9 } });
    const text = formatReport(report);
    expect(text).toContain('Pod h9c-fixtures/crashloop\n  ✗ app: crash loop: exit code 3');
    expect(text).toMatch(/→ .*exits with code 3/);
    expect(text.trimEnd().split('\n').pop()).toBe('8 problems in namespace h9c-fixtures (9 pods).');
  });

  test('a healthy namespace: exit-0 report with the DevSpace hint', () => {
    const report = buildReport('dev', ['app'], analyzeObjects({ pods: [pod('healthy')], events, sessions: [], imageBuilds: [] }, now), 1, now);
    expect(report.healthy).toBe(true);
    expect(formatReport(report)).toBe('No problems found in namespace dev (1 pod, session app). dsa logs --pick shows a container\'s log.\n');
  });

  test('Warning events about objects nothing else judges: a ReplicaSet over quota is an error', () => {
    const quota: CoreV1Event = {
      metadata: { name: 'x', namespace: 'dev' },
      involvedObject: { kind: 'ReplicaSet', name: 'api-5d8f', namespace: 'dev' },
      type: 'Warning',
      reason: 'FailedCreate',
      message: 'Error creating: pods "api-5d8f-x" is forbidden: exceeded quota: small, requested: cpu=2, used: cpu=0, limited: cpu=1',
      lastTimestamp: new Date('2026-11-30T02:40:00Z'),
      count: 7,
    };
    const stale = { ...quota, reason: 'FailedCreate', lastTimestamp: new Date('2026-11-30T01:00:00Z') };
    const ps = eventProblems([quota, stale], { now });
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ kind: 'WarningEvent', severity: 'error', object: { kind: 'ReplicaSet', name: 'api-5d8f' } });
    expect(ps[0]!.details[0]).toMatch(/^Warning FailedCreate \(4m ago, 7×\): Error creating/);
    expect(ps[0]!.hint).toContain('ResourceQuota');
  });

  test('log lines: the previous run, falling back to the current one; an unreadable log is a detail', async () => {
    const calls: string[] = [];
    const kube: Pick<AnalyzeKube, 'podLog'> = {
      async podLog(ns, name, container, o) {
        calls.push(`${name}/${container} previous=${o.previous} tail=${o.tailLines}`);
        if (name === 'a' && o.previous) throw new Error('previous terminated container "app" not found');
        if (name === 'b') throw new Error('pods "b" not found\nmore');
        return 'one\r\n\ntwo\nthree\n';
      },
    };
    const base: Omit<Problem, 'object'> = { kind: 'CrashLoop', severity: 'error', container: 'app', summary: 's', details: [], hint: 'h', logsFrom: 'previous' };
    const [a, b] = await withLogs(kube, [
      { ...base, object: { kind: 'Pod', namespace: 'n', name: 'a' } },
      { ...base, object: { kind: 'Pod', namespace: 'n', name: 'b' } },
    ], { lines: 2 });
    expect(a).toMatchObject({ logs: ['two', 'three'], logsFrom: 'current' });
    expect(b!.logs).toBeUndefined();
    expect(b!.details).toEqual(['log not readable: pods "b" not found']);
    expect(calls).toEqual(['a/app previous=true tail=2', 'b/app previous=true tail=2', 'a/app previous=false tail=2', 'b/app previous=false tail=2']);
  });

  test('logLines keeps the last non-empty lines and cuts long ones', () => {
    expect(logLines('a\n\nb\nc\n', 2)).toEqual(['b', 'c']);
    expect(logLines('x'.repeat(10), 5, 5)).toEqual(['xxxx…']);
  });
});

describe('DevSessions and ImageBuilds', () => {
  const session = (status: DevSession['status'], gen = 2): DevSession => ({
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'DevSession',
    metadata: { name: 'app', namespace: 'dev', generation: gen, creationTimestamp: '2026-11-30T02:00:00Z' } as DevSession['metadata'],
    spec: { project: 'app' },
    ...(status ? { status } : {}),
  });
  const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => ({ type, status, reason, message, observedGeneration: 2, lastTransitionTime: '2026-11-30T02:40:00Z' });

  test('a stalled session on a build that hit a plain-HTTP registry names registries.insecure', () => {
    const message = 'image app failed to build: build failed (exit code 1): error pushing image: failed to push to destination 10.0.0.5:5000/app:dsa-1: Get "https://10.0.0.5:5000/v2/": http: server gave HTTP response to HTTPS client';
    const [p] = sessionProblems(session({ observedGeneration: 2, phase: 'Failed', message, conditions: [cond('Stalled', 'True', 'ImageBuildFailed', message)] }), now);
    expect(p).toMatchObject({ kind: 'SessionFailed', severity: 'error', failFastAfterMs: 0 });
    expect(p!.hint).toContain('10.0.0.5:5000 speaks plain HTTP');
    expect(p!.hint).toContain('registries.insecure');
  });

  test('a session in progress is a warning with what it waits for; Ready is nothing', () => {
    const [p] = sessionProblems(
      session({ observedGeneration: 2, phase: 'Deploying', message: '0/1 deployments ready; api: Deployment/api: 0 of 1 updated replicas available', deployments: [{ name: 'api', ready: false, message: 'Deployment/api: 0 of 1 updated replicas available' }], conditions: [cond('Reconciling', 'True', 'RolloutInProgress', 'x')] }),
      now,
    );
    expect(p).toMatchObject({ kind: 'SessionProgressing', severity: 'warning' });
    expect(p!.details).toEqual(['deployment api: Deployment/api: 0 of 1 updated replicas available']);
    expect(sessionProblems(session({ observedGeneration: 2, phase: 'Ready', conditions: [cond('Ready', 'True', 'Succeeded', 'ok')] }), now)).toEqual([]);
  });

  test('no status a minute after creation: no operator', () => {
    const [p] = sessionProblems(session(undefined), now);
    expect(p).toMatchObject({ kind: 'SessionRetrying', severity: 'error' });
    expect(p!.summary).toBe('no dsa operator has reconciled this session');
  });

  test('an ImageBuild retrying against a plain-HTTP registry fails a deploy at once; a refused port after 20 s', () => {
    const ib = (message: string): ImageBuild => ({
      apiVersion: 'dsa.dev/v1alpha1',
      kind: 'ImageBuild',
      metadata: { name: 'app-app', namespace: 'dev', generation: 1, labels: { 'dsa.dev/image': 'app' } },
      spec: { image: '10.0.0.5:5000/team/app', context: { upload: { digest: `sha256:${'a'.repeat(64)}` } } } as ImageBuild['spec'],
      status: { observedGeneration: 1, phase: 'Pending', message, conditions: [{ ...cond('Reconciling', 'True', 'RegistryUnreachable', message), observedGeneration: 1 }] },
    });
    const [http] = imageBuildProblems(ib('cannot check whether 10.0.0.5:5000/team/app:dsa-1 exists, the registry is unreachable: write EPROTO 0A00010B:SSL routines::wrong version number; retrying'));
    expect(http).toMatchObject({ kind: 'BuildRetrying', severity: 'error', failFastAfterMs: 0 });
    expect(http!.hint).toContain('10.0.0.5:5000 speaks plain HTTP, not HTTPS');
    expect(http!.hint).toContain('images.app.kaniko.insecure: true');
    const [refused] = imageBuildProblems(ib('cannot check whether 10.0.0.5:5000/team/app:dsa-1 exists, the registry is unreachable: connect ECONNREFUSED 10.0.0.5:5000; retrying'));
    expect(refused!.failFastAfterMs).toBe(20_000);
    expect(refused!.hint).toContain('unreachable from the cluster');
  });

  test('a failed build carries kaniko\'s log tail as its log lines', () => {
    const failed: ImageBuild = {
      apiVersion: 'dsa.dev/v1alpha1',
      kind: 'ImageBuild',
      metadata: { name: 'app-app', namespace: 'dev', generation: 1 },
      spec: { image: 'r/app', context: { upload: { digest: `sha256:${'a'.repeat(64)}` } } } as ImageBuild['spec'],
      status: { observedGeneration: 1, phase: 'Failed', message: 'build failed (exit code 1): error building image: RUN false: exit status 1', logTail: 'STEP 1\nRUN false\nerror building image', podName: 'app-app-build-1' },
    };
    const [p] = imageBuildProblems(failed);
    expect(p).toMatchObject({ kind: 'BuildFailed', logs: ['STEP 1', 'RUN false', 'error building image'] });
    expect(p!.hint).toContain('fix the Dockerfile');
  });
});

describe('registry messages', () => {
  test('pullReason takes the innermost step of containerd\'s nested errors', () => {
    expect(pullReason('rpc error: code = NotFound desc = failed to pull and unpack image "r/x:1": failed to resolve reference "r/x:1": r/x:1: not found')).toBe('r/x:1: not found');
    expect(pullReason('Back-off pulling image "r/x:1"')).toBe('Back-off pulling image "r/x:1"');
    expect(registryOf('Head "https://172.21.1.3:5000/v2/dsa/busybox/manifests/1": http: server gave')).toBe('172.21.1.3:5000');
  });

  test('classification', () => {
    expect(classifyRegistryError('http: server gave HTTP response to HTTPS client')).toBe('http-registry');
    expect(classifyRegistryError('x509: certificate signed by unknown authority')).toBe('untrusted-certificate');
    expect(classifyRegistryError('pull access denied, repository does not exist or may require authorization')).toBe('unauthorized');
    expect(classifyRegistryError('dial tcp 1.2.3.4:5000: connect: connection refused')).toBe('unreachable');
    expect(classifyRegistryError('manifest unknown')).toBe('not-found');
  });

  test('property: pullReason and the classifier take any text without throwing, and the reason is never empty', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = pullReason(s);
        classifyRegistryError(s);
        return s.trim() === '' || r.length > 0;
      }),
    );
  });
});

describe('asking a registry whether it speaks plain HTTP', () => {
  test('a plain-HTTP server on loopback: HTTPS fails with a TLS record error, HTTP answers /v2/', async () => {
    const server = createServer((req, res) => res.writeHead(req.url === '/v2/' ? 200 : 404).end('{}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await httpRegistryProbe(2000)(host)).toBe('http');
      // Nothing listening: cannot tell.
      expect(await httpRegistryProbe(2000)('127.0.0.1:1')).toBeUndefined();
    } finally {
      server.close();
    }
  });

  test('each attempt gives up after 3 s by default: a registry that accepts connections and never answers', async () => {
    const sockets: Socket[] = [];
    const server = createTcpServer((s) => void sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const t0 = Date.now();
      expect(await httpRegistryProbe()(`127.0.0.1:${(server.address() as AddressInfo).port}`)).toBeUndefined();
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(2_900);
      expect(took).toBeLessThan(4_500);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  }, 15_000);

  test('an opaque "fetch failed" over HTTPS becomes the registries.insecure hint, once per registry', async () => {
    const message = 'cannot check whether 10.0.0.5:5000/web:dsa-1 exists, the registry is unreachable: registry request HEAD https://10.0.0.5:5000/v2/web/manifests/dsa-1 failed: fetch failed; retrying';
    const p = { kind: 'BuildRetrying' as const, severity: 'error' as const, object: { kind: 'ImageBuild', namespace: 'dev', name: 'web-app' }, image: 'app', summary: `RegistryUnreachable: ${message}`, details: [], hint: 'h', failFastAfterMs: 20_000 };
    expect(opaqueHttpsFailure(p)).toBe('10.0.0.5:5000');
    const asked: string[] = [];
    const cache = new Map();
    const probe = async (host: string) => {
      asked.push(host);
      return 'http' as const;
    };
    const [q] = await explainRegistries([p], probe, cache);
    await explainRegistries([p], probe, cache);
    expect(asked).toEqual(['10.0.0.5:5000']);
    expect(q).toMatchObject({ failFastAfterMs: 0, details: ['dsa asked 10.0.0.5:5000: it answers plain HTTP and refuses HTTPS'] });
    expect(q!.hint).toContain('registries.insecure');
    expect(q!.hint).toContain('images.app.kaniko.insecure: true');
    const [unchanged] = await explainRegistries([p], async () => undefined, new Map());
    expect(unchanged).toBe(p);
  });
});


describe('failed pods and what stops a deploy', () => {
  const failed = (reason: string | undefined, owner?: string): V1Pod => ({
    metadata: { name: 'p', namespace: 'dev', ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: owner, name: 'o', uid: 'u' }] } : {}) },
    spec: { containers: [{ name: 'app', image: 'a' }] },
    status: { phase: 'Failed', ...(reason ? { reason, message: 'The node was low on resource: memory.' } : {}), containerStatuses: [{ name: 'app', image: 'a', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }] },
  });
  const opts = { now: new Date('2026-01-01T00:00:00Z') };

  test('a failed pod of a Deployment or a bare pod stops a deploy at once', () => {
    for (const owner of ['ReplicaSet', undefined]) {
      const [p] = podProblems(failed(undefined, owner), [], opts);
      expect(p).toMatchObject({ kind: 'PodFailed', severity: 'error', exitCode: 2, failFastAfterMs: 0 });
    }
  });

  test('an evicted pod is an error for analyze but never stops a deploy (its ReplicaSet replaces it); a Job\'s failed pod is a warning', () => {
    const [evicted] = podProblems(failed('Evicted', 'ReplicaSet'), [], opts);
    expect(evicted).toMatchObject({ kind: 'PodFailed', severity: 'error', summary: 'evicted: The node was low on resource: memory.' });
    expect(evicted!.failFastAfterMs).toBeUndefined();
    const [job] = podProblems(failed(undefined, 'Job'), [], opts);
    expect(job).toMatchObject({ kind: 'PodFailed', severity: 'warning' });
    expect(job!.failFastAfterMs).toBeUndefined();
  });

  test('FailedMount is reported by analyze once a pod has been creating for 60 s; a deploy (no events) is not stopped by it', () => {
    const creating: V1Pod = {
      metadata: { name: 'm', namespace: 'dev', creationTimestamp: new Date('2025-12-31T23:58:00Z') },
      spec: { containers: [{ name: 'app', image: 'a' }] },
      status: { phase: 'Pending', containerStatuses: [{ name: 'app', image: 'a', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] },
    };
    const ev: CoreV1Event = { metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'm', namespace: 'dev' }, type: 'Warning', reason: 'FailedMount', message: 'MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found', lastTimestamp: new Date('2025-12-31T23:59:50Z') };
    const withEvents = podProblems(creating, [ev], opts);
    expect(withEvents).toHaveLength(1);
    expect(withEvents[0]!.summary + withEvents[0]!.details.join(' ')).toContain('configmap "cfg" not found');
    expect(podProblems(creating, [], opts)).toEqual([]);
  });
});
