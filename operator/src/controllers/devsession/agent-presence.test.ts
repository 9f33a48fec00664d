// `agent gone` in the SYNC column: the pure decision, and the controller on a fake clock (a real
// ResourceInformer over a fake list-watch): written once when the heartbeat expires, never in a loop.
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevSession } from '@dsa/api';
import { FakeClock, ResourceInformer, flushAsync, type Request } from '../../runtime/index.js';
import { FakeListWatch } from '../../runtime/testing.js';
import { AGENT_GONE, AGENT_GONE_AFTER_MS, agentFieldsChanged, agentPresence, createAgentPresenceController } from './agent-presence.js';

const T0 = Date.UTC(2025, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('agentPresence', () => {
  it('nothing without a heartbeat (no agent, or a clean detach)', () => {
    expect(agentPresence(undefined, T0)).toEqual({});
    expect(agentPresence({ sync: 'x' }, T0)).toEqual({});
    expect(agentPresence({ agentHeartbeatTime: 'garbage' }, T0)).toEqual({});
  });

  it('a fresh heartbeat is looked at again when it expires', () => {
    expect(agentPresence({ agentHeartbeatTime: iso(T0), sync: '1/1 synced' }, T0 + 30_000)).toEqual({ recheckInMs: AGENT_GONE_AFTER_MS - 30_000 });
  });

  it('an expired heartbeat makes the SYNC text `agent gone`, once', () => {
    expect(agentPresence({ agentHeartbeatTime: iso(T0), sync: '1/1 synced' }, T0 + AGENT_GONE_AFTER_MS)).toEqual({ write: AGENT_GONE });
    expect(agentPresence({ agentHeartbeatTime: iso(T0), sync: AGENT_GONE }, T0 + AGENT_GONE_AFTER_MS + 1)).toEqual({});
  });

  it('reacts only to the agent fields', () => {
    const s = (status: DevSession['status']) => ({ metadata: { name: 'a' }, status }) as unknown as KubernetesObject;
    expect(agentFieldsChanged(s({ phase: 'Ready' }))).toBe(true);
    expect(agentFieldsChanged(s({ phase: 'Ready' }), s({ phase: 'Pending' }))).toBe(false);
    expect(agentFieldsChanged(s({ agentHeartbeatTime: iso(T0 + 30_000) }), s({ agentHeartbeatTime: iso(T0) }))).toBe(true);
    expect(agentFieldsChanged(s({ sync: AGENT_GONE }), s({ sync: 'connecting' }))).toBe(true);
  });
});

describe('agent presence controller', () => {
  const session = (status: DevSession['status'], rv: string): KubernetesObject =>
    ({ apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 's', namespace: 'dev', resourceVersion: rv, uid: 'u' }, spec: { project: 's' }, status }) as unknown as KubernetesObject;

  it('writes `agent gone` when the last heartbeat is 90 s old, then stays quiet; a returning agent takes over', async () => {
    const clock = new FakeClock(T0);
    let lw!: FakeListWatch<KubernetesObject>;
    let current = session({ sync: '1/1 synced', agentHeartbeatTime: iso(T0) }, '1');
    const sessions = new ResourceInformer<KubernetesObject>({
      name: 'devsessions',
      clock,
      resyncPeriodMs: 0,
      factory: () => (lw = new FakeListWatch<KubernetesObject>(() => [current])),
    });
    const writes: Request[] = [];
    let rv = 1;
    const c = createAgentPresenceController({
      kc: {} as never,
      sessions,
      clock,
      writer: {
        // The apiserver: the write is a new version of the session, which the informer delivers.
        markGone: async (ref) => {
          writes.push(ref);
          const s = current as unknown as DevSession;
          current = session({ ...s.status, sync: AGENT_GONE }, String(++rv));
          lw.emit('MODIFIED', current);
        },
      },
    });
    sessions.start();
    await sessions.waitForSync();
    c.start();
    await flushAsync();
    expect(writes).toEqual([]);

    // The agent beats at 30 s: still nothing; the expiry moves to 120 s.
    await clock.advance(30_000);
    current = session({ sync: '1/1 synced', agentHeartbeatTime: iso(T0 + 30_000) }, String(++rv));
    lw.emit('MODIFIED', current);
    await flushAsync();
    await clock.advance(60_000); // 90 s: the first beat would have expired, the second has not
    await flushAsync();
    expect(writes).toEqual([]);

    // No more beats: at 120 s the agent is gone.
    await clock.advance(30_000);
    await flushAsync();
    expect(writes).toEqual([{ namespace: 'dev', name: 's' }]);
    // Its own write is an update of the session: one more look, no second write, no timer left behind.
    await clock.advance(10 * AGENT_GONE_AFTER_MS);
    await flushAsync();
    expect(writes).toHaveLength(1);

    // The agent comes back (forcing status.sync as dsa-agent): fresh again, nothing written.
    current = session({ sync: 'connecting', agentHeartbeatTime: iso(clock.now()) }, String(++rv));
    lw.emit('MODIFIED', current);
    await flushAsync();
    expect(writes).toHaveLength(1);
    expect(await c.stop(1000)).toBe(true);
    await sessions.stop();
  });
});
