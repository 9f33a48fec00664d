// A KubeConfig for a test's own loopback "apiserver" (an http or https server the test started).
import * as k8s from '@kubernetes/client-node';

export function loopbackKubeConfig(server: string, opts: { caData?: string; token?: string } = {}): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    // client-node refuses plain http unless skipTLSVerify is set; https servers pass their own CA.
    clusters: [{ name: 'c', server, ...(opts.caData ? { caData: opts.caData, skipTLSVerify: false } : { skipTLSVerify: true }) }],
    users: [{ name: 'u', token: opts.token ?? 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}
