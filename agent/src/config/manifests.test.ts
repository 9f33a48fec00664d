// kubectl manifests: files, folders (kubectl -f <dir>: *.yaml/*.yml/*.json, not recursive, byte order) and
// globs, on a real folder and on generated trees.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadProject } from './load.js';
import { expandManifests, folderManifests, isManifestFile } from './manifests.js';
import { memFileReader } from './mem-fs.js';
import { nodeFileReader } from './node-fs.js';
import type { KubectlDeploymentConfig } from '../../../api/src/model/project.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-manifests-'));
  // DevSpace's quickstart layout, plus what kubectl skips in a folder.
  for (const [f, text] of Object.entries({
    'kube/deployment.yaml': 'kind: Deployment\n',
    'kube/service.yml': 'kind: Service\n',
    'kube/B-config.json': '{"kind":"ConfigMap"}\n',
    'kube/README.md': '# not a manifest\n',
    'kube/kustomization.yaml.bak': 'x\n',
    'kube/nested/ingress.yaml': 'kind: Ingress\n',
    'other/a.yaml': 'kind: Secret\n',
    'other/notes.txt': 'x\n',
    'single.manifest': 'kind: Pod\n',
  })) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), text);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kubectl manifests: folders and globs as kubectl -f reads them', () => {
  it('a folder: its .yaml/.yml/.json files only, not sub-folders, in byte order (upper case first)', async () => {
    expect(await folderManifests(nodeFileReader, path.join(dir, 'kube'))).toEqual(['B-config.json', 'deployment.yaml', 'service.yml'].map((f) => path.join(dir, 'kube', f)));
  });

  it('entries keep their order; a named file is taken whatever its extension; each file once', async () => {
    const r = await expandManifests(nodeFileReader, [path.join(dir, 'single.manifest'), path.join(dir, 'kube'), path.join(dir, 'kube/service.yml'), path.join(dir, 'other')]);
    expect(r).toEqual({
      ok: true,
      files: [path.join(dir, 'single.manifest'), ...['B-config.json', 'deployment.yaml', 'service.yml'].map((f) => path.join(dir, 'kube', f)), path.join(dir, 'other/a.yaml')],
    });
  });

  it('globs: DevSpace style `kube/*` and `kube/**` equal the folder; `**/` reaches sub-folders; a matched folder is read; non-manifests are dropped', async () => {
    const star = await expandManifests(nodeFileReader, [path.join(dir, 'kube/*')]);
    expect(await expandManifests(nodeFileReader, [path.join(dir, 'kube/**')])).toEqual(star);
    expect(star).toEqual(await expandManifests(nodeFileReader, [path.join(dir, 'kube')]));
    const deep = await expandManifests(nodeFileReader, [path.join(dir, 'kube/**/*.yaml')]);
    expect(deep).toEqual({ ok: true, files: [path.join(dir, 'kube/deployment.yaml'), path.join(dir, 'kube/nested/ingress.yaml')] });
    expect(await expandManifests(nodeFileReader, [path.join(dir, 'k*/nest?d')])).toEqual({ ok: true, files: [path.join(dir, 'kube/nested/ingress.yaml')] });
  });

  it('a folder or glob without manifests is an error naming it', async () => {
    await mkdir(path.join(dir, 'empty'), { recursive: true });
    expect(await expandManifests(nodeFileReader, [path.join(dir, 'empty')])).toEqual({ ok: false, entry: path.join(dir, 'empty'), reason: expect.stringContaining('has no .yaml, .yml or .json file') });
    expect(await expandManifests(nodeFileReader, [path.join(dir, 'other/*.txt')])).toMatchObject({ ok: false, reason: expect.stringContaining('matches no .yaml, .yml or .json file') });
  });

  it('the loader: `manifests: [kube]` (DevSpace quickstart) lists the files; an empty folder is a config error with its position', async () => {
    await writeFile(path.join(dir, 'devspace.yaml'), 'version: v2beta1\nname: q\ndeployments:\n  app:\n    kubectl:\n      manifests:\n      - kube\n      - other/*\n');
    const p = await loadProject({ configPath: path.join(dir, 'devspace.yaml'), env: {} });
    expect((p.deployments[0] as KubectlDeploymentConfig).manifests.map((f) => path.relative(dir, f))).toEqual(['kube/B-config.json', 'kube/deployment.yaml', 'kube/service.yml', 'other/a.yaml']);
    await writeFile(path.join(dir, 'devspace.yaml'), 'version: v1beta9\ndeployments:\n- name: app\n  kubectl:\n    manifests:\n    - empty/\n');
    await expect(loadProject({ configPath: path.join(dir, 'devspace.yaml'), env: {} })).rejects.toThrow(/devspace\.yaml:6:7: deployments\[0\]\.kubectl\.manifests\[0\]: folder .*empty has no \.yaml/);
  });

  it('kustomize: a trailing kustomization.yaml or * names the folder, as DevSpace strips them', async () => {
    await mkdir(path.join(dir, 'overlay'), { recursive: true });
    await writeFile(path.join(dir, 'overlay/kustomization.yaml'), 'resources: []\n');
    await writeFile(path.join(dir, 'devspace.yaml'), 'version: v2beta1\nname: k\ndeployments:\n  a: {kubectl: {kustomize: true, manifests: [overlay/kustomization.yaml]}}\n  b: {kubectl: {kustomize: true, manifests: [overlay/*], kustomizeBinaryPath: ./bin/kustomize}}\n');
    const p = await loadProject({ configPath: path.join(dir, 'devspace.yaml'), env: {} });
    expect(p.deployments.map((d) => (d as KubectlDeploymentConfig).manifests)).toEqual([[path.join(dir, 'overlay')], [path.join(dir, 'overlay')]]);
    expect((p.deployments[1] as KubectlDeploymentConfig).kustomizeBinaryPath).toBe(path.join(dir, 'bin/kustomize'));
  });

  it('helm: a packed chart (.tgz) is a local chart file, a folder a chart folder, anything else a repo chart', async () => {
    await mkdir(path.join(dir, 'charts/app'), { recursive: true });
    await writeFile(path.join(dir, 'charts/app/Chart.yaml'), 'apiVersion: v2\nname: app\nversion: 0.1.0\n');
    await writeFile(path.join(dir, 'app-0.1.0.tgz'), 'x');
    await writeFile(
      path.join(dir, 'devspace.yaml'),
      'version: v1beta9\ndeployments:\n- {name: a, helm: {chart: {name: ./app-0.1.0.tgz}}}\n- {name: b, helm: {chart: {name: charts/app}}}\n- {name: c, helm: {chart: {name: nginx, repo: "http://charts.local"}}}\n- {name: d, helm: {chart: {name: ./missing-1.0.0.tgz}}}\n',
    );
    await expect(loadProject({ configPath: path.join(dir, 'devspace.yaml'), env: {} })).rejects.toThrow(/deployments\[3\]\.helm\.chart\.name: chart archive .*missing-1\.0\.0\.tgz does not exist/);
    await writeFile(path.join(dir, 'devspace.yaml'), (await import('node:fs')).readFileSync(path.join(dir, 'devspace.yaml'), 'utf8').replace(/- \{name: d.*\n/, ''));
    const p = await loadProject({ configPath: path.join(dir, 'devspace.yaml'), env: {} });
    expect(p.deployments.map((d) => (d.kind === 'helm' ? d.chart : undefined))).toEqual([{ path: path.join(dir, 'app-0.1.0.tgz') }, { path: path.join(dir, 'charts/app') }, { name: 'nginx', repo: 'http://charts.local' }]);
  });

  it('property: a folder yields exactly its manifest-named files, sorted by bytes, whatever the names', async () => {
    const name = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((n) => n !== '.' && n !== '..');
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.tuple(name, fc.constantFrom('.yaml', '.yml', '.json', '.txt', '.YAML', '')), { maxLength: 20, selector: ([n, e]) => n + e }), async (entries) => {
        const files = Object.fromEntries(entries.map(([n, e]) => [`/t/d/${n}${e}`, 'x']));
        const fs = memFileReader(files, ['/t/d']);
        const got = await folderManifests(fs, '/t/d');
        const want = Object.keys(files)
          .filter((f) => isManifestFile(f))
          .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(got).toEqual(want);
      }),
    );
  });
});
