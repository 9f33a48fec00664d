import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { ProjectConfig } from '@dsa/api';
import { packChart } from './pack-chart.js';
import { renderProjectFromDisk } from './render-from-disk.js';

async function tarNames(b64: string): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      names.push(header.name);
      stream.on('end', next);
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(gunzipSync(Buffer.from(b64, 'base64')));
  await done;
  return names;
}

function withDir(fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dsa-render-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

describe('packChart', () => {
  it(
    'packs the chart under <basename>/, sorted, honouring .helmignore, byte-identical across runs',
    withDir(async (dir) => {
      const chart = path.join(dir, 'mychart');
      mkdirSync(path.join(chart, 'templates'), { recursive: true });
      mkdirSync(path.join(chart, 'tmp'), { recursive: true });
      writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: mychart\nversion: 0.1.0\n');
      writeFileSync(path.join(chart, 'values.yaml'), 'a: 1\n');
      writeFileSync(path.join(chart, 'templates', 'cm.yaml'), 'kind: ConfigMap\n');
      writeFileSync(path.join(chart, 'tmp', 'junk'), 'x');
      writeFileSync(path.join(chart, 'notes.bak'), 'x');
      writeFileSync(path.join(chart, '.helmignore'), 'tmp/\n*.bak\n');
      const a = await packChart(chart);
      expect(await tarNames(a)).toEqual(['mychart/.helmignore', 'mychart/Chart.yaml', 'mychart/templates/cm.yaml', 'mychart/values.yaml']);
      expect(await packChart(chart)).toBe(a);
    }),
  );
});

describe('renderProjectFromDisk', () => {
  it(
    'computes digests per image, reads manifests and values from disk and packs local charts once',
    withDir(async (dir) => {
      writeFileSync(path.join(dir, 'deploy.yaml'), 'kind: Deployment\n');
      writeFileSync(path.join(dir, 'values.yaml'), 'x: 1\n');
      const digestCalls: string[] = [];
      const packed: string[] = [];
      const project: ProjectConfig = {
        name: 'app',
        configPath: path.join(dir, 'devspace.yaml'),
        dir,
        sourceVersion: 'v2beta1',
        profiles: [],
        vars: {},
        images: [
          { name: 'api', image: 'r/api', tags: [], dockerfile: path.join(dir, 'Dockerfile'), context: dir, buildArgs: {}, requestedEngine: 'kaniko', kaniko: {}, createPullSecret: false, skipPush: false, disabled: false },
          { name: 'off', image: 'r/off', tags: [], dockerfile: path.join(dir, 'Dockerfile'), context: dir, buildArgs: {}, requestedEngine: 'kaniko', kaniko: {}, createPullSecret: false, skipPush: false, disabled: true },
        ],
        deployments: [
          { kind: 'kubectl', name: 'k', updateImageTags: true, manifests: [path.join(dir, 'deploy.yaml')], kustomize: false },
          { kind: 'helm', name: 'h1', updateImageTags: true, chart: { path: path.join(dir, 'chart') }, values: {}, valuesFiles: [path.join(dir, 'values.yaml')] },
          { kind: 'helm', name: 'h2', updateImageTags: true, chart: { path: path.join(dir, 'chart') }, values: {}, valuesFiles: [] },
        ],
        dev: { pods: [], interactive: false, open: [] },
        dependencies: [],
        hooks: [],
        commands: [],
        warnings: [],
      };
      const result = await renderProjectFromDisk(project, {
        namespace: 'ns',
        owner: { user: 'u', host: 'h' },
        contextDigest: async (ctx, dockerfile) => {
          digestCalls.push(`${ctx}|${dockerfile}`);
          return `sha256:${'c'.repeat(64)}`;
        },
        packChart: async (d) => {
          packed.push(d);
          return 'Y2hhcnQ=';
        },
      });
      expect(digestCalls).toEqual([`${dir}|${path.join(dir, 'Dockerfile')}`]);
      expect(packed).toEqual([path.join(dir, 'chart')]);
      const spec = result.sessions[0]!.spec;
      expect(spec.images![0]!.context).toEqual({ upload: { digest: `sha256:${'c'.repeat(64)}` } });
      expect(spec.deployments!.map((d) => d.kubectl?.manifests ?? d.helm?.chart.archive)).toEqual([['kind: Deployment\n'], 'Y2hhcnQ=', 'Y2hhcnQ=']);
      expect(spec.deployments![1]!.helm!.values).toEqual({ x: 1 });
      expect(result.imageBuilds.map((b) => b.metadata.name)).toEqual(['app-api']);
    }),
  );
});
