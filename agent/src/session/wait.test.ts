import { describe, expect, it } from '@jest/globals';
import type { DevSession, DevSessionStatus } from '@dsa/api';
import { ClusterError, RuntimeError } from '../errors.js';
import { FakeKube, fakeTime, session } from './fake-kube.test-util.js';
import { NO_OPERATOR_MESSAGE, evaluateSession, progressLine, waitForSession } from './wait.js';

const cond = (type: string, status: 'True' | 'False', gen: number, message = '') => ({ type, status, observedGeneration: gen, reason: 'X', message, lastTransitionTime: '2026-01-01T00:00:00Z' });

function at(gen: number, status: DevSessionStatus): DevSession {
  const s = session('web');
  s.metadata.generation = gen;
  s.status = status;
  return s;
}

describe('progressLine', () => {
  it.each<[string, DevSessionStatus, string]>([
    ['building', { phase: 'Building', imagesBuilt: '1/3', images: [{ name: 'api', phase: 'Building' }, { name: 'ui', phase: 'AwaitingUpload' }, { name: 'db', phase: 'Succeeded' }] }, 'building api, ui (waiting for the upload)… (1/3 images built)'],
    ['deploying', { phase: 'Deploying', deploymentsReady: '1/2', deployments: [{ name: 'a', ready: true }, { name: 'b', ready: false, message: '0/1 replicas available' }] }, 'deploying… 1/2 deployments ready; b: 0/1 replicas available'],
    ['ready', { phase: 'Ready', deploymentsReady: '2/2' }, 'ready: 2/2 deployments'],
    ['pending', { phase: 'Pending', message: 'waiting for dependencies: auth (not ready yet)' }, 'pending: waiting for dependencies: auth (not ready yet)'],
    ['failed', { phase: 'Failed', message: 'image api failed to build' }, 'failed: image api failed to build'],
  ])('%s', (_name, status, line) => {
    expect(progressLine(at(1, status))).toBe(line);
  });
});

describe('evaluateSession', () => {
  it('is unobserved until the operator has seen this generation', () => {
    expect(evaluateSession(at(2, {}), 2)).toEqual({ kind: 'unobserved', seen: false });
    expect(evaluateSession(at(2, { observedGeneration: 1, phase: 'Ready', conditions: [cond('Ready', 'True', 1)] }), 2)).toEqual({ kind: 'unobserved', seen: true });
  });

  it('is ready only with Ready=True for the generation', () => {
    expect(evaluateSession(at(2, { observedGeneration: 2, phase: 'Ready', deploymentsReady: '1/1', conditions: [cond('Ready', 'True', 2)] }), 2)).toEqual({ kind: 'ready', line: 'ready: 1/1 deployments' });
    expect(evaluateSession(at(2, { observedGeneration: 2, phase: 'Deploying', conditions: [cond('Ready', 'False', 2)] }), 2).kind).toBe('progress');
  });

  it('fails on Stalled=True with its message', () => {
    const s = at(1, { observedGeneration: 1, phase: 'Failed', conditions: [cond('Ready', 'False', 1), cond('Stalled', 'True', 1, 'dependency cycle: a -> b -> a')] });
    expect(evaluateSession(s, 1)).toEqual({ kind: 'failed', message: 'dependency cycle: a -> b -> a' });
  });
});

describe('waitForSession', () => {
  const ref = { namespace: 'dev', name: 'web' };

  it('prints each new line once and resolves when Ready', async () => {
    const kube = new FakeKube();
    const steps: DevSessionStatus[] = [
      {},
      { observedGeneration: 1, phase: 'Building', imagesBuilt: '0/1', images: [{ name: 'api', phase: 'AwaitingUpload' }] },
      { observedGeneration: 1, phase: 'Building', imagesBuilt: '0/1', images: [{ name: 'api', phase: 'AwaitingUpload' }] },
      { observedGeneration: 1, phase: 'Deploying', deploymentsReady: '0/1', deployments: [{ name: 'api', ready: false, message: 'rollout in progress' }] },
      { observedGeneration: 1, phase: 'Ready', deploymentsReady: '1/1', conditions: [cond('Ready', 'True', 1)] },
    ];
    let i = 0;
    kube.onGetSession = () => at(1, steps[Math.min(i++, steps.length - 1)]!);
    const lines: string[] = [];
    const t = fakeTime();
    const s = await waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, onProgress: (l) => lines.push(l), sleep: t.sleep, now: t.now });
    expect(s.status?.phase).toBe('Ready');
    expect(lines).toEqual([
      'waiting for the operator…',
      'building api (waiting for the upload)… (0/1 images built)',
      'deploying… 0/1 deployments ready; api: rollout in progress',
      'ready: 1/1 deployments',
    ]);
  });

  it('throws a RuntimeError with the stall message', async () => {
    const kube = new FakeKube();
    kube.onGetSession = () => at(1, { observedGeneration: 1, phase: 'Failed', conditions: [cond('Stalled', 'True', 1, 'image api failed to build: exit 1')] });
    const t = fakeTime();
    const err = await waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, sleep: t.sleep, now: t.now }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toBe('DevSession web failed: image api failed to build: exit 1');
  });

  it('says there is no operator when the session never gets a status within 30 s', async () => {
    const kube = new FakeKube();
    kube.onGetSession = () => at(1, {});
    const t = fakeTime();
    const err = await waitForSession(kube, ref, { generation: 1, timeoutMs: 600_000, signal: new AbortController().signal, sleep: t.sleep, now: t.now }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as Error).message).toBe(NO_OPERATOR_MESSAGE);
    expect(t.now()).toBe(30_000);
  });

  it('keeps waiting (with one warning) for an operator that saw an older generation, until --timeout', async () => {
    const kube = new FakeKube();
    kube.onGetSession = () => at(2, { observedGeneration: 1, phase: 'Ready' });
    const lines: string[] = [];
    const t = fakeTime();
    const err = await waitForSession(kube, ref, { generation: 2, timeoutMs: 90_000, signal: new AbortController().signal, onProgress: (l) => lines.push(l), sleep: t.sleep, now: t.now }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^timed out after 1m30s waiting for DevSession web to be ready/);
    expect(lines).toEqual(['waiting for the operator…', 'the operator has not picked up this change after 30s (is it running?)']);
  });

  it('fails when the session disappears', async () => {
    const kube = new FakeKube();
    const t = fakeTime();
    await expect(waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, sleep: t.sleep, now: t.now })).rejects.toThrow('DevSession dev/web was deleted while waiting for it');
  });

  it('never silent: an unchanged line is repeated every reminderMs with the time so far', async () => {
    const kube = new FakeKube();
    kube.onGetSession = () => at(1, { observedGeneration: 1, phase: 'Deploying', deploymentsReady: '0/1', deployments: [{ name: 'api', ready: false, message: 'rolling out' }] });
    const lines: string[] = [];
    const t = fakeTime();
    await waitForSession(kube, ref, { generation: 1, timeoutMs: 70_000, signal: new AbortController().signal, onProgress: (l) => lines.push(l), sleep: t.sleep, now: t.now }).catch(() => undefined);
    expect(lines).toEqual(['deploying… 0/1 deployments ready; api: rolling out', 'still deploying… 0/1 deployments ready; api: rolling out (30s so far)', 'still deploying… 0/1 deployments ready; api: rolling out (1m00s so far)']);
  });

  it('an inspector adds what is awaited, can end the wait, and its own failures are only debug lines', async () => {
    const kube = new FakeKube();
    kube.onGetSession = () => at(1, { observedGeneration: 1, phase: 'Deploying', deploymentsReady: '0/1' });
    const t = fakeTime();
    const lines: string[] = [];
    const debug: string[] = [];
    let n = 0;
    const err = await waitForSession(kube, ref, {
      generation: 1,
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      onProgress: (l) => lines.push(l),
      onDebug: (l) => debug.push(l),
      sleep: t.sleep,
      now: t.now,
      inspect: async () => {
        n++;
        if (n === 1) throw new Error('pods is forbidden');
        if (n === 2) return { detail: 'pod api-1/app: ContainerCreating' };
        return { fail: new RuntimeError('the rollout cannot succeed') };
      },
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('the rollout cannot succeed');
    expect(debug).toEqual(['inspecting the rollout: pods is forbidden']);
    expect(lines).toEqual(['deploying… 0/1 deployments ready', 'deploying… 0/1 deployments ready (pod api-1/app: ContainerCreating)']);
  });

  it('settle (-d): Ready counts only after minMs and once the inspector says the rollout is done', async () => {
    const kube = new FakeKube();
    kube.onGetSession = () => at(1, { observedGeneration: 1, phase: 'Ready', deploymentsReady: '1/1', conditions: [cond('Ready', 'True', 1)] });
    const t = fakeTime();
    let settledAt = 4_000;
    const s = await waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, sleep: t.sleep, now: t.now, settle: { minMs: 3_000 }, inspect: async () => ({ settled: t.now() >= settledAt }) });
    expect(s.status?.phase).toBe('Ready');
    // Inspected every 2 s: at 4 s it says done.
    expect(t.now()).toBe(4_000);
    settledAt = 0;
    const t2 = fakeTime();
    await waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, sleep: t2.sleep, now: t2.now, settle: { minMs: 3_000 }, inspect: async () => ({ settled: true }) });
    expect(t2.now()).toBe(3_000);
  });

  it('a pod ready only just now must stay up: Ready counts once the inspector says none is fresh; a crash meanwhile fails', async () => {
    const kube = new FakeKube();
    kube.onGetSession = () => at(1, { observedGeneration: 1, phase: 'Ready', deploymentsReady: '1/1', conditions: [cond('Ready', 'True', 1)] });
    const t = fakeTime();
    const lines: string[] = [];
    const s = await waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, sleep: t.sleep, now: t.now, onProgress: (l) => lines.push(l), inspect: async () => (t.now() < 2_000 ? { freshMs: 2_000 - t.now() } : {}) });
    expect(s.status?.phase).toBe('Ready');
    expect(t.now()).toBeGreaterThanOrEqual(2_000);
    expect(lines).toEqual(['ready; making sure the new pods stay up…', 'ready: 1/1 deployments']);

    const t2 = fakeTime();
    const crash = new RuntimeError('the rollout cannot succeed: crash loop');
    await expect(
      waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, sleep: t2.sleep, now: t2.now, inspect: async () => (t2.now() < 1_000 ? { freshMs: 1_500 } : { fail: crash }) }),
    ).rejects.toBe(crash);

    // Pods ready for a while (or no inspector): Ready at once.
    const t3 = fakeTime();
    await waitForSession(kube, ref, { generation: 1, timeoutMs: 60_000, signal: new AbortController().signal, sleep: t3.sleep, now: t3.now, inspect: async () => ({}) });
    expect(t3.now()).toBe(0);
  });
});
