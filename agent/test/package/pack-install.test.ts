// The published shape (issue 10): `npm pack` of agent/ (its prepack script builds the bundle), installed with
// `npm install -g --prefix <empty dir> --offline` under an empty HOME (so an empty npm cache: the package
// must need nothing from a registry), then run like on a machine that never saw the repository: only
// Node on PATH, the project copied outside the repository.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import YAML from 'yaml';
import * as api from '@dsa/api';
import { computeApiDigest } from '../../src/actions/cluster-version.js';
import { startFakeApiserver, writeKubeconfig } from '../cli/fake-apiserver.js';
import { EXAMPLES_DIR, REPO_ROOT } from '../cli/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsa-pack-'));
const home = join(tmp, 'home');
const prefix = join(tmp, 'prefix');
const work = join(tmp, 'work');
const nodeDir = dirname(process.execPath);
/** Nothing from the developer's shell or from npm's own test environment (npm_config_*). */
const cleanEnv = { PATH: `${nodeDir}:/usr/bin:/bin`, HOME: home, LANG: 'C.UTF-8' };

let tarball = '';
let files: string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function dsa(args: string[], cwd = join(work, 'node-kubectl'), env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(join(prefix, 'bin/dsa'), args, { cwd, env: { ...cleanEnv, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  mkdirSync(home);
  mkdirSync(prefix);
  const dest = join(tmp, 'pack');
  mkdirSync(dest);
  execFileSync('npm', ['pack', '--pack-destination', dest, '--loglevel=error'], { cwd: join(REPO_ROOT, 'agent'), env: { ...cleanEnv, HOME: process.env.HOME ?? home }, stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 });
  const tgz = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
  expect(tgz).toHaveLength(1);
  tarball = join(dest, tgz[0]!);
  files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  execFileSync('npm', ['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { env: cleanEnv, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
  mkdirSync(work);
  cpSync(join(EXAMPLES_DIR, 'node-kubectl'), join(work, 'node-kubectl'), { recursive: true });
}, 400_000);

describe('npm pack → npm install -g into an empty prefix → dsa', () => {
  it('the tarball holds the launcher and the bundle only, and declares no dependencies', () => {
    expect(files).toContain('package/bin/dsa.js');
    expect(files).toContain('package/dist/bundle/dsa.mjs');
    expect(files).toContain('package/package.json');
    const unexpected = files.filter((f) => !/^package\/(bin\/dsa\.js|dist\/bundle\/dsa\.mjs|dist\/bundle\/chunks\/[\w-]+\.mjs|package\.json)$/.test(f));
    expect(unexpected).toEqual([]);
    const pkg = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>;
    // Everything is bundled: a runtime dependency would be fetched from a registry at install time.
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.bin).toEqual({ dsa: './bin/dsa.js' });
  });

  it('installs without a registry, with no node_modules, and the bundle names no path of this repository', () => {
    const installed = join(prefix, 'lib/node_modules/@dsa/agent');
    expect(existsSync(join(prefix, 'bin/dsa'))).toBe(true);
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    const bundle = [join(installed, 'dist/bundle/dsa.mjs'), ...readdirSync(join(installed, 'dist/bundle/chunks')).map((f) => join(installed, 'dist/bundle/chunks', f))];
    const leaking = bundle.filter((f) => readFileSync(f, 'utf8').includes(REPO_ROOT));
    expect(leaking).toEqual([]);
  });

  it('dsa validate and dsa render work on an example outside the repository', async () => {
    const validate = await dsa(['validate']);
    expect(validate).toEqual({ code: 0, stdout: '✓ devspace.yaml: valid (1 image, 2 deployments, 1 dev pod, 0 dependencies; 0 warnings)\n', stderr: '' });
    const render = await dsa(['render']);
    expect(render.code).toBe(0);
    const docs = YAML.parseAllDocuments(render.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['DevSession/node-kubectl', 'ImageBuild/node-kubectl-app']);
    const json = await dsa(['render', '-o', 'json', '-n', 'dev-x']);
    expect((JSON.parse(json.stdout) as { items: Array<{ metadata: { namespace: string } }> }).items.map((i) => i.metadata.namespace)).toEqual(['dev-x', 'dev-x']);
    // From a sub-folder too (config discovery), and a broken config still gives its one line and exit 2.
    const sub = await dsa(['validate'], join(work, 'node-kubectl', 'k8s'));
    expect(sub.code).toBe(0);
    const bad = await dsa(['validate', '--config', 'nope.yaml']);
    expect(bad).toMatchObject({ code: 2, stdout: '', stderr: `${join(work, 'node-kubectl', 'nope.yaml')}:1:1: config file not found\n` });
  }, 120_000);

  it('reports the build it is: version, commit, bundle, the API digest of this source', async () => {
    const version = await dsa(['--version']);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(REPO_ROOT, 'agent/package.json'), 'utf8')) as { version: string }).version);
    const report = JSON.parse((await dsa(['version', '-o', 'json'])).stdout) as { agent: Record<string, string> };
    expect(report.agent).toMatchObject({ flavor: 'bundle', apiVersion: api.API_VERSION, apiDigest: computeApiDigest(api.generateCrds(), api) });
    expect(report.agent.commit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
    expect(Date.parse(report.agent.built!)).not.toBeNaN();
  }, 60_000);

  it('cluster commands run through the bundled client-node (loopback apiserver)', async () => {
    const server = await startFakeApiserver({
      '/apis/dsa.dev': { status: 200, body: { kind: 'APIGroup', versions: [{ version: 'v1alpha1' }], preferredVersion: { version: 'v1alpha1' } } },
      '/api/v1/namespaces/dsa-system/configmaps/dsa-operator-info': { status: 200, body: { data: { version: '9.9.9', apiVersion: 'dsa.dev/v1alpha1' } } },
    });
    try {
      const KUBECONFIG = writeKubeconfig(tmp, server.url, 'dev-x');
      const version = await dsa(['version', '--cluster', '-o', 'json'], join(work, 'node-kubectl'), { KUBECONFIG });
      expect(JSON.parse(version.stdout)).toMatchObject({ cluster: { servedVersions: ['v1alpha1'], operator: { found: true, info: { version: '9.9.9' } } }, skew: [] });
      // The session GET answers 404: the error every cluster command starts from.
      const logs = await dsa(['logs'], join(work, 'node-kubectl'), { KUBECONFIG });
      expect(logs).toMatchObject({ code: 1, stdout: '', stderr: 'dsa logs: no DevSession for this project in namespace dev-x (run dsa up or dsa deploy first, or pick a pod with --pod/-l)\n' });
      expect(server.requests).toContain('/apis/dsa.dev/v1alpha1/namespaces/dev-x/devsessions/node-kubectl');
    } finally {
      await server.close();
    }
  }, 60_000);

  it('completion works from the installed package', async () => {
    expect((await dsa(['completion', 'bash'])).stdout).toContain('complete -o default -F __dsa_complete dsa');
    expect((await dsa(['__complete', 'up', '-p', ''])).stdout).toBe('fixed-registry\n:4\n');
  }, 60_000);
});
