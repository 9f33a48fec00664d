import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { KubernetesObject } from '@kubernetes/client-node';
import { isUntagged, normalizeRepository, parseImageRef } from './image-ref.js';
import { BuiltImageIndex, replaceImageTags, replaceInHelmValues, WORKLOAD_POD_SPEC_PATH, getIn } from './tag-replacement.js';

describe('parseImageRef', () => {
  it.each([
    ['nginx', { repository: 'nginx' }],
    ['nginx:1.25', { repository: 'nginx', tag: '1.25' }],
    ['registry.local:5000/team/api', { repository: 'registry.local:5000/team/api' }],
    ['registry.local:5000/team/api:v1', { repository: 'registry.local:5000/team/api', tag: 'v1' }],
    ['localhost:5000/api@sha256:abc', { repository: 'localhost:5000/api', digest: 'sha256:abc' }],
    ['repo:tag@sha256:abc', { repository: 'repo', tag: 'tag', digest: 'sha256:abc' }],
  ])('%s', (ref, want) => {
    expect(parseImageRef(ref)).toEqual(want);
  });

  it('port is not a tag', () => {
    expect(isUntagged('host:5000/repo')).toBe(true);
    expect(isUntagged('host:5000/repo:1')).toBe(false);
    expect(isUntagged('repo@sha256:0')).toBe(false);
  });

  it('normalizes docker hub spellings only', () => {
    expect(normalizeRepository('nginx')).toBe('docker.io/library/nginx');
    expect(normalizeRepository('docker.io/nginx')).toBe('docker.io/library/nginx');
    expect(normalizeRepository('index.docker.io/library/nginx')).toBe('docker.io/library/nginx');
    expect(normalizeRepository('team/api')).toBe('docker.io/team/api');
    expect(normalizeRepository('Registry.Local:5000/team/api')).toBe('registry.local:5000/team/api');
    expect(normalizeRepository('localhost/api')).toBe('localhost/api');
  });

  it('round-trips repo[:tag][@digest] (property)', () => {
    const seg = fc.stringMatching(/^[a-z0-9]{1,8}$/);
    fc.assert(
      fc.property(
        fc.option(fc.tuple(seg, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })), { nil: undefined }),
        fc.array(seg, { minLength: 1, maxLength: 3 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/), { nil: undefined }),
        fc.option(fc.stringMatching(/^[a-f0-9]{64}$/), { nil: undefined }),
        (host, path, tag, digest) => {
          const hostPart = host ? `${host[0]}.local${host[1] !== undefined ? `:${host[1]}` : ''}/` : '';
          const repository = `${hostPart}${path.join('/')}`;
          const ref = `${repository}${tag !== undefined ? `:${tag}` : ''}${digest !== undefined ? `@sha256:${digest}` : ''}`;
          const p = parseImageRef(ref);
          expect(p.repository).toBe(repository);
          expect(p.tag).toBe(tag);
          expect(p.digest).toBe(digest !== undefined ? `sha256:${digest}` : undefined);
        },
      ),
    );
  });
});

const built = { 'registry.local:5000/team/api': 'dsa-abc123', nginx: 'dev' };

function workload(kind: string, images: { containers: string[]; initContainers?: string[] }): KubernetesObject {
  const podSpec = {
    containers: images.containers.map((image, i) => ({ name: `c${i}`, image })),
    ...(images.initContainers ? { initContainers: images.initContainers.map((image, i) => ({ name: `i${i}`, image })) } : {}),
  };
  const path = WORKLOAD_POD_SPEC_PATH[kind]!;
  let body: Record<string, unknown> = podSpec;
  for (const k of [...path].reverse()) body = { [k]: body };
  return { apiVersion: 'x/v1', kind, metadata: { name: 'w' }, ...body } as KubernetesObject;
}

describe('replaceImageTags', () => {
  it.each(['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'])('%s containers and initContainers', (kind) => {
    const obj = workload(kind, { containers: ['registry.local:5000/team/api', 'busybox'], initContainers: ['nginx'] });
    const { objects, replaced } = replaceImageTags([obj], built);
    const spec = getIn(objects[0], WORKLOAD_POD_SPEC_PATH[kind]!) as { containers: Array<{ image: string }>; initContainers: Array<{ image: string }> };
    expect(spec.containers.map((c) => c.image)).toEqual(['registry.local:5000/team/api:dsa-abc123', 'busybox']);
    expect(spec.initContainers.map((c) => c.image)).toEqual(['nginx:dev']);
    expect(replaced).toHaveLength(2);
    // input untouched
    const orig = getIn(obj, WORKLOAD_POD_SPEC_PATH[kind]!) as { containers: Array<{ image: string }> };
    expect(orig.containers[0]!.image).toBe('registry.local:5000/team/api');
  });

  it('leaves explicit tags, digests and other repositories alone', () => {
    const obj = workload('Deployment', {
      containers: ['registry.local:5000/team/api:pinned', 'registry.local:5000/team/api@sha256:' + '0'.repeat(64), 'registry.local:5000/team/api2', 'registry.local/team/api'],
    });
    const { objects, replaced } = replaceImageTags([obj], built);
    expect(replaced).toEqual([]);
    expect(objects[0]).toBe(obj);
  });

  it('matches Docker Hub spellings and keeps the user spelling', () => {
    const obj = workload('Pod', { containers: ['docker.io/library/nginx'] });
    const { objects } = replaceImageTags([obj], built);
    expect((getIn(objects[0], ['spec', 'containers']) as Array<{ image: string }>)[0]!.image).toBe('docker.io/library/nginx:dev');
  });

  it('does not touch other kinds, even with an image field', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { image: 'nginx' } } as KubernetesObject;
    expect(replaceImageTags([cm], built).objects[0]).toBe(cm);
  });
});

describe('replaceInHelmValues', () => {
  it('replaces every matching string value, anywhere', () => {
    const values = { image: 'registry.local:5000/team/api', nested: { list: ['nginx', 'nginx:1', { deep: 'nginx' }] }, n: 3, other: 'registry.local:5000/team/api:v2' };
    const out = replaceInHelmValues(values, built);
    expect(out).toEqual({
      image: 'registry.local:5000/team/api:dsa-abc123',
      nested: { list: ['nginx:dev', 'nginx:1', { deep: 'nginx:dev' }] },
      n: 3,
      other: 'registry.local:5000/team/api:v2',
    });
    expect(values.image).toBe('registry.local:5000/team/api');
  });

  it('returns the same tree when nothing matches', () => {
    const values = { a: { b: ['x'] } };
    expect(replaceInHelmValues(values, built)).toBe(values);
    expect(replaceInHelmValues(values, {})).toBe(values);
  });

  it('BuiltImageIndex.resolve', () => {
    const idx = new BuiltImageIndex(built);
    expect(idx.resolve('nginx')).toBe('nginx:dev');
    expect(idx.resolve('nginx:2')).toBe('nginx:2');
    expect(idx.resolve('')).toBe('');
  });
});
