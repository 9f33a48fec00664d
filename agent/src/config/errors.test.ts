// One test per error kind, asserting the exact one-line `file:line:col: path: reason`.
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from './errors.js';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';
import type { LoadOptions } from './types.js';

const F = '/p/devspace.yaml';

async function errOf(yaml: string, extra: Partial<LoadOptions> = {}, files: Record<string, string | undefined> = {}): Promise<string> {
  // `undefined` removes a default file (the Dockerfile) from the fake file system.
  const all = Object.entries({ [F]: yaml, '/p/Dockerfile': 'FROM x', ...files }).filter((e): e is [string, string] => e[1] !== undefined);
  const fs = memFileReader(Object.fromEntries(all));
  try {
    await loadProject({ configPath: F, fs, env: {}, username: 'u', gitCommit: async () => 'c0ffee1', ...extra });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const ce = e as ConfigError;
    expect(ce.exitCode).toBe(2);
    expect(String(ce)).toBe(ce.message);
    expect(ce.message).toBe(`${ce.file}:${ce.line}:${ce.col}: ${ce.path ? `${ce.path}: ` : ''}${ce.reason}`);
    return ce.message;
  }
  throw new Error('expected a ConfigError');
}

describe('config errors', () => {
  it('YAML syntax error at its line:col', async () => {
    expect(await errOf('version: v2beta1\nimages:\n  api:\n    image: "unclosed\n')).toBe('/p/devspace.yaml:5:1: invalid YAML: Missing closing "quote');
    expect(await errOf('version: v2beta1\nname: a\nname: b\n')).toBe('/p/devspace.yaml:3:1: invalid YAML: Map keys must be unique');
  });

  it('unknown field, at the key, with a suggestion', async () => {
    expect(await errOf('version: v2beta1\nimages:\n  api:\n    image: x\n    dockerfil: ./Dockerfile\n')).toBe(
      '/p/devspace.yaml:5:5: images.api.dockerfil: unknown field "dockerfil" (did you mean "dockerfile"?)',
    );
  });

  it('a field from another config version', async () => {
    expect(await errOf('version: v1beta2\nimages:\n  api:\n    image: x\n    tags: [a]\n')).toBe(
      '/p/devspace.yaml:5:5: images.api.tags: unknown field "tags" in v1beta2 (DevSpace has it in v1beta7+)',
    );
  });

  it('wrong type, at the value', async () => {
    expect(await errOf('version: v2beta1\nimages:\n  api:\n    image: x\n    tags: 5\n')).toBe('/p/devspace.yaml:5:11: images.api.tags: must be a list, got the number 5');
    expect(await errOf('version: v1beta9\ndev:\n  sync:\n  - imageName: api\n    disableUpload: "yes"\nimages: {api: {image: x}}\n')).toBe(
      '/p/devspace.yaml:5:20: dev.sync[0].disableUpload: must be true or false, got the string "yes"',
    );
  });

  it('missing required field, at the owning map', async () => {
    expect(await errOf('version: v2beta1\nimages:\n  api:\n    tags: [a]\n')).toBe('/p/devspace.yaml:4:5: images.api.image: required field is missing');
  });

  it('bad port strings (v2beta1) and out-of-range ports (v1beta)', async () => {
    expect(await errOf('version: v2beta1\ndev:\n  api:\n    labelSelector: {app: api}\n    ports:\n    - port: "80a"\n')).toBe(
      '/p/devspace.yaml:6:13: dev.api.ports[0].port: "80a" is not a port (want "local[:remote]")',
    );
    expect(await errOf('version: v2beta1\ndev:\n  api:\n    labelSelector: {app: api}\n    ports:\n    - port: "8080:0"\n')).toBe(
      '/p/devspace.yaml:6:13: dev.api.ports[0].port: "8080:0" is not a port (want "local[:remote]")',
    );
    expect(await errOf('version: v1beta9\ndev:\n  ports:\n  - labelSelector: {app: x}\n    forward:\n    - port: 70000\n')).toBe(
      '/p/devspace.yaml:6:13: dev.ports[0].forward[0].port: must be at most 65535, got 70000',
    );
  });

  it('unsupported version and missing version', async () => {
    expect(await errOf('version: v1alpha4\n')).toBe('/p/devspace.yaml:1:10: version: unsupported config version "v1alpha4" (dsa reads v1beta2 … v1beta11 and v2beta1)');
    expect(await errOf('images: {}\n')).toBe('/p/devspace.yaml:1:1: version: required field is missing (e.g. version: v2beta1)');
    expect(await errOf('')).toBe('/p/devspace.yaml:1:1: the config is empty (it needs at least `version:`)');
    expect(await errOf('- a\n- b\n')).toBe('/p/devspace.yaml:1:1: the config must be a map of fields (version, images, deployments, …)');
  });

  it('missing config file', async () => {
    expect(await errOf('', { configPath: '/p/nope.yaml' })).toBe('/p/nope.yaml:1:1: config file not found');
  });

  it('missing referenced files: Dockerfile, manifests, chart, valuesFiles', async () => {
    expect(await errOf('version: v2beta1\nimages:\n  api:\n    image: x\n    dockerfile: api/Dockerfile\n')).toBe(
      '/p/devspace.yaml:5:17: images.api.dockerfile: Dockerfile /p/api/Dockerfile does not exist',
    );
    // The default ./Dockerfile is reported at the image.
    expect(await errOf('version: v2beta1\nimages:\n  api:\n    image: x\n', {}, { '/p/Dockerfile': undefined })).toBe(
      '/p/devspace.yaml:4:5: images.api.dockerfile: Dockerfile /p/Dockerfile does not exist',
    );
    expect(await errOf('version: v1beta9\ndeployments:\n- name: a\n  kubectl:\n    manifests:\n    - kube/*.yaml\n')).toBe(
      '/p/devspace.yaml:6:7: deployments[0].kubectl.manifests[0]: manifest pattern /p/kube/*.yaml matches no files',
    );
    expect(await errOf('version: v1beta9\ndeployments:\n- name: a\n  helm:\n    chart: {name: ./chart}\n')).toBe(
      '/p/devspace.yaml:5:19: deployments[0].helm.chart.name: chart folder /p/chart does not exist',
    );
    expect(await errOf('version: v2beta1\ndeployments:\n  a:\n    helm:\n      valuesFiles: [values.yaml]\n')).toBe(
      '/p/devspace.yaml:5:21: deployments.a.helm.valuesFiles[0]: values file /p/values.yaml does not exist',
    );
  });

  it('missing dependency folder', async () => {
    expect(await errOf('version: v2beta1\ndependencies:\n  db:\n    path: ../db\n')).toBe('/p/devspace.yaml:4:11: dependencies.db.path: dependency folder /db does not exist');
  });

  it('missing variable when stdin is not a terminal, at the place it is used', async () => {
    expect(await errOf('version: v2beta1\nimages:\n  api:\n    image: reg/${WHO}/api\n')).toBe(
      '/p/devspace.yaml:4:12: images.api.image: variable WHO is not set (pass --var WHO=…, set WHO in the environment, or run in a terminal to be asked)',
    );
    expect(await errOf('version: v1beta9\nvars:\n- name: WHO\n  source: env\nimages:\n  api:\n    image: reg/${WHO}/api\n')).toBe(
      '/p/devspace.yaml:7:12: images.api.image: variable WHO is not set (set WHO in the environment or pass --var WHO=…)',
    );
  });

  it('validationPattern, at the pattern', async () => {
    const y = 'version: v1beta9\nvars:\n- name: IMAGE\n  validationPattern: ^n.*$\n  validationMessage: must start with n\nimages:\n  api:\n    image: ${IMAGE}\n';
    expect(await errOf(y, { vars: { IMAGE: 'busybox' } })).toBe(
      '/p/devspace.yaml:4:22: vars[0].validationPattern: value "busybox" of variable IMAGE does not match ^n.*$ (must start with n)',
    );
  });

  it('refused fields', async () => {
    expect(await errOf('version: v2beta1\nimports:\n- path: other.yaml\n')).toBe(
      '/p/devspace.yaml:2:1: imports: not supported by dsa: imports are not supported yet; merge the imported config into devspace.yaml',
    );
  });

  it('values introduced by a profile patch point at the patch', async () => {
    const y = ['version: v1beta9', 'images:', '  api:', '    image: x', 'profiles:', '- name: bad', '  patches:', '  - op: replace', '    path: images.api.image', '    value: [1, 2]', ''].join('\n');
    expect(await errOf(y, { profiles: ['bad'] })).toBe('/p/devspace.yaml:10:12: images.api.image: must be a string, got a list');
    const y2 = ['version: v1beta9', 'images:', '  api:', '    image: x', 'profiles:', '- name: bad', '  patches:', '  - op: add', '    path: images.api.bogus', '    value: 1', ''].join('\n');
    expect(await errOf(y2, { profiles: ['bad'] })).toBe('/p/devspace.yaml:9:11: images.api.bogus: unknown field "bogus"');
  });

  it('unknown profile and bad patch paths', async () => {
    const y = 'version: v1beta9\nprofiles:\n- name: a\n  patches:\n  - op: remove\n    path: images.nope\n';
    expect(await errOf(y, { profiles: ['zzz'] })).toBe('/p/devspace.yaml:2:1: profiles: profile "zzz" not found (available: a)');
    expect(await errOf(y, { profiles: ['a'] })).toBe('/p/devspace.yaml:6:11: profiles[0].patches[0].path: "images.nope" not found in the config (no images)');
  });

  it('profile parent cycle', async () => {
    const y = 'version: v1beta9\nprofiles:\n- name: a\n  parent: b\n- name: b\n  parent: a\n';
    expect(await errOf(y, { profiles: ['a'] })).toBe('/p/devspace.yaml:4:11: profiles[0].parent: profile parents form a cycle: a -> b -> a');
  });

  it('dependency cycle names the cycle', async () => {
    const files = {
      '/w/a/devspace.yaml': 'version: v1beta9\ndependencies:\n- source:\n    path: ../b\n',
      '/w/b/devspace.yaml': 'version: v2beta1\ndependencies:\n  a:\n    path: ../a\n',
    };
    const fs = memFileReader(files);
    const e = await loadProject({ configPath: '/w/a/devspace.yaml', fs, env: {} }).catch((x: unknown) => x as ConfigError);
    expect(e).toBeInstanceOf(ConfigError);
    expect(String(e)).toBe('/w/b/devspace.yaml:4:11: dependencies.a.path: dependency cycle: a/devspace.yaml -> b/devspace.yaml -> a/devspace.yaml');
  });

  it('a deployment needs exactly one kind', async () => {
    expect(await errOf('version: v1beta9\ndeployments:\n- name: a\n')).toBe('/p/devspace.yaml:3:3: deployments[0]: needs one of component, helm, kubectl');
  });

  it('multi-line reasons stay on one line', async () => {
    const msg = await errOf('version: v2beta1\nimages:\n  api:\n    image: x\n    "a\\nb": 1\n');
    expect(msg).toBe('/p/devspace.yaml:5:5: images.api["a\\nb"]: unknown field "a\\nb"');
    expect(msg).not.toContain('\n');
  });
});
