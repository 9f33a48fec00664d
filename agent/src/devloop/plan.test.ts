import { describe, expect, it } from '@jest/globals';
import { session } from '../session/fake-kube.test-util.js';
import { agentSyncSummary, logDevPods, mergeAgentStatus, syncPaths, terminalDevPod } from './plan.js';

const s = session('web', {
  dev: {
    pods: [
      { name: 'api', selector: { imageName: 'api' }, sync: [{ localPath: './src', containerPath: '/app/src' }], terminal: { command: ['sh'] } },
      { name: 'worker', selector: { imageName: 'worker' }, logs: { enabled: false } },
      { name: 'ui', selector: { imageName: 'ui' } },
    ],
  },
});
const tty = { stdin: true, stdout: true };

describe('dev loop decisions', () => {
  it('names the sync paths that are not active yet', () => {
    expect(syncPaths(s)).toEqual(['./src:/app/src (api)']);
  });

  it('summarizes the attached agent for the SYNC column', () => {
    expect(agentSyncSummary(s)).toBe('agent up, sync off (1 path)');
    const two = session('t', { dev: { pods: [{ name: 'a', selector: { imageName: 'a' }, sync: [{ localPath: 'a', containerPath: '/a' }, { localPath: 'b', containerPath: '/b' }] }] } });
    expect(agentSyncSummary(two)).toBe('agent up, sync off (2 paths)');
    expect(agentSyncSummary(session('n', {}))).toBe('agent up, no sync paths');
  });

  it('opens a terminal only with a TTY on both ends, in the dev pod that configures one', () => {
    expect(terminalDevPod(s, tty)).toBe('api');
    expect(terminalDevPod(s, { stdin: false, stdout: true })).toBeUndefined();
    const plain = session('p', { dev: { pods: [{ name: 'a', selector: { imageName: 'a' } }] } });
    expect(terminalDevPod(plain, tty)).toBeUndefined();
    expect(terminalDevPod(session('p', { dev: { interactive: true, pods: [{ name: 'a', selector: { imageName: 'a' } }] } }), tty)).toBe('a');
    const disabled = session('p', { dev: { pods: [{ name: 'a', selector: { imageName: 'a' }, terminal: { enabled: false } }] } });
    expect(terminalDevPod(disabled, tty)).toBeUndefined();
  });

  it('streams logs of every dev pod except disabled ones and the one in the terminal', () => {
    expect(logDevPods(s, undefined)).toEqual(['api', 'ui']);
    expect(logDevPods(s, 'api')).toEqual(['ui']);
  });
});

describe('mergeAgentStatus', () => {
  const at = new Date('2026-03-04T05:06:07.890Z');
  it('without parts: the agent summary, a second-precision heartbeat, no syncPaths', () => {
    expect(mergeAgentStatus([], s, at)).toEqual({ sync: 'agent up, sync off (1 path)', agentHeartbeatTime: '2026-03-04T05:06:07Z' });
  });

  it('the last SYNC text set wins; syncPaths are concatenated in order', () => {
    const a = { devPod: 'api', localPath: '/p/a', containerPath: '/a', state: 'watching' as const };
    const b = { devPod: 'ui', localPath: '/p/b', containerPath: '/b', state: 'initial' as const, progress: 40 };
    expect(mergeAgentStatus([{ sync: 'first', syncPaths: [a] }, { syncPaths: [b] }, { sync: '2 paths: 1 watching, 1 at 40%' }, { sync: '' }], s, at)).toEqual({
      sync: '2 paths: 1 watching, 1 at 40%',
      agentHeartbeatTime: '2026-03-04T05:06:07Z',
      syncPaths: [a, b],
    });
  });
});
