import { describe, expect, it } from '@jest/globals';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { SessionDeployment } from '@dsa/api';
import { StallError } from './errors.js';
import { ToolFailedError, type CommandRunner } from './exec.js';
import type { GitFetcher } from './git-source.js';
import { HelmRenderer, helmTemplateArgs } from './helm.js';
import { KustomizeRenderer } from './kustomize.js';
import { renderDeployment, type RenderContext } from './render.js';
import { BuiltImageIndex } from './tag-replacement.js';

const built = new BuiltImageIndex({ 'reg/api': 't1' });

function ctx(over: Partial<RenderContext> & { run?: CommandRunner } = {}): RenderContext {
  const run: CommandRunner = over.run ?? (async () => '');
  return { namespace: 'dev', built, helm: new HelmRenderer({ helmPath: 'helm', run }), kustomize: new KustomizeRenderer(undefined, run), ...over };
}

describe('renderDeployment', () => {
  it('kubectl inline manifests render as written (container tags are the tag-replacement transform\'s)', async () => {
    const dep: SessionDeployment = { name: 'd', kubectl: { manifests: ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: reg/api}]}\n'] } };
    const r = await renderDeployment(dep, ctx());
    expect((r.objects[0] as any).spec.containers[0].image).toBe('reg/api');
  });

  it('helm values are not rewritten with updateImageTags: false', async () => {
    const r = await renderDeployment({ name: 'web', updateImageTags: false, helm: { chart: { component: true }, values: { containers: [{ image: 'reg/api' }] } } }, ctx());
    expect((r.objects[0] as any).spec.template.spec.containers[0].image).toBe('reg/api');
  });

  it('component chart with helm values replaced before rendering', async () => {
    const r = await renderDeployment({ name: 'web', helm: { chart: { component: true }, values: { containers: [{ image: 'reg/api' }] } } }, ctx());
    expect(r.objects.map((o) => o.kind)).toEqual(['Deployment']);
    expect((r.objects[0] as any).spec.template.spec.containers[0].image).toBe('reg/api:t1');
  });

  it('repo chart: runs helm template with replaced values in a values file, parses its output', async () => {
    let seen: { file: string; args: readonly string[]; values: unknown } | undefined;
    const run: CommandRunner = async (file, args) => {
      const vf = args[args.indexOf('--values') + 1]!;
      seen = { file, args, values: JSON.parse(await import('node:fs/promises').then((f) => f.readFile(vf, 'utf8'))) };
      return 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-helm}\n';
    };
    const r = await renderDeployment({ name: 'n', helm: { releaseName: 'rel', chart: { name: 'nginx', repo: 'https://charts.example', version: '1.2.3' }, values: { image: 'reg/api' } } }, ctx({ run }));
    expect(r.objects.map((o) => o.metadata?.name)).toEqual(['from-helm']);
    expect(seen!.args.slice(0, 8)).toEqual(['template', 'rel', 'nginx', '--repo', 'https://charts.example', '--version', '1.2.3', '--namespace']);
    expect(seen!.values).toEqual({ image: 'reg/api:t1' });
  });

  it('helm timeoutSeconds bounds the helm template run (default 120 s)', async () => {
    const timeouts: Array<number | undefined> = [];
    const run: CommandRunner = async (_file, _args, opts) => {
      timeouts.push(opts?.timeoutMs);
      return 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-helm}\n';
    };
    await renderDeployment({ name: 'n', helm: { chart: { name: 'nginx', repo: 'https://charts.example' }, timeoutSeconds: 7 } }, ctx({ run }));
    await renderDeployment({ name: 'n', helm: { chart: { name: 'nginx', repo: 'https://charts.example' } } }, ctx({ run }));
    expect(timeouts).toEqual([7_000, 120_000]);
  });

  it('a missing chart stalls with ChartNotFound and a slow retry; a non-tgz archive without retry', async () => {
    const run: CommandRunner = async () => {
      throw new ToolFailedError('helm', 'Error: chart "nope" not found in https://charts.example repository', 1);
    };
    const err = await renderDeployment({ name: 'n', helm: { chart: { name: 'nope', repo: 'https://charts.example' } } }, ctx({ run })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StallError);
    expect(err).toMatchObject({ reason: 'ChartNotFound', retryAfterMs: 60_000 });
    expect((err as Error).message).toMatch(/deployment n: helm template nope from https:\/\/charts.example: .*not found/);
    const bad = await renderDeployment({ name: 'a', helm: { chart: { archive: Buffer.from('not a tgz').toString('base64') } } }, ctx()).catch((e: unknown) => e);
    expect(bad).toMatchObject({ reason: 'ChartNotFound', retryAfterMs: undefined });
  });

  it('archive charts are written to a temp .tgz that helm receives', async () => {
    let chartArg = '';
    const run: CommandRunner = async (_f, args) => {
      chartArg = args[2]!;
      return '';
    };
    await renderDeployment({ name: 'a', helm: { chart: { archive: gzipSync(Buffer.from('x')).toString('base64') } } }, ctx({ run }));
    expect(chartArg).toMatch(/chart\.tgz$/);
  });

  it('kubectl from git reads yaml/json files under paths, sorted, and never follows links out', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'dsa-render-test-'));
    try {
      await mkdir(join(repo, 'k8s/sub'), { recursive: true });
      await writeFile(join(repo, 'k8s/b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n');
      await writeFile(join(repo, 'k8s/sub/a.json'), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}');
      await writeFile(join(repo, 'k8s/README.md'), '# not a manifest');
      await symlink('/etc/hostname', join(repo, 'k8s/link.yaml'));
      let cleaned = false;
      const git: GitFetcher = { checkout: async () => ({ dir: repo, cleanup: async () => void (cleaned = true) }) };
      const r = await renderDeployment({ name: 'g', kubectl: { git: { url: 'https://git.example/r.git', paths: ['k8s'] } } }, ctx({ git }));
      expect(r.objects.map((o) => o.metadata?.name)).toEqual(['b', 'a']);
      expect(cleaned).toBe(true);
      await expect(renderDeployment({ name: 'g', kubectl: { git: { url: 'u', paths: ['../etc'] } } }, ctx({ git }))).rejects.toMatchObject({ reason: 'InvalidSpec' });
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  it('helm from git: the chart at path inside the checkout of url@ref is templated, the checkout removed; a path out of it is refused', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'dsa-render-test-'));
    try {
      await mkdir(join(repo, 'charts/web'), { recursive: true });
      const fetched: Array<[string, string | undefined]> = [];
      let cleaned = false;
      const git: GitFetcher = {
        checkout: async (url, ref) => {
          fetched.push([url, ref]);
          return { dir: repo, cleanup: async () => void (cleaned = true) };
        },
      };
      let args: readonly string[] = [];
      const run: CommandRunner = async (_f, a) => {
        args = a;
        return 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-git-chart}\n';
      };
      const r = await renderDeployment({ name: 'web', helm: { chart: { git: { url: 'https://git.example/charts.git', ref: 'v1.2.0', path: 'charts/web' } } } }, ctx({ git, run }));
      expect(r.objects.map((o) => o.metadata?.name)).toEqual(['from-git-chart']);
      expect(fetched).toEqual([['https://git.example/charts.git', 'v1.2.0']]);
      expect(args.slice(0, 3)).toEqual(['template', 'web', join(repo, 'charts/web')]);
      expect(cleaned).toBe(true);
      await expect(renderDeployment({ name: 'web', helm: { chart: { git: { url: 'u', path: '../../etc' } } } }, ctx({ git, run }))).rejects.toMatchObject({ reason: 'InvalidSpec' });
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  it('git failures and missing kustomize stall with a message', async () => {
    const git: GitFetcher = { checkout: async () => Promise.reject(new Error('connect ECONNREFUSED')) };
    await expect(renderDeployment({ name: 'g', kubectl: { git: { url: 'https://git.example/r.git' } } }, ctx({ git }))).rejects.toMatchObject({ reason: 'GitFetchFailed', retryAfterMs: 60_000 });
    await expect(renderDeployment({ name: 'g', kubectl: { git: { url: 'u' } } }, ctx())).rejects.toMatchObject({ reason: 'GitFetchFailed' });
    await expect(renderDeployment({ name: 'k', kubectl: { git: { url: 'u', kustomize: true } } }, ctx({ git }))).rejects.toThrow(/kustomize is not available/);
  });

  it('helmTemplateArgs for a local chart', () => {
    expect(helmTemplateArgs({ release: 'r', namespace: 'n', chart: { kind: 'path', path: '/c' }, values: {} }, '/v.json')).toEqual([
      'template', 'r', '/c', '--namespace', 'n', '--values', '/v.json', '--include-crds', '--skip-tests',
    ]);
  });
});
