// Each transform of the deploy pipeline alone, with a plain DeployContext (no cluster, no mocks).
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevSession, SessionDeployment } from '@dsa/api';
import { silentLogger } from '../log.js';
import { StallError } from './errors.js';
import { PERMISSIVE_CONFINEMENT, TransformError, runTransforms, type DeployContext, type Transform } from './pipeline.js';
import { BuiltImageIndex } from './tag-replacement.js';
import { DEFAULT_TRANSFORMS, confinement, confinementViolation, decorate, devOverrides, insertTransform, namespacedLookup, tagReplacement } from './transforms.js';

type Any = Record<string, any>;
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole']);

function ctx(over: Partial<DeployContext> & { spec?: Partial<DevSession['spec']>; dep?: Partial<SessionDeployment> } = {}): DeployContext & { lookups: string[] } {
  const lookups: string[] = [];
  const session: DevSession = { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 's', namespace: 'dev' }, spec: { project: 's', ...over.spec } };
  const { spec: _s, dep, ...rest } = over;
  return {
    session,
    deployment: { name: 'web', kubectl: { manifests: [] }, ...dep },
    sessionNamespace: 'dev',
    targetNamespace: 'dev',
    built: new BuiltImageIndex({ 'reg/api': 't1' }),
    image: () => undefined,
    imageConfigs: { config: async () => undefined },
    capabilities: { nativeSidecars: true },
    isNamespaced: async (_a, kind) => {
      lookups.push(kind);
      return kind === 'Widget' ? undefined : !CLUSTER_SCOPED.has(kind);
    },
    confinement: PERMISSIVE_CONFINEMENT,
    log: silentLogger(),
    lookups,
    ...rest,
  };
}

const pod = (image: string, ns?: string): KubernetesObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...(ns ? { namespace: ns } : {}) }, spec: { containers: [{ name: 'c', image }] } } as KubernetesObject);
const deployment = (image: string): KubernetesObject =>
  ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' }, spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image }] } } } }) as KubernetesObject;

describe('tag-replacement', () => {
  it('gives untagged built references the built tag; updateImageTags: false leaves them', async () => {
    const input = [pod('reg/api'), pod('reg/api:pinned')];
    const out = await tagReplacement.run(input, ctx());
    expect(out.map((o) => (o as Any).spec.containers[0].image)).toEqual(['reg/api:t1', 'reg/api:pinned']);
    expect((input[0] as Any).spec.containers[0].image).toBe('reg/api');
    const off = await tagReplacement.run(input, ctx({ dep: { updateImageTags: false } }));
    expect((off[0] as Any).spec.containers[0].image).toBe('reg/api');
  });
});

describe('decorate', () => {
  it('labels objects and pod templates, defaults the namespace of namespaced kinds, asks discovery once per kind', async () => {
    const c = ctx({ targetNamespace: 'apps' });
    const out = await decorate.run([deployment('x'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'oops' } }, pod('y'), pod('z', 'explicit')], c);
    expect(out[0]!.metadata).toMatchObject({ namespace: 'apps', labels: { 'dsa.dev/session': 's', 'dsa.dev/session-namespace': 'dev', 'dsa.dev/deployment': 'web', 'app.kubernetes.io/managed-by': 'dsa' } });
    expect((out[0] as Any).spec.template.metadata.labels).toEqual({ app: 'api', 'dsa.dev/session': 's', 'dsa.dev/session-namespace': 'dev', 'dsa.dev/deployment': 'web' });
    expect(out[1]!.metadata?.namespace).toBeUndefined();
    expect(out[2]!.metadata?.namespace).toBe('apps');
    expect(out[3]!.metadata?.namespace).toBe('explicit');
    expect(c.lookups).toEqual(['Deployment', 'Namespace', 'Pod']);
  });

  it('namespacedLookup: unknown kinds answer undefined', async () => {
    const look = await namespacedLookup([{ apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w' } }], ctx());
    expect(look('x/v1', 'Widget')).toBeUndefined();
  });
});

describe('dev-overrides', () => {
  it('patches the selected container from spec.dev.pods', async () => {
    const c = ctx({ spec: { images: [{ name: 'api', image: 'reg/api' }], dev: { pods: [{ name: 'api', selector: { imageName: 'api' }, command: ['npm', 'run', 'dev'] }] } } });
    const out = await devOverrides.run([deployment('reg/api:t1')], c);
    expect((out[0] as Any).spec.template.spec.containers[0].command).toEqual(['npm', 'run', 'dev']);
    expect((out[0] as Any).spec.template.metadata.annotations['dsa.dev/dev-override']).toContain('"devPod":"api"');
  });
});

describe('confinement', () => {
  const objs: KubernetesObject[] = [pod('a', 'dev'), pod('b', 'other'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } }];
  const namespaced = (_a: string, k: string) => (k === 'Widget' ? undefined : !CLUSTER_SCOPED.has(k));

  it('names the first refused object; permissive allows everything', () => {
    expect(confinementViolation(objs, PERMISSIVE_CONFINEMENT, 'dev', namespaced)).toBeUndefined();
    expect(confinementViolation(objs, { allowCrossNamespace: false, allowClusterScoped: true }, 'dev', namespaced)).toMatch(/^Pod other\/p: objects outside the session's namespace dev are not allowed/);
    expect(confinementViolation(objs, { allowCrossNamespace: true, allowClusterScoped: false }, 'dev', namespaced)).toMatch(/^Namespace n: cluster-scoped objects are not allowed/);
    // An unknown kind with a namespace is judged as namespaced.
    expect(confinementViolation([{ apiVersion: 'x/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'elsewhere' } }], { allowCrossNamespace: false, allowClusterScoped: false }, 'dev', namespaced)).toMatch(/Widget elsewhere\/w/);
  });

  it('stalls with ObjectNotAllowed as a transform', async () => {
    const err = await confinement.run(objs, ctx({ confinement: { allowCrossNamespace: false, allowClusterScoped: false } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StallError);
    expect(err).toMatchObject({ reason: 'ObjectNotAllowed', message: expect.stringContaining('deployment web: Pod other/p') });
    expect(await confinement.run(objs, ctx())).toEqual(objs);
  });
});

describe('the pipeline', () => {
  it('runs the default transforms in order, each seeing the previous one\'s output', async () => {
    // The order the steps depend on: tags, then labels, then overrides, …, confinement last (it judges what is applied).
    const names = DEFAULT_TRANSFORMS.map((t) => t.name);
    expect(names.slice(0, 3)).toEqual(['tag-replacement', 'decorate', 'dev-overrides']);
    expect(names.at(-1)).toBe('confinement');
    const order: string[] = [];
    const spy = (name: string): Transform => ({ name, run: async (o, c) => (order.push(`${name}:${(o[0] as Any).spec.containers[0].image}:${o[0]!.metadata?.labels?.['dsa.dev/session'] ?? '-'}:${c.capabilities.nativeSidecars}`), [...o]) });
    let list = insertTransform(DEFAULT_TRANSFORMS, spy('after-tags'), { after: 'tag-replacement' });
    list = insertTransform(list, spy('after-overrides'), { after: 'dev-overrides' });
    expect(list.map((t) => t.name).slice(0, 5)).toEqual(['tag-replacement', 'after-tags', 'decorate', 'dev-overrides', 'after-overrides']);
    const out = await runTransforms(list, [pod('reg/api')], ctx());
    expect(order).toEqual(['after-tags:reg/api:t1:-:true', 'after-overrides:reg/api:t1:s:true']);
    expect(out[0]!.metadata?.namespace).toBe('dev');
    expect(() => insertTransform(list, spy('x'), { after: 'nope' })).toThrow(/no transform named nope/);
  });

  it('a transform that returns no list is a bug, said so', async () => {
    const broken: Transform = { name: 'broken', run: async () => undefined as unknown as KubernetesObject[] };
    await expect(runTransforms([broken], [], ctx())).rejects.toThrow(TransformError);
  });
});
