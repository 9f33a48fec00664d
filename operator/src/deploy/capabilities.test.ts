import { describe, expect, it } from '@jest/globals';
import { CapabilitiesProbe, capabilitiesOf, parseVersion } from './capabilities.js';

describe('cluster capabilities', () => {
  it('native sidecars from 1.29 on; vendor suffixes and empty fields are understood', () => {
    expect(capabilitiesOf({ major: '1', minor: '33', gitVersion: 'v1.33.13' })).toEqual({ nativeSidecars: true, serverVersion: { major: 1, minor: 33, gitVersion: 'v1.33.13' } });
    expect(capabilitiesOf({ major: '1', minor: '28+', gitVersion: 'v1.28.9-eks-1' }).nativeSidecars).toBe(false);
    expect(capabilitiesOf({ major: '1', minor: '29+', gitVersion: 'v1.29.0-gke.1' }).nativeSidecars).toBe(true);
    expect(parseVersion({ major: '', minor: '', gitVersion: 'v1.30.2-k3s1' })).toEqual({ major: 1, minor: 30 });
    expect(capabilitiesOf(undefined)).toEqual({ nativeSidecars: false });
    expect(capabilitiesOf({ major: '', minor: '', gitVersion: 'garbage' })).toEqual({ nativeSidecars: false });
  });

  it('reads /version once; a failed read is not remembered', async () => {
    let calls = 0;
    let fail = true;
    const probe = new CapabilitiesProbe({
      getCode: async () => {
        calls++;
        if (fail) throw new Error('apiserver down');
        return { major: '1', minor: '31', gitVersion: 'v1.31.0' };
      },
    });
    expect(await probe.get()).toEqual({ nativeSidecars: false });
    fail = false;
    const [a, b] = await Promise.all([probe.get(), probe.get()]);
    expect(a.nativeSidecars).toBe(true);
    expect(b).toBe(a);
    await probe.get();
    expect(calls).toBe(2);
  });
});
