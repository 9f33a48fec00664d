import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { objectReadiness, summarizeReadiness } from './rollout.js';

const obj = (kind: string, spec: object, status: object, generation = 2): KubernetesObject =>
  ({ apiVersion: 'apps/v1', kind, metadata: { name: 'x', generation }, spec, status }) as KubernetesObject;

describe('objectReadiness', () => {
  it('Deployment', () => {
    expect(objectReadiness(obj('Deployment', { replicas: 2 }, { observedGeneration: 1 })).ready).toBe(false);
    expect(objectReadiness(obj('Deployment', { replicas: 2 }, { observedGeneration: 2, updatedReplicas: 1, replicas: 2, availableReplicas: 2 })).message).toMatch(/1 of 2 updated/);
    expect(objectReadiness(obj('Deployment', { replicas: 2 }, { observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 })).message).toMatch(/old replicas/);
    expect(objectReadiness(obj('Deployment', { replicas: 2 }, { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 })).ready).toBe(false);
    expect(objectReadiness(obj('Deployment', { replicas: 2 }, { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 })).ready).toBe(true);
    expect(objectReadiness(obj('Deployment', {}, { observedGeneration: 2, updatedReplicas: 1, replicas: 1, availableReplicas: 1 })).ready).toBe(true);
    expect(objectReadiness(obj('Deployment', { replicas: 0 }, { observedGeneration: 2 })).ready).toBe(true);
    const stuck = objectReadiness(obj('Deployment', {}, { observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' }] }));
    expect(stuck).toMatchObject({ ready: false, failed: true });
  });
  it('StatefulSet', () => {
    expect(objectReadiness(obj('StatefulSet', { replicas: 1 }, { observedGeneration: 2, readyReplicas: 0 })).ready).toBe(false);
    expect(objectReadiness(obj('StatefulSet', { replicas: 1 }, { observedGeneration: 2, readyReplicas: 1, currentRevision: 'a', updateRevision: 'b' })).ready).toBe(false);
    expect(objectReadiness(obj('StatefulSet', { replicas: 1 }, { observedGeneration: 2, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'b', updateRevision: 'b' })).ready).toBe(true);
  });
  it('DaemonSet', () => {
    expect(objectReadiness(obj('DaemonSet', {}, { observedGeneration: 2, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 0 })).ready).toBe(false);
    expect(objectReadiness(obj('DaemonSet', {}, { observedGeneration: 2, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 1 })).ready).toBe(true);
  });
  it('Job', () => {
    expect(objectReadiness(obj('Job', {}, {})).ready).toBe(false);
    expect(objectReadiness(obj('Job', {}, { conditions: [{ type: 'Complete', status: 'True' }] })).ready).toBe(true);
    expect(objectReadiness(obj('Job', {}, { conditions: [{ type: 'Failed', status: 'True', message: 'BackoffLimitExceeded' }] }))).toMatchObject({ failed: true });
  });
  it('Pod', () => {
    expect(objectReadiness(obj('Pod', {}, { phase: 'Pending' })).ready).toBe(false);
    expect(objectReadiness(obj('Pod', {}, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] })).ready).toBe(true);
  });
  it('everything else is ready on apply', () => {
    expect(objectReadiness({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }).ready).toBe(true);
  });
});

describe('summarizeReadiness', () => {
  it('failure wins, then pending, then ready', () => {
    expect(summarizeReadiness([])).toEqual({ ready: true, message: 'nothing to deploy' });
    expect(summarizeReadiness([{ ready: true, message: 'a' }, { ready: false, message: 'b' }, { ready: false, message: 'c' }])).toEqual({ ready: false, message: 'b (+1 more not ready)' });
    expect(summarizeReadiness([{ ready: false, message: 'b' }, { ready: false, failed: true, message: 'f' }]).failed).toBe(true);
    expect(summarizeReadiness([{ ready: true, message: 'a' }, { ready: true, message: 'b' }])).toEqual({ ready: true, message: '2 objects ready' });
  });
});
