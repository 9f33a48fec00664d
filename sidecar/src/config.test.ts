import { describe, expect, it } from '@jest/globals';
import { parseSidecarPaths } from './config.js';

describe('DSA_SYNC_PATHS', () => {
  it('parses the operator-written list', () => {
    expect(parseSidecarPaths('[{"index":0,"mountPath":"/.dsa/sync/0","containerPath":"/app","container":"api","devPod":"api","sync":0}]')).toEqual([
      { index: 0, mountPath: '/.dsa/sync/0', containerPath: '/app', container: 'api', devPod: 'api', sync: 0 },
    ]);
    expect(parseSidecarPaths(undefined)).toEqual([]);
  });

  it.each([
    ['{', /not valid JSON/],
    ['{}', /must be a JSON list/],
    ['[{"index":0,"mountPath":"rel","devPod":"a","sync":0}]', /mountPath must be an absolute path/],
    ['[{"index":0,"mountPath":"/a","devPod":"a","sync":0},{"index":0,"mountPath":"/b","devPod":"a","sync":1}]', /index 0 appears twice/],
    ['[{"index":0,"mountPath":"/a","sync":0}]', /devPod must be/],
  ])('refuses %s with a one-line reason', (raw, why) => {
    expect(() => parseSidecarPaths(raw)).toThrow(why);
  });
});
