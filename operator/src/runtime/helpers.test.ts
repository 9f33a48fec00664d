// Conditions, owner mapping, API error classification, events, status SSA and finalizer patches.
import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { setCondition, getCondition, isConditionTrueFor, conditionsEqual, removeCondition, formatTime } from './conditions.js';
import { ownerKeyMapper, controllerReference, isControlledBy, groupOf } from './owner-refs.js';
import { statusCode, isNotFound, isConflict, isAlreadyExists, apiErrorMessage, isTransient } from './api-errors.js';
import { EventRecorder } from './events.js';
import { patchStatus, ObjectApplier, type StatusPatchClient } from './status.js';
import { ensureFinalizer, removeFinalizer, addFinalizerOps, type JsonPatchOp } from './finalizers.js';
import { apiError } from './testing.js';
import { FakeClock } from './clock.js';
import { keyOf, parseKey } from './keys.js';
import { ConflictError, TerminalError, isTerminalError } from './errors.js';

describe('conditions', () => {
  const t1 = Date.UTC(2025, 0, 1, 10, 0, 0, 123);
  const t2 = Date.UTC(2025, 0, 1, 11, 0, 0);
  it('adds a condition with observedGeneration and a seconds-precision transition time', () => {
    const c = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Progressing', message: 'x' }, 3, t1);
    expect(c).toEqual([{ type: 'Ready', status: 'False', observedGeneration: 3, lastTransitionTime: '2025-01-01T10:00:00Z', reason: 'Progressing', message: 'x' }]);
  });
  it('bumps lastTransitionTime only when status changes', () => {
    let c = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A' }, 1, t1);
    c = setCondition(c, { type: 'Ready', status: 'False', reason: 'B', message: 'changed' }, 2, t2);
    expect(getCondition(c, 'Ready')).toMatchObject({ reason: 'B', message: 'changed', observedGeneration: 2, lastTransitionTime: formatTime(t1) });
    c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Ready' }, 2, t2);
    expect(getCondition(c, 'Ready')?.lastTransitionTime).toBe(formatTime(t2));
  });
  it('keeps other conditions and their order; does not mutate input', () => {
    const base = setCondition(setCondition([], { type: 'Ready', status: 'True', reason: 'R' }, 1, t1), { type: 'Stalled', status: 'False', reason: 'S' }, 1, t1);
    const frozen = JSON.stringify(base);
    const next = setCondition(base, { type: 'Ready', status: 'False', reason: 'R2' }, 2, t2);
    expect(next.map((c) => c.type)).toEqual(['Ready', 'Stalled']);
    expect(JSON.stringify(base)).toBe(frozen);
    expect(removeCondition(next, 'Ready').map((c) => c.type)).toEqual(['Stalled']);
  });
  it('isConditionTrueFor checks generation; conditionsEqual ignores transition time', () => {
    const c = setCondition([], { type: 'Ready', status: 'True', reason: 'R' }, 4, t1);
    expect(isConditionTrueFor(c, 'Ready', 4)).toBe(true);
    expect(isConditionTrueFor(c, 'Ready', 5)).toBe(false);
    expect(conditionsEqual(c, setCondition([], { type: 'Ready', status: 'True', reason: 'R' }, 4, t2))).toBe(true);
    expect(conditionsEqual(c, setCondition([], { type: 'Ready', status: 'True', reason: 'R2' }, 4, t1))).toBe(false);
  });
});

describe('owner references', () => {
  const owner = { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession' };
  const child = (refs: k8s.V1OwnerReference[]) => ({ metadata: { name: 'c', namespace: 'ns', ownerReferences: refs } });
  it('maps a child to its controlling owner (group/kind match, any version)', () => {
    const map = ownerKeyMapper(owner);
    expect(map(child([{ apiVersion: 'dsa.dev/v1beta1', kind: 'DevSession', name: 's', uid: 'u', controller: true }]))).toEqual([{ namespace: 'ns', name: 's' }]);
  });
  it('ignores non-controller refs, other kinds and other groups', () => {
    const map = ownerKeyMapper(owner);
    expect(map(child([{ apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', name: 's', uid: 'u' }]))).toEqual([]);
    expect(map(child([{ apiVersion: 'dsa.dev/v1alpha1', kind: 'ImageBuild', name: 's', uid: 'u', controller: true }]))).toEqual([]);
    expect(map(child([{ apiVersion: 'other.dev/v1alpha1', kind: 'DevSession', name: 's', uid: 'u', controller: true }]))).toEqual([]);
    expect(map({ metadata: { name: 'c' } })).toEqual([]);
  });
  it('builds controller references', () => {
    const o = { ...owner, metadata: { name: 's', namespace: 'ns', uid: 'u1' } };
    const ref = controllerReference(o);
    expect(ref).toEqual({ ...owner, name: 's', uid: 'u1', controller: true, blockOwnerDeletion: true });
    expect(isControlledBy({ metadata: { ownerReferences: [ref] } }, o)).toBe(true);
    expect(() => controllerReference({ metadata: { name: 'x' } })).toThrow();
    expect(groupOf('v1')).toBe('');
    expect(groupOf('apps/v1')).toBe('apps');
  });
});

describe('keys and errors', () => {
  it('round-trips keys', () => {
    expect(parseKey(keyOf({ namespace: 'a', name: 'b' }))).toEqual({ namespace: 'a', name: 'b' });
    expect(parseKey(keyOf({ namespace: '', name: 'node1' }))).toEqual({ namespace: '', name: 'node1' });
  });
  it('classifies client-node errors', () => {
    const real = new k8s.ApiException(404, 'not found', { kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "x" not found' }, {});
    expect(statusCode(real)).toBe(404);
    expect(isNotFound(real)).toBe(true);
    expect(apiErrorMessage(real)).toBe('pods "x" not found');
    expect(statusCode(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe(410); // Watch errors
    expect(statusCode({ body: '{"code":409,"reason":"Conflict"}' })).toBe(409);
    expect(isConflict(apiError(409, 'Conflict'))).toBe(true);
    expect(isAlreadyExists(apiError(409, 'Conflict'))).toBe(false);
    expect(isAlreadyExists(apiError(409, 'AlreadyExists'))).toBe(true);
    expect(isConflict(apiError(409, 'AlreadyExists'))).toBe(false);
    expect(isConflict(new ConflictError('lost race'))).toBe(true);
    expect(statusCode(new Error('ECONNRESET'))).toBeUndefined();
    expect(isTransient(new Error('ECONNRESET'))).toBe(true);
    expect(isTransient(apiError(422, 'Invalid'))).toBe(false);
    expect(isTerminalError(new TerminalError('BadSpec', 'x'))).toBe(true);
    expect(isTerminalError(new Error('x'))).toBe(false);
  });
});

describe('EventRecorder', () => {
  const obj = { apiVersion: 'dsa.dev/v1alpha1', kind: 'ImageBuild', metadata: { name: 'b1', namespace: 'ns', uid: 'u1', resourceVersion: '7' } };
  it('writes events.k8s.io/v1 events regarding the object', async () => {
    const sent: Array<{ ns: string; e: k8s.EventsV1Event }> = [];
    const rec = new EventRecorder({ sink: { create: async (ns, e) => sent.push({ ns, e }) }, reportingInstance: 'pod-1', clock: new FakeClock() });
    expect(await rec.event(obj, { type: 'Normal', reason: 'BuildStarted', action: 'Build', note: 'x'.repeat(2000) })).toBe(true);
    const { ns, e } = sent[0]!;
    expect(ns).toBe('ns');
    expect(e).toMatchObject({
      type: 'Normal',
      reason: 'BuildStarted',
      action: 'Build',
      reportingController: 'dsa.dev/operator',
      reportingInstance: 'pod-1',
      regarding: { kind: 'ImageBuild', name: 'b1', namespace: 'ns', uid: 'u1' },
    });
    expect(e.note).toHaveLength(1024);
    expect(e.eventTime).toBeInstanceOf(k8s.V1MicroTime);
    expect(JSON.parse(JSON.stringify(e)).eventTime).toMatch(/\.\d{6}Z$/);
    expect(e.metadata?.name).toMatch(/^b1\.[0-9a-f]+$/);
  });
  it('recordOnce emits only on transitions; failures never throw', async () => {
    const sent: string[] = [];
    let fail = false;
    const rec = new EventRecorder({
      sink: {
        create: async (_ns, e) => {
          if (fail) throw apiError(403, 'Forbidden');
          sent.push(e.reason!);
        },
      },
      reportingInstance: 'p',
    });
    await rec.recordOnce(obj, 'Ready', { type: 'Normal', reason: 'Ready', action: 'Reconcile', note: 'ok' });
    await rec.recordOnce(obj, 'Ready', { type: 'Normal', reason: 'Ready', action: 'Reconcile', note: 'ok' });
    await rec.recordOnce(obj, 'Build', { type: 'Normal', reason: 'Ready', action: 'Reconcile', note: 'ok' });
    await rec.recordOnce(obj, 'Ready', { type: 'Warning', reason: 'Failed', action: 'Reconcile', note: 'no' });
    expect(sent).toEqual(['Ready', 'Ready', 'Failed']);
    fail = true;
    await expect(rec.event(obj, { type: 'Normal', reason: 'X', action: 'Y', note: '' })).resolves.toBe(false);
    rec.forget(obj);
    fail = false;
    await rec.recordOnce(obj, 'Ready', { type: 'Warning', reason: 'Failed', action: 'Reconcile', note: 'no' });
    expect(sent.at(-1)).toBe('Failed');
  });
});

describe('status SSA', () => {
  it('patches /status with apply-patch content type, field manager and force', async () => {
    let captured: { param: k8s.CustomObjectsApiPatchNamespacedCustomObjectStatusRequest; options?: k8s.ConfigurationOptions } | undefined;
    const client: StatusPatchClient = {
      patchNamespacedCustomObjectStatus: async (param, options) => {
        captured = { param, options };
        return {};
      },
    };
    await patchStatus(client, { group: 'dsa.dev', version: 'v1alpha1', kind: 'DevSession', plural: 'devsessions', namespace: 'ns', name: 's' }, { observedGeneration: 2 });
    expect(captured!.param).toMatchObject({
      group: 'dsa.dev',
      plural: 'devsessions',
      fieldManager: 'dsa-operator',
      force: true,
      body: { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 's', namespace: 'ns' }, status: { observedGeneration: 2 } },
    });
    // The middleware really sets the header on a request context.
    const ctx = new k8s.RequestContext('http://x/y', k8s.HttpMethod.PATCH);
    ctx.setHeaderParam('Content-Type', 'application/json-patch+json');
    for (const m of (captured!.options!.middleware ?? []) as Array<{ pre: (c: k8s.RequestContext) => { toPromise(): Promise<k8s.RequestContext> } }>) {
      await m.pre(ctx).toPromise();
    }
    expect(ctx.getHeaders()['Content-Type']).toBe('application/apply-patch+yaml');
  });

  it('ObjectApplier retries once with a fresh client after a discovery miss', async () => {
    let made = 0;
    const applier = new ObjectApplier(() => {
      const n = ++made;
      return {
        patch: async <T,>(spec: T, _p?: string, _d?: string, fm?: string, force?: boolean, strategy?: string) => {
          if (n === 1) throw new Error('Unrecognized API version and kind: test.dsa.dev/v1 Widget');
          return { ...(spec as object), fm, force, strategy } as T;
        },
      };
    });
    const out = (await applier.apply({ apiVersion: 'test.dsa.dev/v1', kind: 'Widget', metadata: { name: 'w' } })) as unknown as Record<string, unknown>;
    expect(made).toBe(2);
    expect(out).toMatchObject({ fm: 'dsa-operator', force: true, strategy: 'application/apply-patch+yaml' });
  });
});

describe('finalizers', () => {
  const F = 'devsessions.dsa.dev/finalizer';
  it('adds with a guarded JSON patch', async () => {
    const sent: JsonPatchOp[][] = [];
    const patch = async (ops: JsonPatchOp[]) => sent.push(ops);
    expect(await ensureFinalizer({ metadata: { name: 'a', resourceVersion: '5' } }, F, patch)).toBe(true);
    expect(sent[0]).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '5' },
      { op: 'add', path: '/metadata/finalizers', value: [F] },
    ]);
    expect(addFinalizerOps({ metadata: { finalizers: ['x'] } }, F)).toEqual([
      { op: 'test', path: '/metadata/finalizers', value: ['x'] },
      { op: 'add', path: '/metadata/finalizers/-', value: F },
    ]);
    expect(await ensureFinalizer({ metadata: { finalizers: [F] } }, F, patch)).toBe(false);
    expect(sent).toHaveLength(1);
  });
  it('removes by index with a test op and maps a failed test to ConflictError', async () => {
    const sent: JsonPatchOp[][] = [];
    expect(await removeFinalizer({ metadata: { finalizers: ['x', F] } }, F, async (ops) => sent.push(ops))).toBe(true);
    expect(sent[0]).toEqual([
      { op: 'test', path: '/metadata/finalizers/1', value: F },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
    const failing = async () => {
      // What kube-apiserver 1.33 answers to a failed `test` op (verified in the controlplane suite).
      throw apiError(422, 'Invalid', 'the server rejected our request due to an error in our request');
    };
    await expect(removeFinalizer({ metadata: { finalizers: ['x', F] } }, F, failing)).rejects.toBeInstanceOf(ConflictError);
    // A validation failure with field causes is NOT a lost race.
    const invalid = async () => {
      throw Object.assign(new Error('422'), {
        code: 422,
        body: { code: 422, reason: 'Invalid', message: 'metadata.finalizers[0]: Invalid value', details: { causes: [{ field: 'metadata.finalizers[0]' }] } },
      });
    };
    await expect(ensureFinalizer({ metadata: { resourceVersion: '1' } }, 'bad name', invalid)).rejects.not.toBeInstanceOf(ConflictError);
    expect(await removeFinalizer({ metadata: {} }, F, failing)).toBe(false);
  });
});
