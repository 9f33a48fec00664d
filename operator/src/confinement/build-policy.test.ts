import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ALLOWED_KANIKO_FLAGS, builderImageAllowed, insecureRegistryFlags, isInsecureRegistry, refusedBuilderArg, registryHost } from './build-policy.js';

describe('build policy', () => {
  it('extra executor args: an allowlist of --flag[=value]; anything that could redirect a push is refused', () => {
    expect(refusedBuilderArg(['--verbosity=debug', '--snapshot-mode=redo', '--single-snapshot', '--build-arg=A=1'])).toBeUndefined();
    for (const bad of ['--destination=evil/x', '-d', 'evil/x', '--registry-map=a=b', '--registry-mirror=evil', '--cache-repo=evil/c', '--oci-layout-path=/x', '--tar-path=/x', '--no-push', '--digest-file=/x', '--kaniko-dir=/x', '--context=dir:///', '--dockerfile=/kaniko/.docker/config.json', '--insecure-registry=evil', '--image-name-with-digest-file=/x', '--', '--=x', '---destination=x']) {
      expect({ bad, refused: refusedBuilderArg([bad]) !== undefined }).toEqual({ bad, refused: true });
    }
  });

  it('property: an accepted arg always names an allowlisted flag', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 4 }), (args) => {
        if (refusedBuilderArg(args) !== undefined) return;
        for (const a of args) expect(ALLOWED_KANIKO_FLAGS.has(/^--([A-Za-z-]+)/.exec(a)![1]!)).toBe(true);
      }),
    );
  });

  it('builder images: exact allowlist entries or *', () => {
    expect(builderImageAllowed('mirror/kaniko:1', ['mirror/kaniko:1'])).toBe(true);
    expect(builderImageAllowed('mirror/kaniko:2', ['mirror/kaniko:1'])).toBe(false);
    expect(builderImageAllowed('anything', ['*'])).toBe(true);
  });

  it('insecure registries match host[:port]; a bare host matches any port', () => {
    expect(registryHost('192.0.2.2:5000/dsa/app')).toBe('192.0.2.2:5000');
    expect(registryHost('library/nginx')).toBe('docker.io');
    expect(registryHost('localhost/x')).toBe('localhost');
    expect(isInsecureRegistry('192.0.2.2:5000', ['192.0.2.2:5000'])).toBe(true);
    expect(isInsecureRegistry('192.0.2.2:5001', ['192.0.2.2:5000'])).toBe(false);
    expect(isInsecureRegistry('reg.local:443', ['reg.local'])).toBe(true);
    expect(insecureRegistryFlags('ghcr.io/x', [], ['192.0.2.2:5000'])).toEqual(['--insecure-registry=192.0.2.2:5000', '--skip-tls-verify-registry=192.0.2.2:5000']);
    expect(insecureRegistryFlags('192.0.2.2:5000/x', [], ['192.0.2.2:5000'])).toEqual(['--insecure', '--skip-tls-verify', '--insecure-registry=192.0.2.2:5000', '--skip-tls-verify-registry=192.0.2.2:5000']);
    expect(insecureRegistryFlags('ghcr.io/x', [], [])).toEqual([]);
  });
});
