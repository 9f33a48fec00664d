import { describe, expect, it } from '@jest/globals';
import { ProtocolError } from './protocol.js';
import { parseHashes, parsePathRequest, parseWriteResults } from './results.js';

describe('reply lists', () => {
  it('are bounded at 10,000 items', () => {
    const results = (n: number) => ({ results: Array.from({ length: n }, (_, i) => ({ p: `f${i}`, ok: true, sig: null })) });
    const hashes = (n: number) => ({ hashes: Array.from({ length: n }, (_, i) => [`f${i}`, null]) });
    const paths = (n: number) => ({ paths: Array.from({ length: n }, (_, i) => `f${i}`) });
    expect(parseWriteResults(results(10_000))).toHaveLength(10_000);
    expect(parseHashes(hashes(10_000))).toHaveLength(10_000);
    expect(parsePathRequest(paths(10_000)).paths).toHaveLength(10_000);
    expect(() => parseWriteResults(results(10_001))).toThrow(new ProtocolError('reply: results must be a list of at most 10000'));
    expect(() => parseHashes(hashes(10_001))).toThrow(ProtocolError);
    expect(() => parsePathRequest(paths(10_001))).toThrow(/paths must be a list of at most 10000/);
  });
});
