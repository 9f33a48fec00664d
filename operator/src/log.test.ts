import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, resolveLogLevel, controllerLogger } from './log.js';

describe('log', () => {
  it('resolves the level from DSA_LOG_LEVEL with a safe fallback', () => {
    expect(resolveLogLevel(undefined, { DSA_LOG_LEVEL: 'debug' })).toBe('debug');
    expect(resolveLogLevel('warn', { DSA_LOG_LEVEL: 'debug' })).toBe('warn');
    expect(resolveLogLevel(undefined, { DSA_LOG_LEVEL: 'loud' })).toBe('info');
    expect(resolveLogLevel(undefined, {})).toBe('info');
  });
  it('writes JSON lines with controller fields', () => {
    const lines: string[] = [];
    const dest = new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) });
    const log = controllerLogger(createLogger({ env: {}, destination: dest }), 'devsession', { namespace: 'ns' });
    log.info({ name: 's1' }, 'reconciled');
    log.debug('hidden');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', controller: 'devsession', namespace: 'ns', name: 's1', msg: 'reconciled' });
  });
});
