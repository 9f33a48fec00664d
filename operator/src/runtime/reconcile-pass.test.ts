import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { apiError } from './testing.js';
import { RetryableError, StallError, TerminalError } from './errors.js';
import { MAX_MESSAGE_LENGTH, outcomeFromError, reconcilePass, resultOf, summarizeConditions, type Outcome, type SummaryFields } from './reconcile-pass.js';
import { silentLogger } from '../log.js';

const outcomes: Outcome[] = [
  { kind: 'done', reason: 'Succeeded', message: 'all good' },
  { kind: 'wait', reason: 'Building', message: 'building' },
  { kind: 'stall', reason: 'InvalidSpec', message: 'bad' },
  { kind: 'stall', reason: 'GitFetchFailed', message: 'no git', retryAfterMs: 60_000 },
  { kind: 'retry', reason: 'ProgressingWithRetry', message: 'timeout; retrying', error: new Error('timeout') },
];

const table = (o: Outcome) => Object.fromEntries(summarizeConditions(undefined, o, 4, 0).map((c) => [c.type, c.status]));

describe('summarizeConditions (the one table for every kind)', () => {
  it('maps each outcome to Ready / Reconciling / Stalled', () => {
    expect(outcomes.map((o) => [o.kind, table(o)])).toEqual([
      ['done', { Ready: 'True', Reconciling: 'False', Stalled: 'False' }],
      ['wait', { Ready: 'False', Reconciling: 'True', Stalled: 'False' }],
      ['stall', { Ready: 'False', Reconciling: 'False', Stalled: 'True' }],
      ['stall', { Ready: 'False', Reconciling: 'False', Stalled: 'True' }],
      ['retry', { Ready: 'False', Reconciling: 'True', Stalled: 'False' }],
    ]);
    const slow = summarizeConditions(undefined, outcomes[3]!, 1, 0).find((c) => c.type === 'Reconciling');
    expect(slow?.message).toBe('stalled; retrying in 60s or after a change of the spec');
  });

  it('property: exactly one of ready / progressing / stalled, all for the generation; transition times move only on flips', () => {
    const outcome = fc.constantFrom(...outcomes);
    fc.assert(
      fc.property(fc.array(fc.tuple(outcome, fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 12 }), (steps) => {
        let conds: ReturnType<typeof summarizeConditions> | undefined;
        let t = 0;
        for (const [o, gen] of steps) {
          t += 1000;
          const next = summarizeConditions(conds, o, gen, t);
          const s = Object.fromEntries(next.map((c) => [c.type, c]));
          expect(next.every((c) => c.observedGeneration === gen)).toBe(true);
          expect([s.Ready!.status, s.Reconciling!.status, s.Stalled!.status].filter((x) => x === 'True')).toHaveLength(1);
          for (const c of next) {
            const before = conds?.find((x) => x.type === c.type);
            if (before && before.status === c.status) expect(c.lastTransitionTime).toBe(before.lastTransitionTime);
            else expect(c.lastTransitionTime).toBe(new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'));
          }
          conds = next;
        }
      }),
    );
  });

  it('caps messages (an error text must not bloat the status)', () => {
    const c = summarizeConditions(undefined, { kind: 'wait', reason: 'X', message: 'x'.repeat(10_000) }, 1, 0);
    expect(c[0]!.message.length).toBe(MAX_MESSAGE_LENGTH);
  });
});

describe('outcomeFromError / resultOf', () => {
  it('classifies errors', () => {
    expect(outcomeFromError(new StallError('ChartNotFound', 'no chart', 60_000))).toEqual({ kind: 'stall', reason: 'ChartNotFound', message: 'no chart', retryAfterMs: 60_000 });
    expect(outcomeFromError(new TerminalError('InvalidSpec', 'nope'))).toEqual({ kind: 'stall', reason: 'InvalidSpec', message: 'nope' });
    const cause = new Error('dial tcp: refused');
    expect(outcomeFromError(new RetryableError('RegistryUnreachable', 'registry down; retrying', { cause }))).toMatchObject({ kind: 'retry', reason: 'RegistryUnreachable', error: cause });
    expect(outcomeFromError(apiError(500, 'InternalError', 'etcd timeout'))).toMatchObject({ kind: 'retry', reason: 'ProgressingWithRetry', message: 'etcd timeout; retrying' });
    expect(outcomeFromError(apiError(409, 'Conflict'))).toBeUndefined();
  });

  it('turns outcomes into controller results', () => {
    expect(resultOf({ kind: 'done', reason: 'R', message: '' }, false)).toBeUndefined();
    expect(resultOf({ kind: 'wait', reason: 'R', message: '', requeueAfterMs: 5000 }, false)).toEqual({ requeueAfter: 5000 });
    expect(resultOf({ kind: 'stall', reason: 'R', message: '', retryAfterMs: 60_000 }, false)).toEqual({ requeueAfter: 60_000 });
    expect(resultOf({ kind: 'stall', reason: 'R', message: '', requeueAfterMs: 1000 }, false)).toEqual({ requeueAfter: 1000 });
    expect(resultOf({ kind: 'stall', reason: 'R', message: '', requeueAfterMs: 0 }, false)).toBeUndefined();
    expect(() => resultOf({ kind: 'stall', reason: 'R', message: 'm' }, true)).toThrow(expect.objectContaining({ name: 'TerminalError', alreadyReported: true }));
    const e = new Error('x');
    expect(() => resultOf({ kind: 'retry', reason: 'R', message: '', error: e }, false)).toThrow(e);
  });
});

interface St extends SummaryFields {
  phase?: string;
}

function harness(current: St | undefined) {
  const writes: St[] = [];
  const after: Array<[string, boolean]> = [];
  let failWrite: unknown;
  const run = (steps: () => Promise<Outcome>) =>
    reconcilePass<St>({
      generation: 2,
      steps,
      current: () => current,
      status: (o) => ({ phase: o.kind }),
      equal: (a, b) => JSON.stringify({ ...a, conditions: a?.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) }) === JSON.stringify({ ...b, conditions: b.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) }),
      patch: async (next) => {
        if (failWrite) throw failWrite;
        writes.push(next);
        current = next;
      },
      now: () => 0,
      log: silentLogger(),
      afterPatch: async (o, written) => void after.push([o.kind, written]),
    });
  return { run, writes, after, failWrite: (e: unknown) => (failWrite = e) };
}

describe('reconcilePass', () => {
  it('writes once, then nothing while nothing changes; afterPatch knows whether it wrote', async () => {
    const h = harness(undefined);
    const done = async (): Promise<Outcome> => ({ kind: 'done', reason: 'Succeeded', message: 'ok' });
    expect(await h.run(done)).toBeUndefined();
    expect(await h.run(done)).toBeUndefined();
    expect(h.writes).toHaveLength(1);
    expect(h.writes[0]).toMatchObject({ phase: 'done', observedGeneration: 2, message: 'ok' });
    expect(h.after).toEqual([['done', true], ['done', false]]);
  });

  it('a thrown error reaches status before it is rethrown; a conflict does not', async () => {
    const h = harness(undefined);
    const boom = apiError(503, 'ServiceUnavailable', 'apiserver overloaded');
    await expect(h.run(() => Promise.reject(boom))).rejects.toBe(boom);
    expect(h.writes.at(-1)).toMatchObject({ phase: 'retry', message: 'apiserver overloaded; retrying' });
    expect(h.writes.at(-1)!.conditions!.find((c) => c.type === 'Reconciling')).toMatchObject({ status: 'True', reason: 'ProgressingWithRetry' });
    const n = h.writes.length;
    await expect(h.run(() => Promise.reject(apiError(409, 'Conflict')))).rejects.toMatchObject({ code: 409 });
    expect(h.writes).toHaveLength(n);
  });

  it('a stall thrown as StallError ends terminal (reported only when the status changed)', async () => {
    const h = harness(undefined);
    const stall = () => Promise.reject(new StallError('ManifestRejected', 'Service x rejected'));
    await expect(h.run(stall)).rejects.toMatchObject({ name: 'TerminalError', reason: 'ManifestRejected', alreadyReported: false });
    await expect(h.run(stall)).rejects.toMatchObject({ name: 'TerminalError', alreadyReported: true });
    expect(h.writes).toHaveLength(1);
  });

  it('when the status write fails: a retried step error wins; otherwise the write error is thrown', async () => {
    const h = harness(undefined);
    const writeErr = apiError(500, 'InternalError', 'write failed');
    h.failWrite(writeErr);
    const stepErr = new Error('step failed');
    await expect(h.run(() => Promise.reject(stepErr))).rejects.toBe(stepErr);
    await expect(h.run(async () => ({ kind: 'done', reason: 'Succeeded', message: 'ok' }))).rejects.toBe(writeErr);
    expect(h.after).toEqual([]);
  });
});
