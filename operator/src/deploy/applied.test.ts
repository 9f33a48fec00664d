import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { KubernetesObject } from '@kubernetes/client-node';
import { AppliedMemory, appliedHash, decideApply, ownedFieldsFingerprint, stableStringify, withAppliedHash } from './applied.js';

const cm = (data: Record<string, string>, extra: Partial<KubernetesObject['metadata']> = {}): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'dev', ...extra }, data }) as KubernetesObject;

/** A live object as the apiserver returns it after our apply. */
function live(obj: KubernetesObject, fields: unknown = { 'f:data': {} }, others: Array<{ manager: string; operation: string; subresource?: string }> = []): KubernetesObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: '7', managedFields: [{ manager: 'dsa-operator', operation: 'Apply', fieldsV1: fields }, ...others] } };
}

describe('appliedHash', () => {
  it('is stable under key order and ignores its own annotation', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string()), (data) => {
        const a = cm(data);
        const reversed = cm(Object.fromEntries(Object.entries(data).reverse()));
        expect(appliedHash(a)).toBe(appliedHash(reversed));
        expect(appliedHash(withAppliedHash(a))).toBe(appliedHash(a));
      }),
    );
    expect(appliedHash(cm({ k: 'v' }))).not.toBe(appliedHash(cm({ k: 'w' })));
    expect(withAppliedHash(cm({ k: 'v' })).metadata?.annotations?.['dsa.dev/applied-hash']).toBe(appliedHash(cm({ k: 'v' })));
    expect(stableStringify({ b: 1, a: [{ d: 1, c: undefined }] })).toBe('{"a":[{"d":1}],"b":1}');
  });

  it('a forced-deploy request (-d) changes every hash once; the same request keeps it stable', () => {
    const o = cm({ k: 'v' });
    expect(appliedHash(o, undefined)).toBe(appliedHash(o));
    expect(appliedHash(o, '2026-11-30T05:00:00Z')).not.toBe(appliedHash(o));
    expect(appliedHash(o, '2026-11-30T05:00:00Z')).toBe(appliedHash(cm({ k: 'v' }), '2026-11-30T05:00:00Z'));
    expect(appliedHash(o, '2026-11-30T05:00:01Z')).not.toBe(appliedHash(o, '2026-11-30T05:00:00Z'));
  });
});

describe('decideApply', () => {
  const desired = cm({ k: 'v' });
  const hash = appliedHash(desired);
  const applied = live(withAppliedHash(desired));

  it('skips only when the live object is what we applied and still ours', () => {
    expect(decideApply(hash, undefined, applied, 'dsa-operator')).toEqual({ apply: false });
    expect(decideApply(hash, { hash, fields: ownedFieldsFingerprint(applied, 'dsa-operator') }, applied, 'dsa-operator')).toEqual({ apply: false });
    // A controller's status update or another manager's unrelated field does not count.
    const busy = live(withAppliedHash(desired), { 'f:data': {} }, [{ manager: 'kube-controller-manager', operation: 'Update', subresource: 'status' }]);
    expect(decideApply(hash, { hash, fields: ownedFieldsFingerprint(applied, 'dsa-operator') }, busy, 'dsa-operator')).toEqual({ apply: false });
  });

  it('applies when anything says it must', () => {
    expect(decideApply(hash, { hash: 'old', fields: 'x' }, applied, 'dsa-operator')).toMatchObject({ apply: true, why: 'changed' });
    expect(decideApply(hash, undefined, undefined, 'dsa-operator')).toMatchObject({ apply: true, why: 'missing' });
    expect(decideApply(hash, undefined, live(desired), 'dsa-operator')).toMatchObject({ apply: true, why: 'hash differs' });
    const noEntry = { ...applied, metadata: { ...applied.metadata, managedFields: [] } };
    expect(decideApply(hash, undefined, noEntry, 'dsa-operator')).toMatchObject({ apply: true, why: 'not applied by us' });
    // kubectl edit took data.k: our entry shrank.
    const taken = live(withAppliedHash(desired), {});
    expect(decideApply(hash, { hash, fields: ownedFieldsFingerprint(applied, 'dsa-operator') }, taken, 'dsa-operator')).toMatchObject({ apply: true, why: 'fields taken by another manager' });
  });
});

describe('AppliedMemory', () => {
  it('forgets a session by prefix', () => {
    const m = new AppliedMemory();
    m.set('uid-a|/ConfigMap/dev/x', { hash: '1', fields: undefined });
    m.set('uid-b|/ConfigMap/dev/x', { hash: '2', fields: undefined });
    m.forgetPrefix('uid-a|');
    expect(m.size).toBe(1);
    expect(m.get('uid-b|/ConfigMap/dev/x')?.hash).toBe('2');
  });
});
