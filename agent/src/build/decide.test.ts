// Rebuild decisions of the local builders and the custom build's tag.
import { describe, expect, it } from '@jest/globals';
import type { CustomBuildConfig } from '@dsa/api';
import { customImageTag, decideBuild, type DecisionInputs } from './decide.js';

const base: DecisionInputs = { engine: 'custom', tag: 'dsa-aaaaaaaaaaaa', image: 'r/api', force: false, skipBuild: false, hasOnChange: true };
const cached = (tag: string, over: Partial<{ image: string; engine: 'docker' | 'custom' }> = {}) => ({ image: 'r/api', tag, engine: 'custom' as const, builtAt: '2026-01-01T00:00:00Z', ...over });

describe('decideBuild', () => {
  it('custom with onChange: rebuilt only when the files (so the tag) changed since the last build', () => {
    expect(decideBuild({ ...base, cached: cached('dsa-aaaaaaaaaaaa') }).action).toBe('reuse');
    expect(decideBuild({ ...base, cached: cached('dsa-bbbbbbbbbbbb') })).toEqual({ action: 'build', reason: 'onChange files changed' });
    expect(decideBuild(base)).toEqual({ action: 'build', reason: 'no earlier build' });
  });

  it('custom without onChange: built every time, as DevSpace does', () => {
    expect(decideBuild({ ...base, hasOnChange: false, cached: cached('dsa-aaaaaaaaaaaa') }).action).toBe('build');
  });

  it('a cache entry for another repository or engine does not count', () => {
    expect(decideBuild({ ...base, cached: cached('dsa-aaaaaaaaaaaa', { image: 'r/other' }) }).action).toBe('build');
    expect(decideBuild({ ...base, cached: cached('dsa-aaaaaaaaaaaa', { engine: 'docker' }) }).action).toBe('build');
  });

  it('-b always builds; --skip-build references the last build when there is one, else builds', () => {
    expect(decideBuild({ ...base, force: true, cached: cached('dsa-aaaaaaaaaaaa') }).action).toBe('build');
    expect(decideBuild({ ...base, skipBuild: true, cached: cached('dsa-cccccccccccc') })).toMatchObject({ action: 'reference', tag: 'dsa-cccccccccccc' });
    expect(decideBuild({ ...base, skipBuild: true }).action).toBe('build');
  });

  it('docker: reused when the daemon has image:tag, else built', () => {
    const d: DecisionInputs = { engine: 'docker', tag: 'dsa-dddddddddddd', image: 'r/api', force: false, skipBuild: false };
    expect(decideBuild({ ...d, inDaemon: true }).action).toBe('reuse');
    expect(decideBuild({ ...d, inDaemon: false }).action).toBe('build');
    expect(decideBuild({ ...d, inDaemon: true, force: true }).action).toBe('build');
  });
});

describe('customImageTag', () => {
  const cfg: CustomBuildConfig = { command: './build.sh', args: ['a'], appendArgs: [], imageTagOnly: false, imageArg: true, onChange: ['/p/src/**'] };

  it('is content addressed: same inputs, same tag; a changed file digest or command line, another tag', () => {
    const t = customImageTag(cfg, '/p', 'sha256:1');
    expect(t).toMatch(/^dsa-[0-9a-f]{12}$/);
    expect(customImageTag({ ...cfg }, '/p', 'sha256:1')).toBe(t);
    expect(customImageTag(cfg, '/p', 'sha256:2')).not.toBe(t);
    expect(customImageTag({ ...cfg, args: ['b'] }, '/p', 'sha256:1')).not.toBe(t);
    expect(customImageTag({ ...cfg, imageArg: false }, '/p', 'sha256:1')).not.toBe(t);
  });

  it('does not depend on where the project is checked out (onChange taken relative to it)', () => {
    expect(customImageTag({ ...cfg, onChange: ['/home/bob/p/src/**'] }, '/home/bob/p', 'sha256:1')).toBe(customImageTag(cfg, '/p', 'sha256:1'));
  });
});
