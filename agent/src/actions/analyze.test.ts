// analyzeProject: which namespace, the project's sessions named, --wait, one-line errors.
import { describe, expect, it } from '@jest/globals';
import { FakeAnalyzeKube, sessionPod } from '../analyze/fake-analyze-kube.test-util.js';
import { testEnv } from '../devloop/dev-loop.test-util.js';
import { ClusterError, UsageError } from '../errors.js';
import { FakeKube } from '../session/fake-kube.test-util.js';
import { actionDeps, project } from './actions.test-util.js';
import { analyzeProject, podSettling, readFailure } from './analyze.js';

describe('analyzeProject', () => {
  it('analyzes the namespace of the project\'s session and names the project\'s sessions', async () => {
    const e = testEnv();
    const analyze = new FakeAnalyzeKube();
    analyze.pods = [sessionPod('api-1', { session: 'frontend', state: 'crashloop' }), sessionPod('elsewhere', { session: 'x', namespace: 'other', state: 'crashloop' })];
    analyze.logs.set('api-1/app/previous', 'boom\n');
    const report = await analyzeProject(e, { ...actionDeps(e, new FakeKube()), analyze: { analyzeKube: async () => analyze } }, { project: project('two-services'), timeoutMs: 1000 });
    expect(report).toMatchObject({ kind: 'AnalyzeReport', namespace: 'dev', sessions: ['frontend-backend', 'frontend'], healthy: false, counts: { errors: 1, pods: 1 } });
    expect(report.problems[0]).toMatchObject({ kind: 'CrashLoop', logs: ['boom'] });
  }, 30_000);

  it('needs no devspace.yaml: the namespace comes from -n or the context', async () => {
    const e = testEnv();
    const analyze = new FakeAnalyzeKube();
    analyze.pods = [sessionPod('ok', { session: 's', namespace: 'team', state: 'ready' })];
    const noConfig = {
      ...project('two-services'),
      get configPath(): string {
        throw new UsageError('no devspace.yaml in /x or its parent folders');
      },
    };
    const report = await analyzeProject(e, { ...actionDeps(e, new FakeKube(), { namespace: 'team' }), analyze: { analyzeKube: async () => analyze } }, { project: noConfig, timeoutMs: 1000 });
    expect(report).toMatchObject({ namespace: 'team', sessions: [], healthy: true, counts: { errors: 0, pods: 1 } });
  });

  it('--wait waits while pods are starting, at most the timeout', async () => {
    const e = testEnv();
    const analyze = new FakeAnalyzeKube();
    analyze.pods = [sessionPod('web', { session: 's', state: 'creating' })];
    let listed = 0;
    const list = analyze.listPods.bind(analyze);
    analyze.listPods = async (ns, sel) => {
      if (++listed === 3) analyze.pods = [sessionPod('web', { session: 's', state: 'ready' })];
      return list(ns, sel);
    };
    const report = await analyzeProject(e, { ...actionDeps(e, new FakeKube()), analyze: { analyzeKube: async () => analyze } }, { project: project('gitops-no-images'), wait: true, timeoutMs: 10_000, pollMs: 5 });
    expect(listed).toBe(4);
    expect(report.healthy).toBe(true);
  }, 30_000);

  it('a read that fails is a one-line ClusterError', () => {
    const err = readFailure(Object.assign(new Error('HTTP-Code: 403\nMessage: ...'), { code: 403, body: '{"message":"pods is forbidden: User \\"bob\\" cannot list resource \\"pods\\""}' }), 'listing pods in dev');
    expect(err).toBeInstanceOf(ClusterError);
    expect(err.message).toBe('listing pods in dev: forbidden: pods is forbidden: User "bob" cannot list resource "pods"');
    expect(readFailure(new Error('listing pods in dev: no answer from the apiserver within 20s'), 'analyzing namespace dev').message).toBe('analyzing namespace dev: listing pods in dev: no answer from the apiserver within 20s');
  });

  it('podSettling: starting, terminating and just-started pods are settling; crash loops and running pods are not', () => {
    const now = new Date('2026-11-30T02:40:05Z').getTime();
    expect(podSettling(sessionPod('a', { session: 's', state: 'creating' }), now)).toBe(true);
    expect(podSettling(sessionPod('a', { session: 's', state: 'crashloop' }), now)).toBe(false);
    expect(podSettling(sessionPod('a', { session: 's', state: 'pending-unschedulable' }), now)).toBe(false);
    const running = sessionPod('a', { session: 's', state: 'ready' });
    expect(podSettling(running, now)).toBe(true);
    expect(podSettling(running, now + 60_000)).toBe(false);
  });
});
