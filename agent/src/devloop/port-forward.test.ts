import { afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Writable } from 'node:stream';
import { session } from '../session/fake-kube.test-util.js';
import { PortForwarder, describeForward, forwardsFor, type PortForwardLike } from './port-forward.js';
import type { PodTarget } from './pods.js';

describe('forwardsFor', () => {
  it('lists every dev pod port, binding 127.0.0.1 unless told otherwise, first local port wins', () => {
    const s = session('web', {
      dev: {
        pods: [
          { name: 'api', selector: { imageName: 'api' }, ports: [{ localPort: 8080, remotePort: 80 }, { localPort: 9229, remotePort: 9229, bindAddress: '0.0.0.0' }] },
          { name: 'ui', selector: { imageName: 'ui' }, ports: [{ localPort: 8080, remotePort: 3000 }, { localPort: 3000, remotePort: 3000 }] },
        ],
      },
    });
    const { forwards, conflicts } = forwardsFor(s);
    expect(forwards.map(describeForward)).toEqual(['127.0.0.1:8080 → api:80', '0.0.0.0:9229 → api:9229', '127.0.0.1:3000 → ui:3000']);
    expect(conflicts).toEqual(['local port 127.0.0.1:8080 of dev pod ui is already forwarded for api; skipped']);
  });
});

/** A fake PortForward that echoes upper-cased input back, recording which pod each connection went to. */
function echoForward(pods: string[]): PortForwardLike {
  return {
    async portForward(_ns, pod, ports, output: Writable, _err, input) {
      pods.push(`${pod}:${ports[0]}`);
      const ws = Object.assign(new EventEmitter(), {
        closed: false,
        close() {
          if (!ws.closed) {
            ws.closed = true;
            ws.emit('close');
          }
        },
      });
      input.on('data', (b: Buffer) => output.write(Buffer.from(b.toString().toUpperCase())));
      input.on('end', () => ws.close());
      return ws;
    },
  };
}

function request(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.end(text));
    let got = '';
    c.on('data', (b) => (got += b.toString()));
    c.on('close', () => resolve(got));
    c.on('error', reject);
  });
}

describe('PortForwarder', () => {
  let fwd: PortForwarder | undefined;
  afterEach(async () => fwd?.close());
  const log = { info: () => undefined, warn: (m: string) => warnings.push(m), debug: () => undefined };
  const warnings: string[] = [];

  it('carries each connection to the pod the session publishes at that moment', async () => {
    const pods: string[] = [];
    let current: PodTarget | undefined = { namespace: 'dev', pod: 'api-1', container: 'api' };
    fwd = new PortForwarder({ portForward: echoForward(pods), target: () => current, log });
    const port = await fwd.start({ devPod: 'api', localPort: 0, remotePort: 80, bindAddress: '127.0.0.1' });
    expect(await request(port, 'hello')).toBe('HELLO');
    current = { namespace: 'dev', pod: 'api-2', container: 'api' }; // the pod was replaced
    expect(await request(port, 'again')).toBe('AGAIN');
    expect(pods).toEqual(['api-1:80', 'api-2:80']);
  });

  it('closes the connection with a warning when the dev pod has no running pod', async () => {
    warnings.length = 0;
    fwd = new PortForwarder({ portForward: echoForward([]), target: () => undefined, log });
    const port = await fwd.start({ devPod: 'api', localPort: 0, remotePort: 80, bindAddress: '127.0.0.1' });
    expect(await request(port, 'x')).toBe('');
    expect(warnings[0]).toMatch(/dev pod api has no running pod yet/);
  });

  it('a failed connect closes the local connection and does not throw', async () => {
    warnings.length = 0;
    const failing: PortForwardLike = { portForward: async () => Promise.reject(new Error('pods "api-1" not found')) };
    fwd = new PortForwarder({ portForward: failing, target: () => ({ namespace: 'dev', pod: 'api-1', container: 'api' }), log });
    const port = await fwd.start({ devPod: 'api', localPort: 0, remotePort: 80, bindAddress: '127.0.0.1' });
    expect(await request(port, 'x')).toBe('');
    expect(warnings[0]).toMatch(/cannot connect to pod api-1: pods "api-1" not found/);
  });

  it('reports a local port that is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    fwd = new PortForwarder({ portForward: echoForward([]), target: () => undefined, log });
    await expect(fwd.start({ devPod: 'api', localPort: taken, remotePort: 80, bindAddress: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
    await new Promise<void>((r) => blocker.close(() => r()));
  });
});
