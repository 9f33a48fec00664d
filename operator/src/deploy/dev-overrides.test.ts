import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevPod, SessionImage } from '@dsa/api';
import { BuiltImageIndex } from './tag-replacement.js';
import { applyDevOverrides, imageMatches, interactivePods } from './dev-overrides.js';

type Any = Record<string, any>;

const images: SessionImage[] = [{ name: 'api', image: 'registry.local:5000/team/api' }];
const built = new BuiltImageIndex({ 'registry.local:5000/team/api': 'dsa-1' });

function deployment(name: string, containers: Array<{ name: string; image: string }>, labels: Record<string, string> = { app: name }, namespace = 'dev'): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { template: { metadata: { labels }, spec: { containers: containers.map((c) => ({ ...c, args: ['--old'], readinessProbe: { exec: { command: ['true'] } } })) } } },
  } as KubernetesObject;
}

const base = { images, interactive: false, sessionNamespace: 'dev', built };

describe('applyDevOverrides', () => {
  it('patches the container selected by imageName, and annotates the template', () => {
    const objs = [deployment('api', [{ name: 'sidecar', image: 'busybox' }, { name: 'api', image: 'registry.local:5000/team/api:dsa-1' }]), deployment('other', [{ name: 'x', image: 'nginx' }])];
    const devPods: DevPod[] = [{ name: 'api', selector: { imageName: 'api' }, devImage: 'registry.local:5000/team/api', command: ['npm'], workingDir: '/app', env: [{ name: 'DEBUG', value: '1' }] }];
    const { objects, applied } = applyDevOverrides(objs, { ...base, devPods });
    const tpl = (objects[0] as Any).spec.template;
    expect(tpl.spec.containers[0]).toEqual((objs[0] as Any).spec.template.spec.containers[0]);
    expect(tpl.spec.containers[1]).toMatchObject({ image: 'registry.local:5000/team/api:dsa-1', command: ['npm'], workingDir: '/app', env: [{ name: 'DEBUG', value: '1' }] });
    expect(tpl.spec.containers[1].args).toBeUndefined();
    expect(JSON.parse(tpl.metadata.annotations['dsa.dev/dev-override'])).toEqual([{ devPod: 'api', container: 'api', fields: ['image', 'command', 'workingDir', 'env'] }]);
    expect(objects[1]).toBe(objs[1]);
    expect(applied).toEqual([{ devPod: 'api', kind: 'Deployment', namespace: 'dev', name: 'api', container: 'api', fields: ['image', 'command', 'workingDir', 'env'] }]);
    // input untouched
    expect((objs[0] as Any).spec.template.metadata.annotations).toBeUndefined();
  });

  it('args and resources replace the container\'s (the image\'s command is kept)', () => {
    const objs = [deployment('api', [{ name: 'api', image: 'registry.local:5000/team/api:dsa-1' }])];
    (objs[0] as Any).spec.template.spec.containers[0].args = ['--prod'];
    (objs[0] as Any).spec.template.spec.containers[0].resources = { limits: { cpu: '4' } };
    const devPods: DevPod[] = [{ name: 'api', selector: { imageName: 'api' }, args: ['--dev'], resources: { requests: { memory: '1Gi' }, limits: { cpu: '1' } } }];
    const { objects, applied } = applyDevOverrides(objs, { ...base, devPods });
    const c = (objects[0] as Any).spec.template.spec.containers[0];
    expect(c).toMatchObject({ args: ['--dev'], resources: { requests: { memory: '1Gi' }, limits: { cpu: '1' } } });
    expect(c.command).toBeUndefined();
    expect(applied).toEqual([expect.objectContaining({ container: 'api', fields: ['args', 'resources'] })]);
  });

  it('labelSelector + containerName, env merge, namespace must match', () => {
    const objs = [deployment('web', [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }], { app: 'web', tier: 'fe' }), deployment('web', [{ name: 'b', image: 'y' }], { app: 'web' }, 'elsewhere')];
    (objs[0] as Any).spec.template.spec.containers[1].env = [{ name: 'KEEP', value: 'k' }, { name: 'OVER', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
    const devPods: DevPod[] = [{ name: 'web', selector: { labelSelector: { app: 'web' }, containerName: 'b' }, env: [{ name: 'OVER', value: 'v' }, { name: 'NEW', value: 'n' }] }];
    const { objects, applied } = applyDevOverrides(objs, { ...base, devPods });
    expect((objects[0] as Any).spec.template.spec.containers[1].env).toEqual([
      { name: 'KEEP', value: 'k' },
      { name: 'OVER', value: 'v' },
      { name: 'NEW', value: 'n' },
    ]);
    expect(objects[1]).toBe(objs[1]);
    expect(applied).toHaveLength(1);
  });

  it('interactive mode sleeps the container and drops probes', () => {
    const objs = [deployment('api', [{ name: 'api', image: 'registry.local:5000/team/api:dsa-1' }])];
    const devPods: DevPod[] = [{ name: 'api', selector: { imageSelector: 'registry.local:5000/team/api' }, terminal: { enabled: true } }];
    const { objects } = applyDevOverrides(objs, { ...base, interactive: true, devPods });
    const c = (objects[0] as Any).spec.template.spec.containers[0];
    expect(c.command).toEqual(['sleep']);
    expect(c.args).toEqual(['999999999']);
    expect(c.readinessProbe).toBeUndefined();
    // Without interactive nothing happens: the dev pod has no overrides.
    expect(applyDevOverrides(objs, { ...base, devPods }).objects[0]).toBe(objs[0]);
  });

  it('bare Pods and other kinds are left alone', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'dev' }, spec: { containers: [{ name: 'c', image: 'registry.local:5000/team/api' }] } } as KubernetesObject;
    const { objects, applied } = applyDevOverrides([pod], { ...base, devPods: [{ name: 'api', selector: { imageName: 'api' }, command: ['x'] }] });
    expect(objects[0]).toBe(pod);
    expect(applied).toEqual([]);
  });
});

describe('selection helpers', () => {
  it('imageMatches', () => {
    const byName: DevPod = { name: 'p', selector: { imageName: 'api' } };
    expect(imageMatches(byName, images, 'registry.local:5000/team/api:anything')).toBe(true);
    expect(imageMatches(byName, images, 'registry.local:5000/team/web')).toBe(false);
    expect(imageMatches({ name: 'p', selector: { imageName: 'nope' } }, images, 'registry.local:5000/team/api')).toBe(false);
    const tagged: DevPod = { name: 'p', selector: { imageSelector: 'nginx:1.25' } };
    expect(imageMatches(tagged, images, 'docker.io/library/nginx:1.25')).toBe(true);
    expect(imageMatches(tagged, images, 'nginx:1.26')).toBe(false);
  });
  it('interactivePods prefers pods with a terminal, else the first', () => {
    const a: DevPod = { name: 'a', selector: { imageName: 'x' } };
    const b: DevPod = { name: 'b', selector: { imageName: 'x' }, terminal: { enabled: true } };
    expect([...interactivePods([a, b], true)]).toEqual(['b']);
    expect([...interactivePods([a], true)]).toEqual(['a']);
    expect([...interactivePods([a, b], false)]).toEqual([]);
  });
});
