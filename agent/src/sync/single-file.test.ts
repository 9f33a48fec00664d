import { describe, expect, it } from '@jest/globals';
import { compileExcludes } from '@dsa/api/sync';
import { singleFilePatterns } from './path-sync.js';

describe('single-file sync patterns', () => {
  it.each(['app.json', 'a [1].json', 'x*?.txt', '!important', '#hash', 'trailing  ', 'back\\slash'])('%j: only that file at the top passes', (name) => {
    const m = compileExcludes(singleFilePatterns(name));
    expect(m.ignores(name, false)).toBe(false);
    expect(m.ignores('other.json', false)).toBe(true);
    expect(m.ignores('dir', true)).toBe(true);
    expect(m.ignores(`sub/${name}`, false)).toBe(true);
  });
});
