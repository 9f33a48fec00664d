import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject } from '@kubernetes/client-node';
import { MAX_MANIFEST_BYTES, MAX_MANIFEST_OBJECTS, ManifestError, parseManifests } from './manifests.js';
import { decorateObjects } from './decorate.js';
import { deletionOrder, duplicates, inventoryEntry, inventoryKey, toPrune } from './inventory.js';

describe('parseManifests', () => {
  it('parses multi-document YAML, skips empty documents and flattens Lists', () => {
    const objs = parseManifests(
      `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n- {apiVersion: v1, kind: Service, metadata: {name: c}}\n`,
      'deployment x',
    );
    expect(objs.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(['ConfigMap/a', 'Secret/b', 'Service/c']);
  });

  it('blank text is no objects', () => {
    expect(parseManifests('', 's')).toEqual([]);
    expect(parseManifests('\n---\n', 's')).toEqual([]);
  });

  it.each([
    ['apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n', /invalid YAML in document 1/],
    ['kind: ConfigMap\nmetadata: {name: a}\n', /apiVersion is missing/],
    ['apiVersion: v1\nmetadata: {name: a}\n', /kind is missing/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {generateName: a-}\n', /no metadata.name/],
    ['- a\n- b\n', /got a list/],
  ])('rejects %j', (text, msg) => {
    expect(() => parseManifests(text, 'deployment x')).toThrow(ManifestError);
    expect(() => parseManifests(text, 'deployment x')).toThrow(msg);
  });
});

describe('parseManifests: hostile sizes', () => {
  const configMap = (keys: number, extra = '') => {
    const lines = ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: big', 'data:'];
    for (let i = 0; i < keys; i++) lines.push(`  k${i}: v${i}`);
    return lines.join('\n') + '\n' + extra;
  };

  it('an 80,000-key ConfigMap parses in linear time (the YAML library checks duplicate keys in O(n²): ~40 s)', () => {
    const text = configMap(80_000);
    const t = performance.now();
    const [cm] = parseManifests(text, 'deployment big');
    const ms = performance.now() - t;
    expect(Object.keys((cm as unknown as { data: object }).data)).toHaveLength(80_000);
    // 0.3 s for 40,000 keys, 1–2 s for 80,000 on a busy 2-core machine (before: 10 s and 40–130 s).
    expect(ms).toBeLessThan(6_000);
  });

  it('still rejects duplicate keys, at any depth, naming the key', () => {
    expect(() => parseManifests(configMap(10_000, '  k42: again\n'), 'deployment d')).toThrow(/deployment d: invalid YAML in document 1: duplicate key "k42"/);
    expect(() => parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, name: b}\n', 'd')).toThrow(/duplicate key "name"/);
    expect(() => parseManifests('apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: A, metadata: {name: a}, kind: B}\n', 'd')).toThrow(/duplicate key "kind"/);
    // the same key in sibling maps is fine
    expect(parseManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {name: x}}\ndata: {name: y}\n', 'd')).toHaveLength(1);
  });

  it('caps the text and the number of objects', () => {
    const huge = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: "${'x'.repeat(MAX_MANIFEST_BYTES)}"}\n`;
    expect(() => parseManifests(huge, 'helm template r')).toThrow(/helm template r: \d+ MiB of manifests, more than the 32 MiB allowed/);
    const many = Array.from({ length: MAX_MANIFEST_OBJECTS + 1 }, (_, i) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\n`).join('');
    expect(() => parseManifests(many, 'd')).toThrow(/more than 10000 objects/);
  });
});

describe('decorateObjects', () => {
  const opts = {
    session: 's1',
    sessionNamespace: 'dev',
    deployment: 'api',
    defaultNamespace: 'target',
    isNamespaced: (_: string, kind: string) => (kind === 'ClusterRole' ? false : kind === 'Weird' ? undefined : true),
  };
  it('labels, defaults the namespace, labels pod templates, leaves input alone', () => {
    const input: KubernetesObject[] = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { keep: 'me' } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'explicit' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'c', namespace: 'bogus' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { metadata: { labels: { app: 'd' } }, spec: {} } } } as KubernetesObject,
      { apiVersion: 'x/v1', kind: 'Weird', metadata: { name: 'e' } },
    ];
    const out = decorateObjects(input, opts);
    expect(out[0]!.metadata).toEqual({
      name: 'a',
      namespace: 'target',
      labels: { keep: 'me', 'app.kubernetes.io/managed-by': 'dsa', 'dsa.dev/session': 's1', 'dsa.dev/session-namespace': 'dev', 'dsa.dev/deployment': 'api' },
    });
    expect(out[1]!.metadata?.namespace).toBe('explicit');
    expect(out[2]!.metadata?.namespace).toBeUndefined();
    expect((out[3] as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels).toEqual({
      app: 'd',
      'dsa.dev/session': 's1',
      'dsa.dev/session-namespace': 'dev',
      'dsa.dev/deployment': 'api',
    });
    expect(out[4]!.metadata?.namespace).toBe('target');
    expect(input[0]!.metadata?.namespace).toBeUndefined();
  });
});

describe('inventory', () => {
  const e = (kind: string, name: string, apiVersion = 'v1', namespace = 'ns') => ({ apiVersion, kind, name, namespace, deployment: 'd' });
  it('keys ignore the version', () => {
    expect(inventoryKey(e('Deployment', 'a', 'apps/v1'))).toBe(inventoryKey(e('Deployment', 'a', 'apps/v1beta2')));
    expect(inventoryKey(e('Deployment', 'a', 'apps/v1'))).not.toBe(inventoryKey(e('Deployment', 'a', 'extensions/v1')));
  });
  it('toPrune returns what disappeared, newest first', () => {
    expect(toPrune([e('ConfigMap', 'a'), e('ConfigMap', 'b'), e('Secret', 'c')], [e('ConfigMap', 'b')])).toEqual([e('Secret', 'c'), e('ConfigMap', 'a')]);
  });
  it('detects duplicates', () => {
    expect(duplicates([e('ConfigMap', 'a'), e('ConfigMap', 'a')])).toHaveLength(1);
  });
  it('deletes namespaces and CRDs last', () => {
    const order = deletionOrder([e('CustomResourceDefinition', 'x', 'apiextensions.k8s.io/v1', ''), e('Namespace', 'n', 'v1', ''), e('ConfigMap', 'a'), e('Deployment', 'b', 'apps/v1')]);
    expect(order.map((x) => x.kind)).toEqual(['Deployment', 'ConfigMap', 'Namespace', 'CustomResourceDefinition']);
  });
  it('inventoryEntry', () => {
    expect(inventoryEntry({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } }, 'd')).toEqual({ apiVersion: 'v1', kind: 'Namespace', name: 'n', deployment: 'd' });
  });
});
