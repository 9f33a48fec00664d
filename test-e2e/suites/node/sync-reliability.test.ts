// Full-node tier, following the pod (issue 7, "Following the pod"): a dropped connection resumes within
// 2 s of the pod being reachable again; the sidecar's serve process killed, and the sidecar container
// itself killed (the kubelet restarts a native sidecar), the sync resumes; the agent killed with SIGKILL,
// files edited on both sides while it is gone, started again: every edit arrives (0 lost); the pod
// replaced: the agent finds the new one and re-runs the initial sync. The session comes from a v1beta9
// devspace.yaml (DevSpace 4.14's spelling).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import type { DevSession } from '@dsa/api';
import type { SyncPathConfig } from '../../../agent/src/sync/index.js';
import { REPO_ROOT, waitFor } from '../../lib/index.js';
import { FlakyLink, SyncWorld, eventually, put, renderConfig, specSyncPaths, type PodRef, type RunningSync } from '../../lib/sync-harness.js';

jest.setTimeout(300_000);

const APP = 'reliable';
const CONFIG = `version: v1beta9
deployments:
- name: ${APP}
  kubectl:
    manifests: [deployment.yaml]
dev:
  sync:
  - labelSelector: {app: ${APP}}
    containerName: app
    localSubPath: ./src
    containerPath: /app
    excludePaths: [node_modules/]
`;

let w: SyncWorld;
let project: string;
let src: string;
let session: DevSession;
let devPod: string;
let pod: PodRef;

const readL = (rel: string) => {
  try {
    return fs.readFileSync(path.join(src, rel), 'utf8');
  } catch {
    return undefined;
  }
};
/** Every regular file under /app in the container: path → content. */
const remoteFiles = async (p = pod.pod): Promise<Record<string, string>> => {
  const r = await w.run(p, 'app', ['node', '-e', "const fs=require('fs'),p=require('path');const o={};const walk=(d,r)=>{for(const n of fs.readdirSync(d)){const a=p.join(d,n),k=r?r+'/'+n:n;const s=fs.lstatSync(a);if(s.isDirectory())walk(a,k);else if(s.isFile())o[k]=fs.readFileSync(a,'utf8')}};walk('/app','');process.stdout.write(JSON.stringify(o))"]);
  if (r.code !== 0) throw new Error(`listing /app failed: ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as Record<string, string>;
};
/** PIDs of processes whose command line matches, in a container (node there). */
const pids = async (p: string, container: string, pattern: string): Promise<number[]> => {
  const r = await w.run(p, container, ['node', '-e', `const fs=require('fs');const out=[];for(const d of fs.readdirSync('/proc')){if(!/^\\d+$/.test(d)||d===String(process.pid))continue;let c='';try{c=fs.readFileSync('/proc/'+d+'/cmdline','utf8').split('\\0').join(' ')}catch{continue}if(c.includes(${JSON.stringify(pattern)}))out.push(+d)}process.stdout.write(JSON.stringify(out))`]);
  return JSON.parse(r.stdout.toString() || '[]') as number[];
};

beforeAll(async () => {
  w = await SyncWorld.start('e2e-sync-rel');
  project = w.dir('project');
  src = path.join(project, 'src');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(
    path.join(project, 'deployment.yaml'),
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: APP },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { app: APP } },
        template: { metadata: { labels: { app: APP } }, spec: { terminationGracePeriodSeconds: 1, enableServiceLinks: false, containers: [{ name: 'app', image: w.env.nodeImage, command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'] }] } },
      },
    }),
  );
  fs.writeFileSync(path.join(project, 'devspace.yaml'), CONFIG);
  session = await renderConfig(path.join(project, 'devspace.yaml'));
  devPod = session.spec.dev!.pods![0]!.name;
  await w.apply(APP, session.spec);
  await w.waitReady(APP);
  pod = await w.runningPod(APP);
  for (let i = 0; i < 20; i++) put(src, `f${i}.txt`, `content ${i}`);
});

afterAll(async () => {
  await w?.close();
});

const paths = () => specSyncPaths(session.spec, devPod, project);

describe('the connection', () => {
  let s: RunningSync;
  const link = new FlakyLink();

  beforeAll(async () => {
    s = w.startSync({ session: APP, devPod, paths: paths(), wrapConnect: (inner) => link.wrap(inner) });
    await s.session.initialSyncDone;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('dropped: resumes within 2 s of the pod being reachable again, with the edits made meanwhile', async () => {
    const from = s.events.length;
    link.down();
    await s.waitEvent('the disconnect', (e) => e.type === 'disconnected', { from });
    for (let i = 0; i < 10; i++) put(src, `while-down-${i}.txt`, `laptop ${i}`);
    await w.writeRemote(pod.pod, 'app', '/app', { 'pod-while-down.txt': 'container', 'f3.txt': 'changed in the container while down' });
    // unreachable for a while: the engine keeps trying (100, 250, 500, 1000, 1000 … ms apart)
    await new Promise((r) => setTimeout(r, 3_000));
    const up = Date.now();
    const mark = s.events.length;
    link.up();
    const connected = await s.waitEvent('the reconnect', (e) => e.type === 'connected', { from: mark, timeoutMs: 15_000 });
    const done = await s.waitEvent('the initial sync after it', (e) => e.type === 'initial-done', { from: mark, timeoutMs: 15_000 });
    const tConnected = s.times[s.events.indexOf(connected)]! - up;
    const tResumed = s.times[s.events.indexOf(done)]! - up;
    console.log(`reconnect after the link came back: connected ${tConnected} ms, initial sync done (resumed) ${tResumed} ms`);
    expect(done).toMatchObject({ uploaded: 10, downloaded: 2, conflicts: 0 });
    expect(readL('pod-while-down.txt')).toBe('container');
    expect(readL('f3.txt')).toBe('changed in the container while down');
    const r = await remoteFiles();
    for (let i = 0; i < 10; i++) expect(r[`while-down-${i}.txt`]).toBe(`laptop ${i}`);
    // the bound is 2 s; allow for a loaded 2-core CI machine without hiding a regression
    expect(tResumed).toBeLessThan(3_000);
  });

  it('the sidecar\'s serve process killed: reconnects and resumes', async () => {
    const serve = await pids(pod.pod, 'dsa-sync', 'dsa-sidecar serve');
    expect(serve).toHaveLength(1);
    const from = s.events.length;
    await w.run(pod.pod, 'dsa-sync', ['kill', '-9', String(serve[0])]);
    await s.waitEvent('the disconnect', (e) => e.type === 'disconnected', { from });
    put(src, 'after-serve-kill.txt', 'up');
    await w.writeRemote(pod.pod, 'app', '/app', { 'pod-after-serve-kill.txt': 'down' });
    await s.waitEvent('the initial sync of the new connection', (e) => e.type === 'initial-done', { from });
    await eventually('both edits', async () => readL('pod-after-serve-kill.txt') === 'down' && (await remoteFiles())['after-serve-kill.txt'] === 'up');
    expect(await pids(pod.pod, 'dsa-sync', 'dsa-sidecar serve')).toHaveLength(1); // a new one, for the new connection
  });

  it('the sidecar container killed: the kubelet restarts it (native sidecar) and the sync resumes, same pod', async () => {
    const before = await w.readPod(pod.pod);
    const restarts0 = before.status?.initContainerStatuses?.find((c) => c.name === 'dsa-sync')?.restartCount ?? 0;
    const from = s.events.length;
    // PID 1 of the container is the idle daemon; SIGTERM ends it (SIGKILL from inside the PID namespace is ignored for PID 1)
    await w.run(pod.pod, 'dsa-sync', ['kill', '-TERM', '1']);
    await s.waitEvent('the disconnect', (e) => e.type === 'disconnected', { from });
    put(src, 'after-container-kill.txt', 'up');
    await waitFor('the sidecar restarted', async () => ((await w.readPod(pod.pod)).status?.initContainerStatuses?.find((c) => c.name === 'dsa-sync')?.restartCount ?? 0) > restarts0, { timeoutMs: 60_000, intervalMs: 500 });
    await s.waitEvent('the initial sync of the new connection', (e) => e.type === 'initial-done', { from, timeoutMs: 60_000 });
    await eventually('the edit', async () => (await remoteFiles())['after-container-kill.txt'] === 'up');
    const after = await w.readPod(pod.pod);
    expect(after.metadata?.uid).toBe(before.metadata?.uid);
    expect(after.status?.containerStatuses?.find((c) => c.name === 'app')?.restartCount).toBe(0);
    // the volumes outlived the sidecar: the resumed sync had nothing to redo
    const dones = s.events.filter((e) => e.type === 'initial-done');
    expect(dones.at(-1)).toMatchObject({ deletedLocal: 0, deletedRemote: 0, conflicts: 0 });
  });
});

describe('the agent', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  const startAgent = (stateDir: string): { child: ChildProcess; ready: Promise<void>; lines: string[] } => {
    const cfgPaths: SyncPathConfig[] = paths().map((p, i) => ({ ...p, devPod, sync: p.sync ?? i }));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test-e2e/lib/sync-agent-child.ts'), JSON.stringify({ namespace: w.namespace, app: APP, paths: cfgPaths, stateDir, sessionKey: `${w.namespace}.${APP}` })], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: string[] = [];
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split('\n');
        buf = parts.pop()!;
        lines.push(...parts);
        if (parts.some((l) => l === '{"type":"ready"}')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`the agent exited (${code}) before its initial sync: ${err.slice(-1000)} ${lines.slice(-5).join('\n')}`)));
    });
    return { child, ready, lines };
  };

  it('SIGKILL, edits on both sides while it is gone, started again: every edit arrives (0 lost)', async () => {
    const stateDir = w.dir('agent-state');
    const a1 = startAgent(stateDir);
    await a1.ready;
    put(src, 'f0.txt', 'live edit before the kill');
    await eventually('the live edit', async () => (await remoteFiles())['f0.txt'] === 'live edit before the kill');
    a1.child.kill('SIGKILL');
    await new Promise((r) => a1.child.once('exit', r));

    // while it is gone: the laptop creates, edits, deletes; the container too; one file on both sides
    const expectLocal: Record<string, string | null> = {};
    const expectRemote: Record<string, string | null> = {};
    for (let i = 0; i < 30; i++) {
      put(src, `away/new-${i}.txt`, `created while away ${i}`);
      expectRemote[`away/new-${i}.txt`] = `created while away ${i}`;
    }
    for (let i = 1; i < 8; i++) {
      put(src, `f${i}.txt`, `edited while away ${i}`);
      expectRemote[`f${i}.txt`] = `edited while away ${i}`;
    }
    for (let i = 8; i < 11; i++) {
      fs.rmSync(path.join(src, `f${i}.txt`));
      expectRemote[`f${i}.txt`] = null;
    }
    const remoteEdits: Record<string, string | null> = {};
    for (let i = 0; i < 10; i++) remoteEdits[`pod-away/new-${i}.txt`] = `pod created while away ${i}`;
    for (let i = 11; i < 15; i++) remoteEdits[`f${i}.txt`] = `pod edited while away ${i}`;
    for (let i = 15; i < 18; i++) remoteEdits[`f${i}.txt`] = null;
    remoteEdits['f19.txt'] = 'both sides: the container';
    put(src, 'f19.txt', 'both sides: the laptop');
    await w.writeRemote(pod.pod, 'app', '/app', remoteEdits);
    for (const [k, v] of Object.entries(remoteEdits)) if (k !== 'f19.txt') expectLocal[k] = v;

    const a2 = startAgent(stateDir);
    await a2.ready;
    const r = await remoteFiles();
    const lost: string[] = [];
    for (const [k, v] of Object.entries(expectRemote)) if ((r[k] ?? null) !== v) lost.push(`container ${k}: ${JSON.stringify(r[k])} ≠ ${JSON.stringify(v)}`);
    for (const [k, v] of Object.entries(expectLocal)) if ((readL(k) ?? null) !== v) lost.push(`laptop ${k}: ${JSON.stringify(readL(k))} ≠ ${JSON.stringify(v)}`);
    // both sides changed f19: mirrorLocal's winner is the laptop; the container's edit is kept on the laptop
    if (r['f19.txt'] !== 'both sides: the laptop' || readL('f19.txt') !== 'both sides: the laptop') lost.push('f19.txt: the laptop edit did not win');
    const copies = fs.readdirSync(src).filter((n) => n.startsWith('f19.dsa-conflict-remote-'));
    if (copies.length !== 1 || readL(copies[0]!) !== 'both sides: the container') lost.push(`f19.txt: the container's edit was not kept (${copies.join(', ')})`);
    const edits = Object.keys(expectRemote).length + Object.keys(expectLocal).length + 2;
    console.log(`agent SIGKILL: ${edits} edits made while it was gone, ${lost.length} lost`);
    expect(lost).toEqual([]);
    a2.child.kill('SIGKILL');
  });
});

describe('the pod', () => {
  it('replaced (deleted): the agent finds the new one and runs the initial sync again', async () => {
    const s = w.startSync({ session: APP, devPod, paths: paths() });
    await s.session.initialSyncDone;
    await w.writeRemote(pod.pod, 'app', '/app', { 'only-in-the-old-pod.txt': 'goes with its pod' });
    await eventually('the container file locally', () => readL('only-in-the-old-pod.txt') !== undefined);
    const old = pod.pod;
    const from = s.events.length;
    await w.core.deleteNamespacedPod({ namespace: w.namespace, name: old, gracePeriodSeconds: 0 });
    const next = await w.runningPod(APP, { not: old, timeoutMs: 120_000 });
    expect(next.pod).not.toBe(old);
    const done = await s.waitEvent('the initial sync with the new pod', (e) => e.type === 'initial-done', { from, timeoutMs: 90_000 });
    // a new pod is a first sync (new volumes): mirrorLocal puts the laptop's files there
    expect(done).toMatchObject({ conflicts: 0 });
    const local = fs.readdirSync(src).filter((n) => !n.includes('.dsa-conflict-')).length;
    expect(local).toBeGreaterThan(20);
    const r = await remoteFiles(next.pod);
    expect(r['f0.txt']).toBe('live edit before the kill');
    expect(r['only-in-the-old-pod.txt']).toBe('goes with its pod'); // it was on the laptop, so it went up again
    put(src, 'after-move.txt', 'live again');
    await eventually('a live edit in the new pod', async () => (await remoteFiles(next.pod))['after-move.txt'] === 'live again');
    pod = next;
    await s.stop();
  });
});
