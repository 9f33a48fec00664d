// Variables (sources, precedence, typing, prompts, passwords) and profiles (patch syntax, parents,
// replace, merge, activation).
import { describe, expect, it, jest } from '@jest/globals';
import type { HelmDeploymentConfig } from '../../../api/src/model/project.js';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';
import { parsePatchPath } from './profiles.js';
import type { LoadOptions, PromptOptions } from './types.js';

const F = '/p/devspace.yaml';
const load = (yaml: string, extra: Partial<LoadOptions> = {}) =>
  loadProject({ configPath: F, fs: memFileReader({ [F]: yaml, '/p/Dockerfile': '' }), env: {}, checkFiles: false, username: 'alice', ...extra });

describe('variables', () => {
  const v1 = ['version: v1beta9', 'vars:', '- name: REPLICAS', '  default: "2"', '- name: SECRET', '  password: true', 'deployments:', '- name: d', '  helm:', '    componentChart: true', '    values:', '      replicas: ${REPLICAS}', '      text: $!{REPLICAS}', '      mixed: r-${REPLICAS}', '      token: ${SECRET}', '      literal: $${NOT_A_VAR}', ''].join('\n');

  it('precedence: --var > env > default; whole-string vars are typed unless $!{}', async () => {
    const a = await load(v1, { vars: { SECRET: 's3' } });
    expect((a.deployments[0] as HelmDeploymentConfig).values).toEqual({ replicas: 2, text: '2', mixed: 'r-2', token: 's3', literal: '${NOT_A_VAR}' });
    expect(a.vars).toEqual({ REPLICAS: '2' });
    const b = await load(v1, { vars: { SECRET: 's', REPLICAS: '5' }, env: { REPLICAS: '4' } });
    expect((b.deployments[0] as HelmDeploymentConfig).values.replicas).toBe(5);
    const c = await load(v1, { vars: { SECRET: 's' }, env: { REPLICAS: '4' } });
    expect((c.deployments[0] as HelmDeploymentConfig).values.replicas).toBe(4);
    const d = await load(v1, { vars: { SECRET: 's' }, env: { DEVSPACE_VAR_REPLICAS: '7' } });
    expect((d.deployments[0] as HelmDeploymentConfig).values.replicas).toBe(7);
  });

  it('prompts only on a TTY, with the question, options and default; password answers are not recorded', async () => {
    const prompt = jest.fn(async (_q: string, o: PromptOptions) => (o.name === 'SECRET' ? 'hunter2' : ''));
    const p = await load(v1, { isTTY: true, prompt });
    expect(prompt).toHaveBeenCalledWith('Please enter a value for SECRET', { name: 'SECRET', password: true });
    expect(prompt).toHaveBeenCalledWith('Please enter a value for REPLICAS', { name: 'REPLICAS', default: '2' });
    expect((p.deployments[0] as HelmDeploymentConfig).values.token).toBe('hunter2');
    expect(p.vars).toEqual({ REPLICAS: '2' });
    await expect(load(v1, { isTTY: false, prompt })).rejects.toThrow(/variable SECRET is not set/);
  });

  it('predefined variables and DSA_* aliases', async () => {
    const y = 'version: v2beta1\nname: demo\nimages:\n  a:\n    image: r/${DEVSPACE_USERNAME}/${DSA_NAME}\n    tags: ["${DEVSPACE_TIMESTAMP}", "${DEVSPACE_RANDOM}", "${DSA_RANDOM}", "${DEVSPACE_GIT_COMMIT}", "${DEVSPACE_NAMESPACE}"]\n';
    const p = await load(y, { now: new Date(1_700_000_000_000), random: () => 0.5, gitCommit: async () => 'abc1234', namespace: 'dev-alice' });
    expect(p.images[0]?.image).toBe('r/alice/demo');
    expect(p.images[0]?.tags).toEqual(['1700000000', 'ssssss', 'ssssss', 'abc1234', 'dev-alice']);
    await expect(load(y, { gitCommit: async () => 'x' })).rejects.toThrow(/images\.a\.tags\[4\]: variable DEVSPACE_NAMESPACE is not available/);
  });

  it('v2beta1 vars: static values referencing other vars, source none, $(command) refused', async () => {
    const y = 'version: v2beta1\nvars:\n  BASE: reg.io\n  IMG: ${BASE}/app\n  N:\n    source: none\n    default: 3\n  CMD: $(git rev-parse HEAD)\nimages:\n  a:\n    image: ${IMG}\n    buildArgs: {N: "${N}"}\n';
    const p = await load(y);
    expect(p.images[0]).toMatchObject({ image: 'reg.io/app', buildArgs: { N: '3' } });
    await expect(load(y.replace('${IMG}', '${CMD}'))).rejects.toThrow(/^\/p\/devspace\.yaml:8:3: vars\.CMD: variable CMD: command substitution/);
    await expect(load('version: v2beta1\nvars:\n  A: ${B}\n  B: ${A}\nimages: {x: {image: "${A}"}}\n')).rejects.toThrow(/refers to itself \(A -> B -> A\)/);
  });

  it('noCache: answers are never cached, with or without it: every load asks again (v1beta and v2beta1)', async () => {
    const configs = [
      ['version: v1beta9', 'vars:', '- name: NAME', '  question: Name?', '  noCache: false', 'images:', '  api: {image: "${NAME}"}', ''].join('\n'),
      ['version: v2beta1', 'vars:', '  NAME: {question: Name?, noCache: true}', 'images:', '  api: {image: "${NAME}"}', ''].join('\n'),
    ];
    for (const y of configs) {
      const prompt = jest.fn(async (_q: string, _o: PromptOptions) => 'reg/api');
      for (let i = 0; i < 2; i++) expect((await load(y, { isTTY: true, prompt })).images[0]?.image).toBe('reg/api');
      expect(prompt).toHaveBeenCalledTimes(2);
    }
  });

  it('options are offered to the prompt; runtime variables are left alone', async () => {
    const y = 'version: v1beta9\nvars:\n- name: SEL\n  question: Which?\n  options: [a, b]\ndeployments:\n- name: ${SEL}\n  kubectl: {manifests: ["${runtime.x}"]}\n';
    const prompt = jest.fn(async (_q: string, _o: PromptOptions) => 'b');
    const p = await load(y, { isTTY: true, prompt });
    expect(prompt).toHaveBeenCalledWith('Which?', { name: 'SEL', options: ['a', 'b'] });
    expect(p.deployments[0]?.name).toBe('b');
    expect((p.deployments[0] as { manifests: string[] }).manifests[0]).toBe('/p/${runtime.x}');
  });
});

describe('profiles', () => {
  it('parses DevSpace patch paths and JSON pointers', () => {
    expect(parsePatchPath('images.default.image')).toEqual([{ key: 'images' }, { key: 'default' }, { key: 'image' }]);
    expect(parsePatchPath('deployments[0].helm')).toEqual([{ key: 'deployments' }, { index: 0 }, { key: 'helm' }]);
    expect(parsePatchPath('images["svc.x"]')).toEqual([{ key: 'images' }, { key: 'svc.x' }]);
    expect(parsePatchPath('deployments[name=api]')).toEqual([{ key: 'deployments' }, { match: ['name', 'api'] }]);
    expect(parsePatchPath('/dev/ports/-')).toEqual([{ key: 'dev' }, { key: 'ports' }, { append: true }]);
    expect(parsePatchPath('/a~1b/0')).toEqual([{ key: 'a/b' }, { index: 0 }]);
    expect(parsePatchPath('images.*.image')).toMatch(/wildcards/);
    expect(parsePatchPath('images[')).toMatch(/bad bracket/);
  });

  const y = [
    'version: v1beta9',
    'images:',
    '  api: {image: api}',
    '  web: {image: web}',
    'deployments:',
    '- name: api',
    '  kubectl: {manifests: [a.yaml]}',
    '- name: web',
    '  kubectl: {manifests: [w.yaml]}',
    'dev:',
    '  ports:',
    '  - imageName: api',
    '    forward: [{port: 1000}]',
    'profiles:',
    '- name: base',
    '  patches:',
    '  - op: replace',
    '    path: images.api.image',
    '    value: api-prod',
    '  - op: add',
    '    path: dev.ports',
    '    value: {imageName: web, forward: [{port: 2000}]}',
    '- name: child',
    '  parent: base',
    '  patches:',
    '  - op: remove',
    '    path: deployments[name=web]',
    '  - op: add',
    '    path: /images/api/tags',
    '    value: [prod]',
    '  merge:',
    '    images:',
    '      web: {createPullSecret: true}',
    '- name: nodev',
    '  replace:',
    '    dev: {}',
    '',
  ].join('\n');

  it('applies parents first, patches (add appends to lists), merge and replace', async () => {
    const p = await load(y, { profiles: ['child'] });
    expect(p.profiles).toEqual(['base', 'child']);
    expect(p.images.map((i) => [i.name, i.image, i.tags, i.createPullSecret])).toEqual([
      ['api', 'api-prod', ['prod'], false],
      ['web', 'web', [], true],
    ]);
    expect(p.deployments.map((d) => d.name)).toEqual(['api']);
    expect(p.dev.pods.map((x) => [x.name, x.ports[0]?.localPort])).toEqual([
      ['api', 1000],
      ['web', 2000],
    ]);
    const q = await load(y, { profiles: ['nodev'] });
    expect(q.dev.pods).toEqual([]);
  });

  it('v1beta10 parents: each parent profile applies first, in order', async () => {
    const v1 = [
      'version: v1beta10',
      'images:',
      '  api: {image: api}',
      'profiles:',
      '- name: base',
      '  patches: [{op: replace, path: images.api.image, value: api-base}]',
      '- name: tags',
      '  patches: [{op: add, path: images.api.tags, value: [t1]}]',
      '- name: child',
      '  parents: [{profile: base}, {profile: tags}]',
      '  patches: [{op: replace, path: images.api.image, value: api-child}]',
      '',
    ].join('\n');
    const p = await load(v1, { profiles: ['child'] });
    expect(p.profiles).toEqual(['base', 'tags', 'child']);
    expect(p.images.map((i) => [i.image, i.tags])).toEqual([['api-child', ['t1']]]);
  });

  it('activation by environment or vars (v2beta1)', async () => {
    const v2 = [
      'version: v2beta1',
      'images:',
      '  web: {image: web}',
      'profiles:',
      '- name: auto',
      '  activation:',
      '  - env: {CI: "true|1"}',
      '  - vars: {STAGE: prod}',
      '  patches:',
      '  - op: replace',
      '    path: images["web"].image',
      '    value: web-ci',
      '',
    ].join('\n');
    expect((await load(v2, { env: { CI: '1' } })).images[0]?.image).toBe('web-ci');
    expect((await load(v2, { vars: { STAGE: 'prod' } })).profiles).toEqual(['auto']);
    expect((await load(v2, { env: { CI: 'no' } })).images[0]?.image).toBe('web');
  });
});
