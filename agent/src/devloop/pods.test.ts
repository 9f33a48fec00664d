import { describe, expect, it } from '@jest/globals';
import { LABELS, type DevSession } from '@dsa/api';
import { RuntimeError, UsageError } from '../errors.js';
import { FakeKube, pod, session } from '../session/fake-kube.test-util.js';
import { containerIn, imageMatches, parseLabelSelector, rankPods, repositoryOf, resolvePodTarget, targetFromStatus } from './pods.js';

function devSession(): DevSession {
  const s = session('web', {
    dev: {
      pods: [
        { name: 'worker', selector: { labelSelector: { app: 'worker' } }, logs: { enabled: false } },
        { name: 'api', selector: { imageName: 'api' }, terminal: { command: ['bash'] } },
      ],
    },
  });
  s.status = {
    pods: [
      { devPod: 'worker', pod: 'worker-1', container: 'main', namespace: 'dev' },
      { devPod: 'api', pod: 'api-7c9', container: 'api', namespace: 'dev' },
    ],
  };
  return s;
}

describe('parseLabelSelector', () => {
  it('parses equality selectors', () => {
    expect(parseLabelSelector('app=api, tier==web,dsa.dev/session=x')).toEqual({ app: 'api', tier: 'web', 'dsa.dev/session': 'x' });
  });
  it.each(['app', 'app!=api', 'app in (a,b)', ','])('rejects %j', (sel) => {
    expect(() => parseLabelSelector(sel)).toThrow(UsageError);
  });
});

describe('images', () => {
  it('repositoryOf strips tag and digest, not a registry port', () => {
    expect(repositoryOf('reg:5000/a/b:dsa-1@sha256:abc')).toBe('reg:5000/a/b');
    expect(repositoryOf('reg:5000/a/b')).toBe('reg:5000/a/b');
  });
  it('an untagged selector matches any tag of the repository; a tagged one only itself', () => {
    expect(imageMatches('reg:5000/a/b:dsa-1', 'reg:5000/a/b')).toBe(true);
    expect(imageMatches('reg:5000/a/b:dsa-1', 'reg:5000/a/b:dsa-2')).toBe(false);
    expect(imageMatches('reg:5000/a/bc:1', 'reg:5000/a/b')).toBe(false);
  });
});

describe('rankPods', () => {
  it('keeps running pods, ready first, then newest', () => {
    const ranked = rankPods([
      pod('old-ready', { created: '2026-01-01T00:00:00Z' }),
      pod('pending', { phase: 'Pending' }),
      pod('new-unready', { ready: false, created: '2026-01-03T00:00:00Z' }),
      pod('new-ready', { created: '2026-01-02T00:00:00Z' }),
    ]);
    expect(ranked.map((p) => p.metadata?.name)).toEqual(['new-ready', 'old-ready', 'new-unready']);
  });
});

describe('containerIn', () => {
  const p = pod('x', { containers: [{ name: 'sidecar' }, { name: 'app' }] });
  it('uses -c when the pod has it, else the preferred one, else the first', () => {
    expect(containerIn(p, 'app')).toBe('app');
    expect(containerIn(p, undefined, 'app')).toBe('app');
    expect(containerIn(p, undefined, 'nope')).toBe('sidecar');
  });
  it('names the containers when -c does not exist', () => {
    expect(() => containerIn(p, 'db')).toThrow('pod x has no container "db" (containers: sidecar, app)');
  });
});

describe('targetFromStatus', () => {
  it('prefers the dev pod with a terminal for enter, one with logs for logs', () => {
    expect(targetFromStatus(devSession(), { prefer: 'terminal' })).toEqual({ namespace: 'dev', pod: 'api-7c9', container: 'api', devPod: 'api' });
    expect(targetFromStatus(devSession(), { prefer: 'logs' })?.pod).toBe('api-7c9');
    expect(targetFromStatus(devSession(), { devPod: 'worker', container: 'debug' })).toEqual({ namespace: 'dev', pod: 'worker-1', container: 'debug', devPod: 'worker' });
  });
  it('is undefined while the operator has published no pod', () => {
    const s = devSession();
    s.status = {};
    expect(targetFromStatus(s, {})).toBeUndefined();
  });
});

describe('resolvePodTarget', () => {
  const kube = new FakeKube();
  kube.pods = [
    pod('api-7c9', { labels: { app: 'api', [LABELS.session]: 'web' }, containers: [{ name: 'api', image: 'reg/api:dsa-1' }] }),
    pod('worker-1', { labels: { app: 'worker', [LABELS.session]: 'web' }, containers: [{ name: 'main', image: 'reg/worker:2' }] }),
  ];

  it('--pod wins and checks the container', async () => {
    expect(await resolvePodTarget(kube, 'dev', devSession(), { pod: 'worker-1' }, 'terminal')).toEqual({ namespace: 'dev', pod: 'worker-1', container: 'main' });
    await expect(resolvePodTarget(kube, 'dev', devSession(), { pod: 'nope' }, 'terminal')).rejects.toThrow('pod nope not found in namespace dev');
  });

  it('-l picks the best running pod with those labels', async () => {
    expect(await resolvePodTarget(kube, 'dev', undefined, { labelSelector: 'app=worker' }, 'logs')).toEqual({ namespace: 'dev', pod: 'worker-1', container: 'main' });
    await expect(resolvePodTarget(kube, 'dev', undefined, { labelSelector: 'app=none' }, 'logs')).rejects.toThrow(RuntimeError);
  });

  it('--image-selector finds the container running the image', async () => {
    expect(await resolvePodTarget(kube, 'dev', undefined, { imageSelector: 'reg/api' }, 'logs')).toEqual({ namespace: 'dev', pod: 'api-7c9', container: 'api' });
  });

  it('defaults to the session status, and explains when there is no session', async () => {
    expect(await resolvePodTarget(kube, 'dev', devSession(), {}, 'terminal')).toMatchObject({ pod: 'api-7c9', container: 'api' });
    await expect(resolvePodTarget(kube, 'dev', undefined, {}, 'terminal')).rejects.toMatchObject({ message: 'no DevSession for this project in namespace dev' });
  });

  it('falls back to any running pod the session deployed when it has no dev pods', async () => {
    const s = session('web');
    expect(await resolvePodTarget(kube, 'dev', s, {}, 'logs')).toMatchObject({ namespace: 'dev' });
    const empty = new FakeKube();
    await expect(resolvePodTarget(empty, 'dev', s, {}, 'logs')).rejects.toThrow('DevSession web has no running pod');
  });
});
