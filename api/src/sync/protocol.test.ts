// What a peer may send in OPEN parameters and notices: checked on receipt, bounded, made printable.
import { describe, expect, it } from '@jest/globals';
import { ProtocolError, parseOpenParams } from './protocol.js';
import { REFUSED_PATH_MAX, parseRefusedNotice } from './results.js';

const pathOpen = (extra: Record<string, unknown> = {}) => ({ kind: 'path', path: 0, devPod: 'api', sync: 0, excludes: {}, ...extra });

describe('path channel parameters', () => {
  it('carry throttleMs (throttleChangeDetection) only when given, within 0..60000', () => {
    expect(parseOpenParams(pathOpen())).not.toHaveProperty('throttleMs');
    expect(parseOpenParams(pathOpen({ polling: true, throttleMs: 250 }))).toMatchObject({ polling: true, throttleMs: 250 });
    for (const bad of [-1, 60_001, 1.5, '100', null]) expect(() => parseOpenParams(pathOpen({ throttleMs: bad }))).toThrow(ProtocolError);
  });
});

describe('listen channel parameters', () => {
  it('carry a host only when given: an IP address or localhost, never a name to look up in the pod', () => {
    expect(parseOpenParams({ kind: 'listen', port: 8080 })).toEqual({ kind: 'listen', port: 8080 });
    for (const host of ['0.0.0.0', '::', '10.1.2.3', '::1', 'localhost']) expect(parseOpenParams({ kind: 'listen', port: 1, host })).toEqual({ kind: 'listen', port: 1, host });
    for (const bad of ['example.com', '', 42, null, '10.0.0.1; rm -rf /']) expect(() => parseOpenParams({ kind: 'listen', port: 1, host: bad })).toThrow(/listen: host must be an IP address or localhost/);
    expect(parseOpenParams({ kind: 'tunnel', port: 9, host: '0.0.0.0' })).toEqual({ kind: 'tunnel', port: 9 });
  });
});

describe('refused-name notices', () => {
  it('are recognised, bounded and made printable; other messages are not notices', () => {
    expect(parseRefusedNotice({ ready: true })).toBeUndefined();
    expect(parseRefusedNotice('x')).toBeUndefined();
    expect(parseRefusedNotice({ refusedMore: true })).toEqual({ more: true });
    expect(parseRefusedNotice({ refused: { p: 'a\u0001b', why: 'contains a control character' } })).toEqual({ p: 'a\u0001b', why: 'contains a control character' });
    // the reason is the peer's text: a terminal must not act on it
    expect(parseRefusedNotice({ refused: { p: 'x', why: '\u001b[2Jgone' } })).toEqual({ p: 'x', why: '\\u001b[2Jgone' });
    expect(parseRefusedNotice({ refused: { p: 'y'.repeat(REFUSED_PATH_MAX + 10), why: 'w'.repeat(1000) } })).toEqual({ p: 'y'.repeat(REFUSED_PATH_MAX), why: 'w'.repeat(200) });
    expect(() => parseRefusedNotice({ refused: { p: '', why: '' } })).toThrow(ProtocolError);
    expect(() => parseRefusedNotice({ refused: { p: 'z'.repeat(5 * REFUSED_PATH_MAX) } })).toThrow(ProtocolError);
  });
});
