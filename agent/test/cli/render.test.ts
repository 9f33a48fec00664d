// `dsa render` / `dsa validate` through the real binary over every example project, DevSpace's
// published examples, and malformed configs.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import YAML from 'yaml';
import { validateDevSession, validateImageBuild } from '@dsa/api';
import { EXAMPLES_DIR, mapLimit, runDsa, runInProcess, SHARED_EXAMPLES_DIR, show, type RunResult } from './helpers.js';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: Record<string, any>;
}

/** Parse multi-document YAML and check every object against the CRD schemas. */
function parseRendered(stdout: string): Obj[] {
  const docs = YAML.parseAllDocuments(stdout);
  for (const d of docs) expect(d.errors).toEqual([]);
  const objects = docs.map((d) => d.toJS() as Obj).filter((o) => o !== null);
  expect(objects.length).toBeGreaterThan(0);
  for (const o of objects) {
    expect(['DevSession', 'ImageBuild']).toContain(o.kind);
    expect(o.apiVersion).toBe('dsa.dev/v1alpha1');
    const issues = o.kind === 'DevSession' ? validateDevSession(o) : validateImageBuild(o);
    expect({ object: `${o.kind}/${o.metadata.name}`, issues }).toEqual({ object: `${o.kind}/${o.metadata.name}`, issues: [] });
  }
  return objects;
}

function check(args: string[], r: RunResult, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${show(args, r)}`);
  }
}

const ONE_LINE_CONFIG_ERROR = /^\S+:\d+:\d+: .+$/;

function expectOneLineError(r: RunResult): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(ONE_LINE_CONFIG_ERROR);
}

const EXAMPLES = readdirSync(EXAMPLES_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('examples/*', () => {
  it('there are at least the four documented examples', () => {
    expect(EXAMPLES).toEqual(expect.arrayContaining(['gitops-no-images', 'helm-app', 'node-kubectl', 'two-services']));
  });

  it('render (YAML and JSON) and validate succeed for every example, objects pass the CRD schemas', async () => {
    type Job = { example: string; args: string[] };
    const jobs: Job[] = EXAMPLES.flatMap((example) => {
      const config = join(EXAMPLES_DIR, example, 'devspace.yaml');
      return [
        { example, args: ['render', '--config', config, '-n', 'dsa-test'] },
        { example, args: ['validate', '--config', config, '-n', 'dsa-test'] },
      ];
    });
    // JSON once (it must list the same objects as the YAML); jobs run in order per example, YAML first.
    jobs.push({ example: 'two-services', args: ['render', '--config', join(EXAMPLES_DIR, 'two-services/devspace.yaml'), '-n', 'dsa-test', '-o', 'json'] });
    const results = await mapLimit(jobs, 2, (j) => runDsa(j.args, { cwd: EXAMPLES_DIR }));
    const rendered = new Map<string, Obj[]>();
    jobs.forEach((job, i) => {
      const r = results[i]!;
      check(job.args, r, () => {
        expect(r.code).toBe(0);
        expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
        if (job.args[0] === 'validate') {
          expect(r.stdout).toMatch(/^✓ \S+devspace\.yaml: valid \(\d+ images?, \d+ deployments?, \d+ dev pods?, \d+ dependenc(y|ies); \d+ warnings?\)\n$/);
          return;
        }
        if (job.args.includes('json')) {
          const list = JSON.parse(r.stdout) as { apiVersion: string; kind: string; items: Obj[] };
          expect([list.apiVersion, list.kind]).toEqual(['v1', 'List']);
          expect(list.items).toEqual(rendered.get(job.example));
          return;
        }
        const objects = parseRendered(r.stdout);
        for (const o of objects) expect(o.metadata.namespace).toBe('dsa-test');
        rendered.set(job.example, objects);
      });
    });

    const sessions = (ex: string) => rendered.get(ex)!.filter((o) => o.kind === 'DevSession');
    const builds = (ex: string) => rendered.get(ex)!.filter((o) => o.kind === 'ImageBuild');
    // gitops-no-images: nothing to build, no dev section: the operator alone can run it.
    expect(sessions('gitops-no-images')).toHaveLength(1);
    expect(builds('gitops-no-images')).toHaveLength(0);
    expect(sessions('gitops-no-images')[0]!.spec.images ?? []).toEqual([]);
    expect(sessions('gitops-no-images')[0]!.spec.deployments).toHaveLength(2);
    // node-kubectl: one image, its build, dev pod with port 3000.
    expect(builds('node-kubectl')).toHaveLength(1);
    expect(JSON.stringify(sessions('node-kubectl')[0]!.spec.dev)).toContain('3000');
    // helm-app: a helm deployment of a packed local chart.
    expect(sessions('helm-app')[0]!.spec.deployments[0].helm.chart.archive).toEqual(expect.any(String));
    // two-services: a session per project; the frontend depends on the backend's.
    const two = sessions('two-services');
    expect(two).toHaveLength(2);
    expect(builds('two-services')).toHaveLength(2);
    const frontend = two.find((s) => (s.spec.dependencies ?? []).length > 0)!;
    const backend = two.find((s) => s !== frontend)!;
    expect(frontend.spec.dependencies.map((d: { name: string }) => d.name)).toEqual([backend.metadata.name]);
  }, 180_000);
});

describe('DevSpace published examples (agent/test/fixtures/devspace-examples)', () => {
  const files = readdirSync(SHARED_EXAMPLES_DIR).filter((f) => f.endsWith('.yaml')).sort();
  // Not renderable without input: v4.0.0-variables has an unknown top-level `command:` key, and both
  // variables files ask a question with no default (non-interactive runs must fail, not hang).
  const failing = new Set(['v4.0.0-variables.yaml', 'v4.14.0-variables.yaml']);
  const cfg = (f: string) => join(SHARED_EXAMPLES_DIR, f);

  it('every file renders with file checks off (they reference files that are not there), or fails in one line', async () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    // In-process with the real loader and renderer: 15+ tsx start-ups would dominate the suite.
    const jobs = [
      ...files.map((f) => ['render', '--skip-file-checks', '--config', cfg(f)]),
      ['render', '--skip-file-checks', '--var', 'SELECT=deployment-1', '--config', cfg('v4.14.0-variables.yaml')],
    ];
    for (const args of jobs) {
      const r = await runInProcess(args);
      const file = args[args.length - 1]!.split('/').pop()!;
      check(args, r, () => {
        if (failing.has(file) && !args.includes('--var')) {
          expectOneLineError(r);
        } else {
          expect(r.code).toBe(0);
          parseRendered(r.stdout);
          // Warnings are one line each, prefixed; nothing else on stderr.
          for (const line of r.stderr.split('\n').filter((l) => l !== '')) expect(line).toMatch(/^warning: /);
        }
      });
    }
  }, 120_000);

  it('through the binary: v4.0.0-variables.yaml fails in one line with nothing on stdout; quickstart renders', async () => {
    const jobs = [
      ['render', '--skip-file-checks', '--config', cfg('v4.0.0-variables.yaml')],
      ['render', '--skip-file-checks', '--config', cfg('v6.3.21-quickstart.yaml'), '-o', 'json'],
    ];
    const [bad, good] = await mapLimit(jobs, 2, (args) => runDsa(args));
    check(jobs[0]!, bad!, () => expectOneLineError(bad!));
    check(jobs[1]!, good!, () => {
      expect(good!.code).toBe(0);
      const list = JSON.parse(good!.stdout) as { kind: string; items: Obj[] };
      expect(list.kind).toBe('List');
      expect(list.items.map((o) => o.kind)).toContain('DevSession');
    });
  }, 60_000);
});

describe('malformed configs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dsa-bad-'));
  const cases: Record<string, string> = {
    'yaml-syntax.yaml': 'version: v2beta1\nimages:\n  api: {image: [unclosed\n',
    'unknown-version.yaml': 'version: v9beta9\nname: x\n',
    'images-not-a-map.yaml': 'version: v2beta1\nname: x\nimages:\n  - image: foo\n',
    'unknown-field.yaml': 'version: v2beta1\nname: x\ndeployments:\n  api:\n    kubectl:\n      manifestz: [a.yaml]\n',
    'bad-port.yaml': 'version: v2beta1\nname: x\ndev:\n  api:\n    labelSelector: {app: api}\n    ports:\n      - port: "notaport"\n',
    'undefined-var.yaml': 'version: v2beta1\nname: x\nimages:\n  api:\n    image: ${NOPE_NOT_DEFINED}/api\n',
    'missing-manifest.yaml': 'version: v2beta1\nname: x\ndeployments:\n  api:\n    kubectl:\n      manifests: [does-not-exist.yaml]\n',
    'v1beta9-no-name.yaml': 'version: v1beta9\ndeployments:\n  - kubectl:\n      manifests: [a.yaml]\n',
  };
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(cases)) writeFileSync(join(dir, name), text);

  it('each fails with exit 2 and exactly one `file:line:col: …` line on stderr', async () => {
    const jobs = [...Object.keys(cases).map((f) => ['render', '--config', join(dir, f)]), ['render', '--config', join(dir, 'no-such-file.yaml')], ['validate', '--config', join(dir, 'images-not-a-map.yaml')]];
    for (const args of jobs) {
      const r = await runInProcess(args, { cwd: dir });
      check(args, r, () => expectOneLineError(r));
    }
    // And once through the binary (exit status and streams of a real process).
    const args = ['render', '--config', join(dir, 'yaml-syntax.yaml')];
    const r = await runDsa(args, { cwd: dir });
    check(args, r, () => expectOneLineError(r));
  }, 60_000);

  it('--skip-file-checks: each unreadable file becomes a commented stand-in, with one warning each (exit 0)', async () => {
    const args = ['render', '--skip-file-checks', '--config', join(dir, 'missing-manifest.yaml')];
    const r = await runInProcess(args, { cwd: dir });
    check(args, r, () => {
      expect(r.code).toBe(0);
      const [session] = parseRendered(r.stdout);
      expect(session!.spec.deployments[0].kubectl.manifests).toEqual([`# ${join(dir, 'does-not-exist.yaml')}: not read (--skip-file-checks)\n`]);
      expect(r.stderr).toBe(`warning: ${join(dir, 'does-not-exist.yaml')}: not read (--skip-file-checks); rendered as a stand-in\n`);
    });
  }, 60_000);
});
