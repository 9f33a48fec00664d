import { describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, type DevSession } from '@dsa/api';
import { ClusterError, ValidationError } from '../errors.js';
import { applySessions, namespacesOf, sessionForApply } from './apply.js';
import { FakeKube, session } from './fake-kube.test-util.js';

const withImage = (name: string, ns = 'dev', builderNs?: string): DevSession =>
  session(name, { images: [{ name: 'app', image: 'reg/app', context: { upload: { digest: `sha256:${'a'.repeat(64)}` } }, ...(builderNs ? { builder: { namespace: builderNs } } : {}) }] }, ns);

describe('sessionForApply', () => {
  it('drops status and leaves annotations alone without -d', () => {
    const s = { ...session('a'), status: { phase: 'Ready' as const } };
    const out = sessionForApply(s);
    expect(out.status).toBeUndefined();
    expect(out.metadata.annotations).toBeUndefined();
    expect(s.status).toEqual({ phase: 'Ready' }); // input untouched
  });

  it('-d sets requested-at to now, keeping other annotations', () => {
    const s = session('a');
    s.metadata.annotations = { [ANNOTATIONS.owner]: 'me@host' };
    const out = sessionForApply(s, { forceDeploy: true, now: () => new Date('2026-03-04T05:06:07Z') });
    expect(out.metadata.annotations).toEqual({ [ANNOTATIONS.owner]: 'me@host', [ANNOTATIONS.requestedAt]: '2026-03-04T05:06:07.000Z' });
  });
});

describe('namespacesOf', () => {
  it('lists session and build namespaces once, in order', () => {
    expect(namespacesOf([withImage('dep', 'shared', 'build'), withImage('root', 'dev'), session('x', {}, 'dev')])).toEqual(['shared', 'build', 'dev']);
  });
});

describe('applySessions', () => {
  it('creates missing namespaces, then applies in the given order (dependencies first)', async () => {
    const kube = new FakeKube();
    const lines: string[] = [];
    const applied = await applySessions(kube, [session('dep', {}, 'other'), session('root')], { log: (l) => lines.push(l) });
    expect(kube.calls).toEqual(['ns other', 'ns dev', 'apply other/dep', 'apply dev/root']);
    expect(applied.map((s) => s.metadata.generation)).toEqual([1, 1]);
    expect(lines).toContain('created namespace other');
  });

  it('applies a session\'s secret-variable Secret before it, then again owned by it', async () => {
    const s = session('root');
    s.spec.secretVars = { secretName: 'root-secret-vars', names: ['DB'] };
    const secret = { apiVersion: 'v1' as const, kind: 'Secret' as const, metadata: { name: 'root-secret-vars', namespace: 'dev' }, stringData: { DB: 'hunter2' } };
    const other = { ...secret, metadata: { ...secret.metadata, name: 'other-secret-vars' } };
    const kube = new FakeKube();
    await applySessions(kube, [session('dep'), s], { secrets: [other, secret] });
    expect(kube.calls).toEqual(['ns dev', 'apply dev/dep', 'secret dev/root-secret-vars', 'apply dev/root', 'secret dev/root-secret-vars owner root']);
    expect(kube.secrets.get('dev/root-secret-vars')?.metadata.ownerReferences).toEqual([{ apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', name: 'root', uid: 'uid-root' }]);
    expect(JSON.stringify(kube.sessions.get('dev/root'))).not.toContain('hunter2');
  });

  it('a Secret the user may not write: a ClusterError naming it and the right that is missing', async () => {
    const s = session('root');
    s.spec.secretVars = { secretName: 'root-secret-vars', names: ['DB'] };
    const kube = new FakeKube();
    kube.applyError = Object.assign(new Error('secrets "root-secret-vars" is forbidden'), { code: 403 });
    const err = await applySessions(kube, [s], { secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'root-secret-vars', namespace: 'dev' }, stringData: { DB: 'x' } }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).message).toMatch(/^applying Secret dev\/root-secret-vars \(the project's secret variables\): forbidden/);
    expect((err as ClusterError).hint).toBe('your account needs create and patch on secrets in namespace dev');
    expect(kube.sessions.size).toBe(0);
  });

  it('maps a missing CRD to a ClusterError that says what to install', async () => {
    const kube = new FakeKube();
    kube.applyError = Object.assign(new Error('HTTP-Code: 404'), { code: 404 });
    const err = await applySessions(kube, [session('root')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect(err).toMatchObject({ message: 'the DevSession CRD is not installed in this cluster', hint: 'install the operator with make deploy' });
  });

  it('maps an apiserver rejection to a ValidationError quoting its message', async () => {
    const kube = new FakeKube();
    kube.applyError = Object.assign(new Error('HTTP-Code: 422'), { code: 422, body: JSON.stringify({ message: 'spec.images[0]: context is required unless skip is true' }) });
    const err = await applySessions(kube, [session('root')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe('DevSession dev/root was rejected by the apiserver: spec.images[0]: context is required unless skip is true');
  });
});
