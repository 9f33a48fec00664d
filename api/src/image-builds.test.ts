import { describe, expect, it } from '@jest/globals';
import { desiredImageBuilds, imageBuildName, knownContextDigest } from './image-builds.js';
import { buildTag, gitContextDigest, PLACEHOLDER_DIGEST } from './hash.js';
import { exampleDevSession, EXAMPLE_DIGEST } from './v1alpha1/examples.js';
import { validateImageBuild } from './v1alpha1/validate.js';
import { LABELS } from './constants.js';
import type { DevSession } from './v1alpha1/devsession.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function session(mutate: (s: DevSession) => void = () => {}): DevSession {
  const s = exampleDevSession();
  mutate(s);
  return s;
}

describe('desiredImageBuilds', () => {
  it('derives one ImageBuild per non-skipped image, in spec order, named <session>-<image>', () => {
    const builds = desiredImageBuilds(session());
    expect(builds.map((b) => b.metadata.name)).toEqual(['quickstart-api', 'quickstart-worker']);
    for (const b of builds) expect(validateImageBuild(b)).toEqual([]);
  });

  it('copies build inputs and computes the content-addressed tag from the upload digest', () => {
    const [api] = desiredImageBuilds(session());
    expect(api!.spec).toEqual({
      image: 'registry.local:5000/team/api',
      tag: buildTag({ contextDigest: EXAMPLE_DIGEST, dockerfile: 'Dockerfile', buildArgs: { NODE_ENV: 'development' }, target: 'dev', entrypoint: ['node'], cmd: ['server.js'] }),
      tags: ['dev'],
      context: { upload: { digest: EXAMPLE_DIGEST } },
      dockerfile: 'Dockerfile',
      buildArgs: { NODE_ENV: 'development' },
      target: 'dev',
      entrypoint: ['node'],
      cmd: ['server.js'],
      registry: { insecure: true, pushSecret: 'regcred', pullSecret: 'regcred' },
      builder: { cache: true, args: ['--snapshot-mode=redo'], resources: { limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: 1 } } },
    });
  });

  it('changes the tag when a build input changes', () => {
    const a = desiredImageBuilds(session())[0]!.spec.tag;
    const b = desiredImageBuilds(session((s) => (s.spec.images![0]!.buildArgs = { NODE_ENV: 'production' })))[0]!.spec.tag;
    expect(a).toMatch(/^dsa-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
  });

  it('leaves the tag out for a git branch ref (the operator resolves it) and computes it for a pinned commit', () => {
    const builds = desiredImageBuilds(session());
    expect('tag' in builds[1]!.spec).toBe(false);
    const pinned = desiredImageBuilds(session((s) => (s.spec.images![1]!.context = { git: { url: 'https://g/w.git', ref: COMMIT, subPath: 'worker' } })));
    expect(pinned[1]!.spec.tag).toBe(buildTag({ contextDigest: gitContextDigest('https://g/w.git', COMMIT, 'worker') }));
  });

  it('leaves the tag out for the placeholder digest', () => {
    const builds = desiredImageBuilds(session((s) => (s.spec.images![0]!.context = { upload: { digest: PLACEHOLDER_DIGEST } })));
    expect(builds[0]!.spec.tag).toBeUndefined();
  });

  it('labels and owns them when the session uid is known', () => {
    const [api] = desiredImageBuilds(session());
    expect(api!.metadata).toEqual({
      name: 'quickstart-api',
      namespace: 'dev-alice',
      labels: {
        [LABELS.managedBy]: 'dsa',
        [LABELS.session]: 'quickstart',
        [LABELS.sessionNamespace]: 'dev-alice',
        [LABELS.image]: 'api',
        [LABELS.component]: 'image-build',
      },
      ownerReferences: [
        { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', name: 'quickstart', uid: '2f1c4a8e-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true },
      ],
    });
  });

  it('omits ownerReferences without a uid (render) and across namespaces', () => {
    expect(desiredImageBuilds(session((s) => delete s.metadata.uid))[0]!.metadata.ownerReferences).toBeUndefined();
    const cross = desiredImageBuilds(session((s) => (s.spec.images![0]!.builder = { namespace: 'build' })))[0]!;
    expect(cross.metadata.namespace).toBe('build');
    expect(cross.metadata.ownerReferences).toBeUndefined();
    expect(cross.metadata.labels![LABELS.session]).toBe('quickstart');
    // Same namespace spelled out still gets the owner reference.
    const same = desiredImageBuilds(session((s) => (s.spec.images![0]!.builder = { namespace: 'dev-alice' })))[0]!;
    expect(same.metadata.ownerReferences).toHaveLength(1);
  });

  it('builds nothing for a session without images or with only skipped ones', () => {
    expect(desiredImageBuilds(session((s) => delete s.spec.images))).toEqual([]);
    expect(desiredImageBuilds(session((s) => s.spec.images!.forEach((i) => (i.skip = true))))).toEqual([]);
  });

  it('does not include fields that are unset (so SSA does not claim them)', () => {
    const worker = desiredImageBuilds(session())[1]!;
    expect(Object.keys(worker.spec).sort()).toEqual(['context', 'image']);
  });
});

describe('imageBuildName', () => {
  it('is <session>-<image> when short and a stable ≤63-char DNS label otherwise', () => {
    expect(imageBuildName('quickstart', 'api')).toBe('quickstart-api');
    const long = imageBuildName('a'.repeat(50), 'b'.repeat(20));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(imageBuildName('a'.repeat(50), 'b'.repeat(20))).toBe(long);
    expect(imageBuildName('a'.repeat(50), 'b'.repeat(21))).not.toBe(long);
  });
});

describe('knownContextDigest', () => {
  it('knows uploads and pinned commits only', () => {
    expect(knownContextDigest({ upload: { digest: EXAMPLE_DIGEST } })).toBe(EXAMPLE_DIGEST);
    expect(knownContextDigest({ git: { url: 'u', ref: COMMIT } })).toBe(`git:u#${COMMIT}:`);
    expect(knownContextDigest({ git: { url: 'u', ref: 'main' } })).toBeUndefined();
    expect(knownContextDigest({ git: { url: 'u', ref: COMMIT.toUpperCase() } })).toBeUndefined();
    expect(knownContextDigest({ git: { url: 'u' } })).toBeUndefined();
  });
});
