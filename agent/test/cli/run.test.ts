// In-process tests of the CLI (run() with fake collaborators): fast, and independent of the real
// loader/renderer so the error handler, option plumbing and printers are pinned down on their own.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import YAML from 'yaml';
import type { ProjectConfig } from '@dsa/api';
import { ConfigError } from '../../src/config/errors.js';
import type { ContextIO } from '../../src/cli/context.js';
import type { LoadProjectOptions, ProjectServices, RenderOptions, RenderResult } from '../../src/project/project-services.js';
import { ClusterError } from '../../src/errors.js';
import { run } from '../../src/main.js';
import { StringWriter } from '../../src/output/writer.js';
import { ANSI } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsa-run-'));
// The fake loader does not read it, but config discovery (cli/project-discovery.ts) must find a file.
writeFileSync(join(tmp, 'devspace.yaml'), 'version: v2beta1\n');
const home = join(tmp, 'home');

function project(over: Partial<ProjectConfig> = {}): ProjectConfig {
  return {
    name: 'demo',
    configPath: join(tmp, 'devspace.yaml'),
    dir: tmp,
    sourceVersion: 'v2beta1',
    profiles: [],
    vars: {},
    images: [],
    deployments: [],
    dev: { pods: [], interactive: false, open: [] },
    dependencies: [],
    hooks: [],
    commands: [],
    warnings: [],
    ...over,
  };
}

const session = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'dsa.dev/v1alpha1',
  kind: 'DevSession',
  metadata: { name, namespace: 'ns' },
  spec,
});

interface Fakes {
  load?: (o: LoadProjectOptions) => Promise<ProjectConfig>;
  render?: (p: ProjectConfig, o: RenderOptions) => Promise<RenderResult>;
  issues?: Array<{ path: string; message: string }>;
}

interface Harness {
  code: number;
  stdout: string;
  stderr: string;
  loads: LoadProjectOptions[];
  renders: RenderOptions[];
}

async function dsa(argv: string[], fakes: Fakes = {}, io: Partial<ContextIO> = {}): Promise<Harness> {
  const stdout = new StringWriter();
  const stderr = new StringWriter();
  const loads: LoadProjectOptions[] = [];
  const renders: RenderOptions[] = [];
  const services: ProjectServices = {
    revealSecretVars: (p) => p,
    loadProject: async (o) => {
      loads.push(o);
      return fakes.load ? fakes.load(o) : project();
    },
    renderProject: async (p, o) => {
      renders.push(o);
      return fakes.render
        ? fakes.render(p, o)
        : {
            sessions: [session('dep', { images: [{ name: 'x' }], deployments: [] }), session('demo', { images: [{ name: 'a' }, { name: 'b' }], deployments: [{ name: 'd' }], dev: { pods: [{ name: 'p' }] } })],
            imageBuilds: [{ apiVersion: 'dsa.dev/v1alpha1', kind: 'ImageBuild', metadata: { name: 'demo-a', namespace: o.namespace } }],
            warnings: [{ path: 'hooks[0]', message: 'runs only with the agent' }],
            secrets: [],
          };
    },
    renderToYaml: (objects) => objects.map((o) => `---\n${YAML.stringify(o)}`).join(''),
    validateObject: () => fakes.issues ?? [],
  };
  const code = await run(argv, {
    stdout,
    stderr,
    env: {},
    cwd: tmp,
    homeDir: home,
    isTTY: { stdin: false, stdout: false, stderr: false },
    signal: new AbortController().signal,
    services: async () => services,
    owner: () => ({ user: 'alice', host: 'laptop' }),
    ...io,
  });
  return { code, stdout: stdout.toString(), stderr: stderr.toString(), loads, renders };
}

function kubeconfig(namespace: string): string {
  const file = join(tmp, `kc-${namespace}.yaml`);
  writeFileSync(
    file,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'c1',
      contexts: [{ name: 'c1', context: { cluster: 'k', user: 'u', namespace } }],
      clusters: [{ name: 'k', cluster: { server: 'https://k.example' } }],
      users: [{ name: 'u', user: { token: 't' } }],
    }),
  );
  return file;
}

describe('render (in-process)', () => {
  it('passes flags to the loader and prints multi-document YAML on stdout, warnings on stderr', async () => {
    const r = await dsa(['render', '-p', 'a', '--profile', 'b', '--var', 'X=1', '--var', 'Y=a=b', '--config', 'sub/dev.yaml']);
    expect(r.code).toBe(0);
    expect(r.loads[0]).toMatchObject({
      configPath: join(tmp, 'sub/dev.yaml'),
      profiles: ['a', 'b'],
      vars: { X: '1', Y: 'a=b' },
      checkFiles: true,
      isTTY: false,
      namespace: 'default',
      username: 'alice',
    });
    expect(r.renders[0]).toEqual({ namespace: 'default', owner: { user: 'alice', host: 'laptop' }, checkFiles: true });
    const docs = YAML.parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(['DevSession/dep', 'DevSession/demo', 'ImageBuild/demo-a']);
    expect(r.stdout).not.toContain('warning');
    expect(r.stderr).toBe('warning: hooks[0]: runs only with the agent\n');
  });

  it('-o json prints a kubectl List', async () => {
    const r = await dsa(['render', '-o', 'json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as { apiVersion: string; kind: string; items: Array<{ kind: string }> };
    expect(list.apiVersion).toBe('v1');
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => i.kind)).toEqual(['DevSession', 'DevSession', 'ImageBuild']);
  });

  it('--skip-file-checks turns the loader\'s file checks off', async () => {
    const r = await dsa(['render', '--skip-file-checks']);
    expect(r.loads[0]?.checkFiles).toBe(false);
    expect(r.renders[0]?.checkFiles).toBe(false);
  });

  it('namespace: -n > project namespace > kube context namespace > default, without a cluster', async () => {
    const kc = kubeconfig('from-context');
    expect((await dsa(['render', '--kubeconfig', kc])).renders[0]?.namespace).toBe('from-context');
    expect((await dsa(['render', '--kubeconfig', kc, '-n', 'flag'])).renders[0]?.namespace).toBe('flag');
    expect((await dsa(['render'], {}, { env: { KUBECONFIG: kc } })).renders[0]?.namespace).toBe('from-context');
    const withProjectNs = await dsa(['render', '--kubeconfig', kc], { load: async () => project({ namespace: 'from-project' }) });
    expect(withProjectNs.renders[0]?.namespace).toBe('from-project');
    expect((await dsa(['render'])).renders[0]?.namespace).toBe('default');
  });

  it('prompts only when stdin is a terminal and --no-input is absent', async () => {
    const tty = { stdin: true, stdout: false, stderr: false };
    expect((await dsa(['render'], {}, { isTTY: tty })).loads[0]?.isTTY).toBe(true);
    expect((await dsa(['render', '--no-input'], {}, { isTTY: tty })).loads[0]?.isTTY).toBe(false);
  });
});

describe('the one error handler', () => {
  it('ConfigError: its one line verbatim on stderr, exit 2, nothing on stdout', async () => {
    const r = await dsa(['render'], {
      load: async () => {
        throw new ConfigError('/p/devspace.yaml', 3, 7, 'deployments[0].name', 'variable SELECT is not set');
      },
    });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe('/p/devspace.yaml:3:7: deployments[0].name: variable SELECT is not set\n');
  });

  it('DsaError: `dsa <command>: message (hint)`, its exit code', async () => {
    const r = await dsa(['validate'], {
      load: async () => {
        throw new ClusterError('no cluster', { hint: 'set KUBECONFIG' });
      },
    });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'dsa validate: no cluster (set KUBECONFIG)\n' });
  });

  it('unknown errors: `dsa: internal error: <message>`, exit 1, stack only with -v or DSA_DEBUG=1', async () => {
    const boom = { load: async (): Promise<ProjectConfig> => { throw new TypeError('boom\nsecond line'); } };
    const plain = await dsa(['render'], boom);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
    expect(plain.stderr.split('\n')[0]).toBe('dsa: internal error: boom');
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const verbose = await dsa(['render', '-v'], boom);
    expect(verbose.stderr).toMatch(/TypeError: boom[\s\S]*\n\s+at /);
    const debug = await dsa(['render'], boom, { env: { DSA_DEBUG: '1' } });
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('a bad --context is a cluster error, reported before the loader runs', async () => {
    const r = await dsa(['render', '--kubeconfig', kubeconfig('x'), '--context', 'other']);
    expect(r.code).toBe(1);
    expect(r.loads).toHaveLength(0);
    expect(r.stderr).toBe(`dsa render: context "other" not found in kubeconfig (${join(tmp, 'kc-x.yaml')}) (available: c1)\n`);
  });

  it('-v prints debug lines on stderr only', async () => {
    const r = await dsa(['render', '-v']);
    expect(r.stderr).toMatch(/^debug: kube: files=\[\] context=- namespace=default \(from default\)$/m);
    expect(r.stdout).not.toContain('debug');
  });
});

describe('validate (in-process)', () => {
  it('prints the ✓ summary with counts over all sessions', async () => {
    const r = await dsa(['validate', '--config', 'devspace.yaml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('✓ devspace.yaml: valid (3 images, 1 deployment, 1 dev pod, 1 dependency; 1 warning)\n');
    expect(r.stderr).toBe('warning: hooks[0]: runs only with the agent\n');
  });

  it('schema issues: one line, exit 2', async () => {
    const r = await dsa(['validate'], { issues: [{ path: 'spec.images[0].image', message: 'is required' }] });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('dsa validate: devspace.yaml: rendered DevSession dep: spec.images[0].image: is required (and 2 more)\n');
  });

  it('-o json: a report when valid and when not', async () => {
    const ok = await dsa(['validate', '-o', 'json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      kind: 'ValidationReport',
      valid: true,
      project: 'demo',
      counts: { images: 3, deployments: 1, devPods: 1, dependencies: 1, warnings: 1 },
      warnings: [{ path: 'hooks[0]' }],
      errors: [],
    });
    const bad = await dsa(['validate', '-o', 'json'], {
      load: async () => {
        throw new ConfigError('/p/devspace.yaml', 2, 1, 'images', 'must be a mapping');
      },
    });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      valid: false,
      errors: [{ message: '/p/devspace.yaml:2:1: images: must be a mapping', file: '/p/devspace.yaml', line: 2, col: 1, path: 'images' }],
    });
    expect(bad.stderr).toBe('/p/devspace.yaml:2:1: images: must be a mapping\n');
    const yaml = await dsa(['validate', '-o', 'yaml']);
    expect(YAML.parse(yaml.stdout)).toMatchObject({ kind: 'ValidationReport', valid: true });
  });
});

describe('help and colour (in-process)', () => {
  it.each(['up', 'deploy', 'enter', 'logs', 'analyze', 'down', 'render', 'validate'])('%s --help leads with examples', async (cmd) => {
    const r = await dsa([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const ex = r.stdout.indexOf('Examples:');
    expect(ex).toBeGreaterThan(0);
    expect(ex).toBeLessThan(r.stdout.indexOf('Options:'));
    expect(r.stdout).toMatch(new RegExp(`^  dsa (${cmd}|purge)\\b`, 'm'));
    expect(r.stdout).toContain('Exit codes:');
  });

  it('--skip-file-checks is accepted but hidden', async () => {
    expect((await dsa(['render', '--help'])).stdout).not.toContain('skip-file-checks');
  });

  it('colours stderr only when allowed', async () => {
    const err = (env: Record<string, string>, extra: string[] = [], stderrTTY = false) =>
      dsa(['up', ...extra], {}, { env, isTTY: { stdin: false, stdout: false, stderr: stderrTTY } }).then((r) => r.stderr);
    expect(await err({}, [], true)).toMatch(ANSI);
    expect(await err({})).not.toMatch(ANSI);
    expect(await err({ FORCE_COLOR: '1' })).toMatch(ANSI);
    expect(await err({}, ['--no-color'], true)).not.toMatch(ANSI);
    expect(await err({ NO_COLOR: '1' }, [], true)).not.toMatch(ANSI);
    expect(await err({ TERM: 'dumb' }, [], true)).not.toMatch(ANSI);
    expect(await err({ FORCE_COLOR: '0' }, [], true)).not.toMatch(ANSI);
  });
});

describe('stubs (in-process)', () => {
  it('analyze --wait without a cluster exits 1 in one line; a bad --lines is a usage error', async () => {
    const r = await dsa(['analyze', '--wait']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^dsa analyze: no cluster configured: [^\n]*\n$/);
    expect((await dsa(['analyze', '--lines', 'many'])).code).toBe(2);
  });

  it('-p stays --profile after a subcommand (no clash with a container picker)', async () => {
    const r = await dsa(['render', '-p', 'dev']);
    expect(r.loads[0]?.profiles).toEqual(['dev']);
  });
});
