// The docker builder through the real dockerode client against a loopback server that speaks the few Docker
// Engine API calls it makes: what DevSpace's docker options become on the wire (buildArgs, target, network as
// networkmode, every tag), and that skipPush sends no push. The real daemon is the full-node tier's
// (test-e2e/suites/node/local-builds.test.ts); this pins the options without one.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareContext } from '@dsa/api/build-context';
import { dockerodeApi } from './docker-api.js';
import { dockerBuildAndPush, type DockerBuildJob } from './docker-builder.js';
import { fakeDockerDaemon } from './fake-docker-daemon.test-util.js';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function project(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dsa-docker-api-'));
  writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY app.txt /\n');
  writeFileSync(path.join(dir, 'app.txt'), 'hello\n');
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('docker builds through dockerode', () => {
  const job = (dir: string, over: Partial<DockerBuildJob>): DockerBuildJob => ({
    name: 'api',
    image: '127.0.0.1:5999/team/api',
    tags: ['dsa-0123456789ab', 'dev'],
    contextDir: dir,
    dockerfile: 'Dockerfile',
    buildArgs: { NODE_ENV: 'development' },
    target: 'dev',
    network: 'host',
    skipPush: false,
    ...over,
  });

  it('buildArgs, target, network (networkmode) and every tag reach the daemon; skipPush sends no push', async () => {
    const { port, seen, close } = await fakeDockerDaemon();
    cleanups.push(close);
    const api = await dockerodeApi({ kind: 'tcp', host: '127.0.0.1', port, tls: false });
    const deps = { api, prepare: (c: string, d: string) => prepareContext(c, d), log: () => undefined, output: () => undefined, signal: new AbortController().signal, timeoutMs: 30_000 };
    const dir = project();

    expect(await dockerBuildAndPush(job(dir, { skipPush: true }), deps, { build: true })).toEqual({});
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['POST /build']);
    const build = seen[0]!;
    expect(build.query.getAll('t')).toEqual(['127.0.0.1:5999/team/api:dsa-0123456789ab', '127.0.0.1:5999/team/api:dev']);
    expect(build.query.get('target')).toBe('dev');
    expect(build.query.get('networkmode')).toBe('host');
    expect(JSON.parse(build.query.get('buildargs') ?? '{}')).toEqual({ NODE_ENV: 'development' });
    expect(build.query.get('dockerfile')).toBe('Dockerfile');
    expect(build.bytes).toBeGreaterThan(512); // the context tar itself

    seen.length = 0;
    const pushed = await dockerBuildAndPush(job(dir, { network: undefined, target: undefined }), deps, { build: true });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['POST /build', 'POST /images/127.0.0.1:5999/team/api/push', 'POST /images/127.0.0.1:5999/team/api/push']);
    expect(seen[0]!.query.has('networkmode')).toBe(false);
    expect(seen[0]!.query.has('target')).toBe(false);
    expect(seen.slice(1).map((s) => s.query.get('tag'))).toEqual(['dsa-0123456789ab', 'dev']);
    for (const s of seen.slice(1)) expect(s.auth).toBeDefined(); // the daemon wants the header even when anonymous
    expect(pushed).toEqual({ digest: `sha256:${'d'.repeat(64)}` });
  });
});
