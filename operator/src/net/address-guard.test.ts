import { describe, expect, it } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import fc from 'fast-check';
import { BlockedAddressError, checkUrl, guardedLookup, internalAddress, parseAllowEntry, redactUrl } from './address-guard.js';

const none = { allow: [] as string[] };

describe('address guard', () => {
  it('knows loopback, link-local, unspecified and metadata addresses, in every spelling', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '0.0.0.0', '169.254.169.254', '169.254.1.1', '100.100.100.200', '168.63.129.16', '::1', '::', 'fe80::1', 'febf::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::127.0.0.1']) {
      expect({ ip, internal: internalAddress(ip) !== undefined }).toEqual({ ip, internal: true });
    }
    for (const ip of ['10.0.0.1', '192.0.2.2', '8.8.8.8', '100.100.100.201', 'fd00::1', '2001:db8::1', '::ffff:8.8.8.8']) {
      expect({ ip, internal: internalAddress(ip) }).toEqual({ ip, internal: undefined });
    }
    expect(internalAddress('169.254.169.254')).toBe('the cloud metadata service');
  });

  it('checkUrl refuses internal hosts by name and by literal address (URL parsing normalizes odd IPv4 forms)', () => {
    for (const url of ['http://127.0.0.1/x', 'http://localhost:8080/x', 'http://metadata.google.internal/', 'http://169.254.169.254/latest', 'http://[::1]:1/', 'http://2130706433/', 'http://0x7f.1/', 'http://017700000001/', 'https://[fd00:ec2::254]/', 'http://app.localhost/']) {
      expect(() => checkUrl(url, none)).toThrow(BlockedAddressError);
    }
    expect(() => checkUrl('ftp://example.com/x', none)).toThrow(/http or https only/);
    expect(checkUrl('https://github.com/x.git', none).hostname).toBe('github.com');
    // Allowed by the install: by host, host:port, or CIDR.
    expect(() => checkUrl('http://127.0.0.1:8080/x', { allow: ['127.0.0.1'] })).not.toThrow();
    expect(() => checkUrl('http://127.0.0.1:8080/x', { allow: ['127.0.0.1:9090'] })).toThrow(BlockedAddressError);
    expect(() => checkUrl('http://127.0.0.1:9090/x', { allow: ['127.0.0.1:9090'] })).not.toThrow();
    expect(() => checkUrl('http://127.3.2.1/x', { allow: ['127.0.0.0/8'] })).not.toThrow();
    expect(() => checkUrl('http://[::1]:3000/x', { allow: ['[::1]:3000'] })).not.toThrow();
  });

  it('the lookup refuses what DNS resolves to an internal address, unless allowed', async () => {
    const resolver = (addresses: LookupAddress[]) => ((_h: string, _o: unknown, cb: (e: null, a: LookupAddress[]) => void) => cb(null, addresses)) as never;
    const lookup = (policy: { allow: string[] }, addresses: LookupAddress[]) =>
      new Promise<unknown>((resolve, reject) => guardedLookup(policy, 80, resolver(addresses))('evil.example', {}, (e, a) => (e ? reject(e) : resolve(a))));
    await expect(lookup(none, [{ address: '169.254.169.254', family: 4 }])).rejects.toThrow(/evil.example resolves to 169.254.169.254, the cloud metadata service; refused/);
    // a name resolving to both: only the ordinary address is used
    await expect(lookup(none, [{ address: '127.0.0.1', family: 4 }, { address: '93.184.216.34', family: 4 }])).resolves.toBe('93.184.216.34');
    await expect(lookup({ allow: ['evil.example'] }, [{ address: '127.0.0.1', family: 4 }])).resolves.toBe('127.0.0.1');
  });

  it('property: no IPv4 in 127/8 or 169.254/16, written as a URL in any form node accepts, gets through', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)), fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.nat(255))), fc.nat(2), ([a, b, c, d], form) => {
        const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
        const host = form === 0 ? `${a}.${b}.${c}.${d}` : form === 1 ? String(n) : `0x${n.toString(16)}`;
        expect(() => checkUrl(`http://${host}/repo.git`, none)).toThrow(BlockedAddressError);
      }),
    );
  });

  it('parses allow entries and redacts credentials from URLs', () => {
    expect(parseAllowEntry('10.0.0.0/99').problem).toMatch(/not a valid CIDR/);
    expect(parseAllowEntry('git.local:70000').problem).toMatch(/port/);
    expect(parseAllowEntry('git.local:3000')).toEqual({ host: 'git.local', port: 3000 });
    expect(redactUrl('https://user:s3cret@git.example/x.git')).toBe('https://git.example/x.git');
    expect(redactUrl('not a url //a:b@host/x')).not.toContain('a:b');
  });
});
