import { describe, expect, it } from '@jest/globals';
import type { DevSession } from '@dsa/api';
import { done, ownerString, sessionStatusEqual, statusEqual, summarize } from './status.js';
import { sessionChanged, dependentsOf, sessionFromLabels } from './controller.js';

const session = (generation: number, status?: DevSession['status']): DevSession => ({
  apiVersion: 'dsa.dev/v1alpha1',
  kind: 'DevSession',
  metadata: { name: 's', namespace: 'dev', generation },
  spec: { project: 's', owner: { user: 'bob' } },
  status,
});

describe('summarize', () => {
  it('done → Ready True, others False, phase Ready, observedGeneration everywhere', () => {
    const st = summarize(session(3), { deploymentsReady: '1/1' }, done('1/1 deployments ready'), 0);
    expect(st).toMatchObject({ phase: 'Ready', message: '1/1 deployments ready', observedGeneration: 3, owner: 'bob', deploymentsReady: '1/1' });
    expect(st.conditions?.map((c) => [c.type, c.status, c.observedGeneration])).toEqual([
      ['Ready', 'True', 3],
      ['Reconciling', 'False', 3],
      ['Stalled', 'False', 3],
    ]);
  });

  it('wait → Reconciling True with the reason; stall → Stalled True, phase Failed', () => {
    const w = summarize(session(1), { phase: 'Building' }, { kind: 'wait', reason: 'WaitingForImages', message: 'building' }, 0);
    expect(w.phase).toBe('Building');
    expect(w.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({ status: 'True', reason: 'WaitingForImages' });
    const s = summarize(session(1), {}, { kind: 'stall', reason: 'ChartNotFound', message: 'no chart' }, 0);
    expect(s.phase).toBe('Failed');
    expect(s.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'ChartNotFound', message: 'no chart' });
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ChartNotFound' });
  });

  it('keeps lastTransitionTime while the status stays, moves it on a flip', () => {
    const first = summarize(session(1), {}, done('ok'), Date.UTC(2025, 0, 1));
    const again = summarize(session(2, first), {}, done('ok'), Date.UTC(2025, 0, 2));
    expect(again.conditions?.[0]?.lastTransitionTime).toBe('2025-01-01T00:00:00Z');
    const flipped = summarize(session(2, first), {}, { kind: 'stall', reason: 'InvalidSpec', message: 'x' }, Date.UTC(2025, 0, 3));
    expect(flipped.conditions?.[0]?.lastTransitionTime).toBe('2025-01-03T00:00:00Z');
  });

  it('statusEqual ignores transition times and agent-owned fields', () => {
    const a = summarize(session(1), {}, done('ok'), 0);
    const b = { ...summarize(session(1), {}, done('ok'), 5_000), sync: 'active' };
    expect(statusEqual(a, b)).toBe(true);
    expect(statusEqual(a, { ...b, message: 'other' })).toBe(false);
  });

  it('a transient error keeps the phase and says it retries; suspension keeps Ready as it was', () => {
    const ready = summarize(session(1), {}, done('ok'), 0);
    const r = summarize(session(2, ready), {}, { kind: 'retry', reason: 'ProgressingWithRetry', message: 'etcd timeout; retrying', error: new Error('x') }, 1000);
    expect(r.phase).toBe('Ready');
    expect(r.message).toBe('etcd timeout; retrying');
    expect(r.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'False', 'ProgressingWithRetry'],
      ['Reconciling', 'True', 'ProgressingWithRetry'],
      ['Stalled', 'False', 'ProgressingWithRetry'],
    ]);
    const s = summarize(session(2, ready), {}, { kind: 'suspended', message: 'reconciliation is suspended (spec.suspend)' }, 1000);
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect(s.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(s.phase).toBe('Ready');
  });

  it('status.pods is the dev-pods controller\'s: the main comparison ignores it', () => {
    const a = summarize(session(1), {}, done('ok'), 0);
    expect(sessionStatusEqual(a, { ...a, pods: [{ devPod: 'api', pod: 'p' }] })).toBe(true);
    expect(statusEqual(a, { ...a, pods: [{ devPod: 'api', pod: 'p' }] })).toBe(false);
  });

  it('ownerString', () => {
    expect(ownerString({ project: 'p', owner: { user: 'a', host: 'h' } })).toBe('a@h');
    expect(ownerString({ project: 'p' })).toBeUndefined();
  });
});

describe('watch mapping', () => {
  it('sessionChanged ignores status-only updates', () => {
    const o = { metadata: { name: 's', generation: 1, resourceVersion: '1' } };
    expect(sessionChanged({ ...o, metadata: { ...o.metadata, resourceVersion: '2' } }, o)).toBe(false);
    expect(sessionChanged({ metadata: { ...o.metadata, generation: 2 } }, o)).toBe(true);
    expect(sessionChanged({ metadata: { ...o.metadata, deletionTimestamp: new Date() } }, o)).toBe(true);
    expect(sessionChanged({ metadata: { ...o.metadata, annotations: { 'dsa.dev/requested-at': 'now' } } }, o)).toBe(true);
    // Our own finalizer patch needs no second pass; losing the finalizer does (it is put back).
    const withFinalizer = { metadata: { ...o.metadata, finalizers: ['dsa.dev/cleanup'] } };
    expect(sessionChanged(withFinalizer, o)).toBe(false);
    expect(sessionChanged(o, withFinalizer)).toBe(true);
    expect(sessionChanged({ metadata: { ...o.metadata, finalizers: ['dsa.dev/cleanup', 'other'] } }, withFinalizer)).toBe(false);
    expect(sessionChanged(o)).toBe(true);
  });
  it('dependentsOf and sessionFromLabels', () => {
    const a = { metadata: { name: 'a', namespace: 'x' } };
    const b = { metadata: { name: 'b', namespace: 'x' }, spec: { dependencies: [{ name: 'a' }] } };
    const c = { metadata: { name: 'c', namespace: 'y' }, spec: { dependencies: [{ name: 'a', namespace: 'x' }, { name: 'a' }] } };
    const d = { metadata: { name: 'd', namespace: 'y' }, spec: { dependencies: [{ name: 'a' }] } };
    expect(dependentsOf(a, [a, b, c, d] as never[])).toEqual([{ namespace: 'x', name: 'b' }, { namespace: 'y', name: 'c' }]);
    expect(sessionFromLabels({ metadata: { namespace: 'n', labels: { 'dsa.dev/session': 's', 'dsa.dev/session-namespace': 'dev' } } })).toEqual([{ namespace: 'dev', name: 's' }]);
    expect(sessionFromLabels({ metadata: { namespace: 'n' } })).toEqual([]);
  });
});
