import { describe, expect, it } from '@jest/globals';
import { exampleDevSession, exampleImageBuild } from './examples.js';
import { validateDevSession, validateImageBuild, validateSessionRules, isDevSession } from './validate.js';
import { CEL } from './devsession.js';
import { CEL_EXACTLY_ONE_CONTEXT } from './common.js';
import type { DevSession } from './devsession.js';

type Mutation = (s: DevSession) => void;

// The images/deployments/pods used below exist in exampleDevSession(); the `!` keep the mutations short.
const img = (s: DevSession, i = 0) => s.spec.images![i]!;
const dep = (s: DevSession, i: number) => s.spec.deployments![i]!;
const pod = (s: DevSession, i = 0) => s.spec.dev!.pods![i]!;

function sessionIssues(mutate: Mutation) {
  const s = exampleDevSession();
  mutate(s);
  return validateDevSession(s);
}

describe('validateDevSession', () => {
  it('accepts the documented example', () => {
    expect(validateDevSession(exampleDevSession())).toEqual([]);
    expect(isDevSession(exampleDevSession())).toBe(true);
  });

  it('accepts a minimal session (only project)', () => {
    expect(validateDevSession({ apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 'x' }, spec: { project: 'x' } })).toEqual([]);
  });

  it.each<[string, Mutation, string]>([
    ['wrong kind', (s) => ((s as { kind: string }).kind = 'ImageBuild'), 'kind'],
    ['missing project', (s) => delete (s.spec as Partial<DevSession['spec']>).project, 'spec.project'],
    ['unknown spec field', (s) => ((s.spec as Record<string, unknown>).imagez = []), 'spec.imagez'],
    ['image name not DNS-1123', (s) => (img(s).name = 'My_Image'), 'spec.images[0].name'],
    ['bad upload digest', (s) => (img(s).context = { upload: { digest: 'md5:abc' } }), 'spec.images[0].context.upload.digest'],
    ['bad extra tag', (s) => (img(s).tags = ['has space']), 'spec.images[0].tags[0]'],
    ['deployment name too long', (s) => (dep(s, 0).name = 'a'.repeat(64)), 'spec.deployments[0].name'],
    ['port 0', (s) => (pod(s).ports = [{ localPort: 0, remotePort: 80 }]), 'spec.dev.pods[0].ports[0].localPort'],
    ['port 65536', (s) => (pod(s).ports = [{ localPort: 8080, remotePort: 65536 }]), 'spec.dev.pods[0].ports[0].remotePort'],
    ['non-integer port', (s) => (pod(s).ports = [{ localPort: 80.5, remotePort: 80 }]), 'spec.dev.pods[0].ports[0].localPort'],
    ['unknown initialSync', (s) => (pod(s).sync![0]!.initialSync = 'newest' as never), 'spec.dev.pods[0].sync[0].initialSync'],
    ['unknown phase', (s) => (s.status!.phase = 'Running' as never), 'status.phase'],
    ['condition status not True/False/Unknown', (s) => (s.status!.conditions![0]!.status = 'yes' as never), 'status.conditions[0].status'],
    ['condition time not RFC 3339', (s) => (s.status!.conditions![0]!.lastTransitionTime = 'yesterday'), 'status.conditions[0].lastTransitionTime'],
    ['chart archive not base64', (s) => (dep(s, 1).helm!.chart = { archive: 'not base64!' }), 'spec.deployments[1].helm.chart.archive'],
    ['quantity as boolean', (s) => (img(s).builder!.resources = { limits: { cpu: true as never } }), 'spec.images[0].builder.resources.limits.cpu'],
  ])('rejects %s', (_label, mutate, path) => {
    const issues = sessionIssues(mutate);
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it('reports every schema error at once (allErrors)', () => {
    const issues = sessionIssues((s) => {
      img(s).name = 'BAD';
      dep(s, 0).name = 'ALSO_BAD';
    });
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['spec.images[0].name', 'spec.deployments[0].name']));
  });

  it('accepts helm values of any shape (preserve-unknown-fields)', () => {
    expect(sessionIssues((s) => (dep(s, 1).helm!.values = { a: [1, { b: null }], c: 'x', d: { e: { f: true } } }))).toEqual([]);
  });
});

// One negative case per CEL rule; the test below checks that every rule has one.
const celCases: Array<[string, Mutation, string]> = [
  [CEL.imageContext.message, (s) => delete img(s).context, 'spec.images[0]'],
  [CEL_EXACTLY_ONE_CONTEXT.message, (s) => (img(s).context = { upload: { digest: `sha256:${'a'.repeat(64)}` }, git: { url: 'https://g' } }), 'spec.images[0].context'],
  [CEL.deploymentKind.message, (s) => (dep(s, 0).helm = { chart: { component: true } }), 'spec.deployments[0]'],
  [CEL.kubectlSource.message, (s) => delete dep(s, 0).kubectl!.manifests, 'spec.deployments[0].kubectl'],
  [CEL.chartSource.message, (s) => (dep(s, 1).helm!.chart = { component: true, name: 'nginx' }), 'spec.deployments[1].helm.chart'],
  [CEL.podSelector.message, (s) => (pod(s).selector = { imageName: 'api', labelSelector: { app: 'api' } }), 'spec.dev.pods[0].selector'],
];

describe('CEL mirrors', () => {
  it.each(celCases)('%s', (message, mutate, path) => {
    expect(sessionIssues(mutate)).toEqual([{ path, message }]);
  });

  it('has a negative case for every CEL rule of the DevSession schema', () => {
    const messages = [...Object.values(CEL).map((r) => r.message), CEL_EXACTLY_ONE_CONTEXT.message].sort();
    expect(celCases.map(([m]) => m).sort()).toEqual(messages);
  });

  it('accepts a skipped image without context and component: false beside a repo chart', () => {
    expect(
      sessionIssues((s) => {
        delete img(s, 2).context;
        dep(s, 1).helm!.chart = { component: false, name: 'nginx' };
      }),
    ).toEqual([]);
  });

  it('rejects a chart with nothing set and a selector with nothing set', () => {
    const s = exampleDevSession();
    dep(s, 1).helm!.chart = {};
    pod(s).selector = { containerName: 'api' };
    expect(validateSessionRules(s.spec).map((i) => i.path)).toEqual(['spec.deployments[1].helm.chart', 'spec.dev.pods[0].selector']);
  });

  it('rejects duplicate list-map keys as the apiserver does', () => {
    const issues = sessionIssues((s) => {
      img(s, 1).name = 'api';
      dep(s, 2).name = 'db';
    });
    expect(issues).toEqual([
      { path: 'spec.images[1].name', message: 'duplicate name "api"' },
      { path: 'spec.deployments[2].name', message: 'duplicate name "db"' },
    ]);
  });
});

describe('validateImageBuild', () => {
  it('accepts the documented example', () => {
    expect(validateImageBuild(exampleImageBuild())).toEqual([]);
  });
  it('accepts an ImageBuild without tag (git ref resolved by the operator)', () => {
    const b = exampleImageBuild();
    delete b.spec.tag;
    b.spec.context = { git: { url: 'https://g/x.git', ref: 'main' } };
    expect(validateImageBuild(b)).toEqual([]);
  });
  it('requires exactly one context source', () => {
    const b = exampleImageBuild();
    b.spec.context = {};
    expect(validateImageBuild(b)).toEqual([{ path: 'spec.context', message: CEL_EXACTLY_ONE_CONTEXT.message }]);
  });
  it.each<[string, (b: ReturnType<typeof exampleImageBuild>) => void, string]>([
    ['missing context', (b) => delete (b.spec as Partial<typeof b.spec>).context, 'spec.context'],
    ['bad phase', (b) => (b.status!.phase = 'Done' as never), 'status.phase'],
    ['negative duration', (b) => (b.status!.durationSeconds = -1), 'status.durationSeconds'],
    ['bad tag', (b) => (b.spec.tag = ':latest'), 'spec.tag'],
    ['missing metadata.name', (b) => delete (b.metadata as Partial<typeof b.metadata>).name, 'metadata.name'],
  ])('rejects %s', (_l, mutate, path) => {
    const b = exampleImageBuild();
    mutate(b);
    expect(validateImageBuild(b).map((i) => i.path)).toContain(path);
  });
});
