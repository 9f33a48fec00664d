import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../errors.js';
import { testEnv } from '../devloop/dev-loop.test-util.js';
import { FakeKube } from '../session/fake-kube.test-util.js';
import { actionDeps, project } from './actions.test-util.js';
import { failureReport, validateProject } from './validate.js';

describe('validateProject', () => {
  it('a valid project: counts over the project and its dependencies', async () => {
    const e = testEnv();
    const r = await validateProject(e, actionDeps(e, new FakeKube()), { project: project('two-services'), checkFiles: true, file: 'devspace.yaml' });
    expect(r.valid).toBe(true);
    expect(r.report).toMatchObject({ kind: 'ValidationReport', valid: true, project: 'frontend', counts: { images: 2, dependencies: 1 }, errors: [] });
  }, 30_000);

  it('an invalid config is an outcome with a positioned error, not a throw', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsa-validate-'));
    writeFileSync(join(dir, 'devspace.yaml'), 'version: v2beta1\nname: x\nimages:\n  - not a mapping\n');
    const e = testEnv();
    const r = await validateProject(e, actionDeps(e, new FakeKube()), { project: { ...project('x'), configPath: join(dir, 'devspace.yaml') }, checkFiles: true, file: 'devspace.yaml' });
    expect(r.valid).toBe(false);
    if (r.valid) return;
    expect(r.error.name).toBe('ConfigError');
    expect(r.report.errors).toEqual([expect.objectContaining({ file: join(dir, 'devspace.yaml'), line: expect.any(Number), path: expect.stringMatching(/^images/) })]);
  }, 30_000);

  it('a rendered object the schema refuses: the first issue and how many more', async () => {
    const e = testEnv();
    const deps = actionDeps(e, new FakeKube(), { services: (real) => ({ ...real, validateObject: () => [{ path: 'spec.x', message: 'bad' }] }) });
    const r = await validateProject(e, deps, { project: project('two-services'), checkFiles: true, file: 'devspace.yaml' });
    expect(r.valid).toBe(false);
    if (r.valid) return;
    expect(r.error).toBeInstanceOf(ValidationError);
    expect(r.error.message).toBe('devspace.yaml: rendered DevSession frontend-backend: spec.x: bad (and 3 more)');
  }, 30_000);
});

describe('failureReport', () => {
  it('keeps the position of a positioned error', () => {
    const err = Object.assign(new Error('x'), { file: 'f.yaml', line: 3, col: 4, path: 'a.b' });
    expect(failureReport('f.yaml', err).errors).toEqual([{ message: 'x', file: 'f.yaml', line: 3, col: 4, path: 'a.b' }]);
  });
});
