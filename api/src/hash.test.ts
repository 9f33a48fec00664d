import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildTag, canonicalJson, gitContextDigest, PLACEHOLDER_DIGEST, sha256Hex, shortenName, type BuildTagInputs } from './hash.js';

const base: BuildTagInputs = {
  contextDigest: `sha256:${'a'.repeat(64)}`,
  dockerfile: 'Dockerfile.dev',
  buildArgs: { NODE_ENV: 'development', A: '1' },
  target: 'dev',
  entrypoint: ['node'],
  cmd: ['server.js'],
};

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('is independent of key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
  });
});

describe('buildTag', () => {
  it('is dsa-<12 hex> and matches sha256 of the canonical JSON', () => {
    const tag = buildTag(base);
    expect(tag).toMatch(/^dsa-[0-9a-f]{12}$/);
    const expected = sha256Hex(
      canonicalJson({ buildArgs: base.buildArgs, cmd: base.cmd, contextDigest: base.contextDigest, dockerfile: base.dockerfile, entrypoint: base.entrypoint, target: base.target }),
    ).slice(0, 12);
    expect(tag).toBe(`dsa-${expected}`);
  });

  it('is stable across key order of inputs and buildArgs', () => {
    const shuffled: BuildTagInputs = {
      cmd: ['server.js'],
      buildArgs: { A: '1', NODE_ENV: 'development' },
      target: 'dev',
      entrypoint: ['node'],
      dockerfile: 'Dockerfile.dev',
      contextDigest: base.contextDigest,
    };
    expect(buildTag(shuffled)).toBe(buildTag(base));
  });

  it.each<[string, Partial<BuildTagInputs>]>([
    ['contextDigest', { contextDigest: `sha256:${'b'.repeat(64)}` }],
    ['dockerfile', { dockerfile: 'Dockerfile' }],
    ['buildArgs value', { buildArgs: { NODE_ENV: 'production', A: '1' } }],
    ['buildArgs key', { buildArgs: { NODE_ENV: 'development', B: '1' } }],
    ['target', { target: 'prod' }],
    ['entrypoint', { entrypoint: ['bun'] }],
    ['cmd', { cmd: ['index.js'] }],
    ['cmd vs entrypoint swap', { entrypoint: ['server.js'], cmd: ['node'] }],
  ])('changes when %s changes', (_label, change) => {
    expect(buildTag({ ...base, ...change })).not.toBe(buildTag(base));
  });

  it('treats spelled-out defaults like absent ones', () => {
    const d = { contextDigest: base.contextDigest };
    expect(buildTag({ ...d, dockerfile: 'Dockerfile', buildArgs: {}, target: '', entrypoint: [], cmd: [] })).toBe(buildTag(d));
  });

  it('differs for different git commits and sub paths', () => {
    const a = buildTag({ contextDigest: gitContextDigest('https://g/x.git', 'a'.repeat(40), 'api') });
    const b = buildTag({ contextDigest: gitContextDigest('https://g/x.git', 'b'.repeat(40), 'api') });
    const c = buildTag({ contextDigest: gitContextDigest('https://g/x.git', 'a'.repeat(40), 'web') });
    expect(new Set([a, b, c]).size).toBe(3);
    expect(gitContextDigest('https://g/x.git', 'abc', 'api')).toBe('git:https://g/x.git#abc:api');
  });
});

describe('shortenName', () => {
  it('keeps short names', () => {
    expect(shortenName('quickstart-api')).toBe('quickstart-api');
  });
  it('shortens long names to max with a stable hash suffix, distinct for distinct inputs', () => {
    const a = shortenName(`${'a'.repeat(70)}-x`);
    const b = shortenName(`${'a'.repeat(70)}-y`);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).toMatch(/^a+-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(shortenName(`${'a'.repeat(70)}-x`)).toBe(a);
  });
  it('never ends the prefix with a dash', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][-a-z0-9]{0,120}$/), (name) => {
        const s = shortenName(name, 20);
        expect(s.length).toBeLessThanOrEqual(20);
        if (name.length > 20) expect(s).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?-[0-9a-f]{8}$/);
      }),
    );
  });
  it('placeholder digest is a syntactically valid digest', () => {
    expect(PLACEHOLDER_DIGEST).toMatch(/^sha256:0{64}$/);
  });
});
