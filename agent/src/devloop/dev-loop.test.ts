import { describe, expect, it } from '@jest/globals';
import { session } from '../session/fake-kube.test-util.js';
import { agentSyncSummary, logDevPods, syncPaths, terminalDevPod } from './dev-loop.js';

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
