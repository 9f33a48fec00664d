// Which kustomize renders a kustomization, and how a failure reads (real child processes: a stand-in
// "kustomize" shell script, so the unit tier needs no kustomize build).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kustomizeCommand, runKustomize } from './kustomize.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-kustomize-'));
  await writeFile(path.join(dir, 'fake-kustomize'), '#!/bin/sh\n[ "$1" = build ] || exit 9\nshift\necho "# dir=$1"\nshift\necho "# args=$*"\n[ "$*" = "--fail" ] && { echo "Error: accumulating resources: ../base: not found" >&2; exit 1; }\nexit 0\n');
  await chmod(path.join(dir, 'fake-kustomize'), 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kustomize', () => {
  const which = (have: Record<string, string>) => (n: string) => have[n];

  it('kustomizeBinaryPath, else DSA_KUSTOMIZE, else kustomize on PATH, else kubectl kustomize; args after the folder', () => {
    const req = { dir: '/p/overlay', args: ['--load-restrictor', 'LoadRestrictionsNone'] };
    expect(kustomizeCommand({ ...req, binary: '/opt/k' }, { DSA_KUSTOMIZE: '/x' }, which({}))).toEqual({ file: '/opt/k', args: ['build', '/p/overlay', '--load-restrictor', 'LoadRestrictionsNone'] });
    expect(kustomizeCommand(req, { DSA_KUSTOMIZE: '/x' }, which({ kustomize: '/usr/bin/kustomize' })).file).toBe('/x');
    expect(kustomizeCommand(req, {}, which({ kustomize: '/usr/bin/kustomize', kubectl: '/usr/bin/kubectl' })).file).toBe('/usr/bin/kustomize');
    expect(kustomizeCommand(req, {}, which({ kubectl: '/usr/bin/kubectl' }))).toEqual({ file: '/usr/bin/kubectl', args: ['kustomize', '/p/overlay', '--load-restrictor', 'LoadRestrictionsNone'] });
    expect(() => kustomizeCommand(req, {}, which({}))).toThrow(/no kustomize binary \(set kustomizeBinaryPath or DSA_KUSTOMIZE, or put kustomize or kubectl on PATH\)/);
  });

  it('runs the binary in the kustomization folder and returns its output; a failure is kustomize\'s own message', async () => {
    expect(await runKustomize({ dir, args: ['--enable-helm'], binary: path.join(dir, 'fake-kustomize') }, {})).toBe(`# dir=${dir}\n# args=--enable-helm\n`);
    await expect(runKustomize({ dir, args: ['--fail'], binary: path.join(dir, 'fake-kustomize') }, {})).rejects.toThrow(/fake-kustomize build .* --fail: Error: accumulating resources: \.\.\/base: not found/);
    await expect(runKustomize({ dir, args: [], binary: path.join(dir, 'missing') }, {})).rejects.toThrow(/missing not found/);
  });
});
