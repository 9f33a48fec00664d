// The docker builder's pure parts: DOCKER_HOST, minikube's docker-env, credentials, the progress stream,
// and the context tar with ENTRYPOINT/CMD appended (read back with tar-stream).
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { prepareContext } from '@dsa/api/build-context';
import { APPENDED_DOCKERFILE, dockerContext, dockerfileAppend } from './docker-builder.js';
import { DockerHostError, dockerEndpoint, parseDockerEnv } from './docker-host.js';
import { ProgressReader, TailBuffer, registryHint, MAX_LINE } from './docker-progress.js';
import { registryAuth, registryOf } from './registry-auth.js';

describe('DOCKER_HOST', () => {
  it('default socket, unix://, tcp:// with and without TLS', () => {
    expect(dockerEndpoint({})).toEqual({ kind: 'socket', socketPath: '/var/run/docker.sock' });
    expect(dockerEndpoint({ DOCKER_HOST: 'unix:///run/x/docker.sock' })).toEqual({ kind: 'socket', socketPath: '/run/x/docker.sock' });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5' })).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 2375, tls: false });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://192.168.49.2:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' })).toEqual({ kind: 'tcp', host: '192.168.49.2', port: 2376, tls: true, certPath: '/certs' });
    expect(dockerEndpoint({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', HOME: '/home/u' })).toMatchObject({ port: 2376, certPath: '/home/u/.docker' });
  });

  it('ssh:// and relative sockets are refused with the variable named', () => {
    expect(() => dockerEndpoint({ DOCKER_HOST: 'ssh://me@box' })).toThrow(DockerHostError);
    expect(() => dockerEndpoint({ DOCKER_HOST: 'unix://docker.sock' })).toThrow(/DOCKER_HOST=unix:\/\/docker\.sock/);
  });

  it('minikube docker-env --shell none output', () => {
    const out = 'DOCKER_TLS_VERIFY="1"\nDOCKER_HOST="tcp://192.168.49.2:2376"\nDOCKER_CERT_PATH="/home/u/.minikube/certs"\nMINIKUBE_ACTIVE_DOCKERD="minikube"\n';
    expect(parseDockerEnv(out)).toEqual({ DOCKER_TLS_VERIFY: '1', DOCKER_HOST: 'tcp://192.168.49.2:2376', DOCKER_CERT_PATH: '/home/u/.minikube/certs', MINIKUBE_ACTIVE_DOCKERD: 'minikube' });
  });
});

describe('registry credentials', () => {
  it('registry of an image, as Docker decides it', () => {
    expect(registryOf('nginx')).toBe('docker.io');
    expect(registryOf('team/api')).toBe('docker.io');
    expect(registryOf('192.0.2.2:5000/dsa/api')).toBe('192.0.2.2:5000');
    expect(registryOf('localhost/x')).toBe('localhost');
    expect(registryOf('ghcr.io/org/x')).toBe('ghcr.io');
  });

  it('auths from config.json: base64 auth or username/password; Docker Hub under its legacy key', () => {
    const cfg = JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from('me:s3:cret').toString('base64') }, 'https://index.docker.io/v1/': { username: 'hub', password: 'pw' } }, credsStore: 'desktop' });
    expect(registryAuth(cfg, 'ghcr.io')).toEqual({ username: 'me', password: 's3:cret', serveraddress: 'ghcr.io' });
    expect(registryAuth(cfg, 'docker.io')).toEqual({ username: 'hub', password: 'pw', serveraddress: 'docker.io' });
    expect(registryAuth(cfg, 'quay.io')).toBeUndefined();
    expect(registryAuth('not json', 'ghcr.io')).toBeUndefined();
    expect(registryAuth(undefined, 'ghcr.io')).toBeUndefined();
  });
});

describe('progress stream', () => {
  it('messages split across chunks; error and errorDetail; non-JSON lines kept as output', () => {
    const r = new ProgressReader();
    const first = r.feed('{"stream":"Step 1/2 : FROM x\\n"}\n{"stre');
    expect(first).toEqual([{ stream: 'Step 1/2 : FROM x\n' }]);
    expect(r.feed('am":"ok\\n"}\n{"errorDetail":{"message":"boom"}}\nplain text\n{"aux":{"Digest":"sha256:1"}}')).toEqual([{ stream: 'ok\n' }, { error: 'boom' }, { stream: 'plain text\n' }]);
    expect(r.end()).toEqual([{ aux: { Digest: 'sha256:1' } }]);
  });

  it('a line longer than the bound is cut, not buffered', () => {
    const r = new ProgressReader();
    const out = r.feed('x'.repeat(MAX_LINE + 10));
    expect(out).toHaveLength(1);
    expect(out[0]!.stream).toContain('cut');
    expect(r.feed('still the long line\n{"stream":"next\\n"}\n')).toEqual([{ stream: 'next\n' }]);
  });

  it('tail keeps the last lines; hints name the daemon setting for a plain-HTTP registry', () => {
    const t = new TailBuffer(2);
    t.push('a\nb\n\nc\n');
    expect(t.get()).toEqual(['b', 'c']);
    expect(registryHint('Get "https://192.0.2.2:5000/v2/": http: server gave HTTP response to HTTPS client', '192.0.2.2:5000')).toContain('insecure-registries');
    expect(registryHint('denied: requested access to the resource is denied', 'r')).toContain('docker login r');
    expect(registryHint('something else', 'r')).toBeUndefined();
  });
});

async function entriesOf(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = tar.extract();
  ex.on('entry', (h, s, next) => {
    const parts: Buffer[] = [];
    s.on('data', (c: unknown) => {
      parts.push(c as Buffer);
    });
    s.on('end', () => {
      out.set(h.name, Buffer.concat(parts).toString('utf8'));
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  stream.pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

describe('docker context tar', () => {
  it('without overrides: exactly the canonical tar; with ENTRYPOINT/CMD: a Dockerfile copy hidden by .dockerignore', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dsa-dctx-'));
    try {
      await mkdir(path.join(dir, 'src'));
      await writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY . /app');
      await writeFile(path.join(dir, '.dockerignore'), 'secret.txt');
      await writeFile(path.join(dir, 'secret.txt'), 'no');
      await writeFile(path.join(dir, 'src/a.txt'), 'a');
      const prepared = await prepareContext(dir, 'Dockerfile');
      const plain = dockerContext(prepared, 'Dockerfile', '');
      expect(plain.dockerfile).toBe('Dockerfile');
      expect([...(await entriesOf(plain.stream)).keys()]).toEqual(['.dockerignore', 'Dockerfile', 'src', 'src/a.txt']);

      const append = dockerfileAppend(['node', 'server.js'], ['--port', '80']);
      expect(append).toBe('ENTRYPOINT ["node","server.js"]\nCMD ["--port","80"]');
      const withCmd = dockerContext(prepared, 'Dockerfile', append);
      expect(withCmd.dockerfile).toBe(APPENDED_DOCKERFILE);
      const files = await entriesOf(withCmd.stream);
      expect(files.get('Dockerfile')).toBe('FROM scratch\nCOPY . /app');
      expect(files.get(APPENDED_DOCKERFILE)).toBe('FROM scratch\nCOPY . /app\nENTRYPOINT ["node","server.js"]\nCMD ["--port","80"]\n');
      expect(files.get('.dockerignore')).toBe(`secret.txt\n${APPENDED_DOCKERFILE}\n`);
      expect(files.has('src/a.txt')).toBe(true);
      expect(files.has('secret.txt')).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
