// Impersonating configs against a real HTTPS server on loopback: every kind of request carries the
// Impersonate-User header, the operator's own requests do not, and both share one pooled connection.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loopbackKubeConfig } from './loopback-kubeconfig.test-util.js';
import { observeRequests, reuseConnections } from './connection-reuse.js';
import { Impersonator, describeForbidden, impersonatingKubeConfig, isRbacDenied, serviceAccountUser } from './impersonation.js';
import { apiError } from './testing.js';

let dir: string;
let server: Server;
let port: number;
let connections = 0;
const seen: Array<{ path: string; as: string | undefined; auth: string | undefined }> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dsa-imp-test-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    seen.push({ path: req.url ?? '', as: req.headers['impersonate-user'] as string | undefined, auth: req.headers.authorization });
    req.resume();
    const body =
      req.url === '/api/v1'
        ? { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'namespaces', singularName: 'namespace', kind: 'Namespace', namespaced: false, verbs: ['get'] }] }
        : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } };
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const kubeConfig = () => reuseConnections(loopbackKubeConfig(`https://127.0.0.1:${port}`, { caData: readFileSync(join(dir, 'cert.pem')).toString('base64'), token: 'operator-token' }));

describe('impersonation', () => {
  it('serviceAccountUser builds the SA user name and refuses names that are not names', () => {
    expect(serviceAccountUser('team-a', 'dsa-deployer')).toBe('system:serviceaccount:team-a:dsa-deployer');
    expect(() => serviceAccountUser('team-a', 'a:b')).toThrow(/not a valid ServiceAccount name/);
    expect(() => serviceAccountUser('Team', 'x')).toThrow(/not a valid namespace name/);
    expect(() => serviceAccountUser('a', 'x\nImpersonate-Group: system:masters')).toThrow(/not a valid ServiceAccount name/);
  });

  it('API calls and watches/streams carry Impersonate-User; the operator\'s own do not; one pooled connection', async () => {
    const base = kubeConfig();
    const verbs: string[] = [];
    observeRequests(base, (v) => verbs.push(v));
    const user = serviceAccountUser('team-a', 'dsa-deployer');
    const imp = impersonatingKubeConfig(base, user);
    seen.length = 0;
    const before = connections;
    await base.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'default' });
    await imp.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'default' });
    await k8s.KubernetesObjectApi.makeApiClient(imp).read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    // The path exec/attach/watch take (WebSocket and fetch options).
    const ws: { headers?: Record<string, string> } = {};
    await imp.applyToHTTPSOptions(ws as never);
    const fetchOpts = await imp.applyToFetchOptions({});
    // (the object API's discovery request is impersonated too)
    expect(seen.map((x) => `${x.path} ${x.as ?? '-'}`)).toEqual(['/api/v1/namespaces/default -', `/api/v1/namespaces/default ${user}`, `/api/v1 ${user}`, `/api/v1/namespaces/default ${user}`]);
    expect(seen.every((x) => x.auth === 'Bearer operator-token')).toBe(true);
    expect(ws.headers?.['Impersonate-User']).toBe(user);
    expect((fetchOpts.headers as unknown as Headers).get('Impersonate-User')).toBe(user);
    // The base config is untouched.
    expect(base.getCurrentUser()?.impersonateUser).toBeUndefined();
    // Shared pool and request counter.
    expect(connections - before).toBe(1);
    expect(verbs.filter((v) => v === 'GET')).toHaveLength(4);
  });

  it('Impersonator keeps one config per user, bounded', () => {
    const imp = new Impersonator(kubeConfig(), 2);
    const a = imp.config('system:serviceaccount:a:x');
    expect(imp.config('system:serviceaccount:a:x')).toBe(a);
    imp.config('system:serviceaccount:b:x');
    imp.config('system:serviceaccount:c:x');
    expect(imp.config('system:serviceaccount:a:x')).not.toBe(a);
  });

  it('describeForbidden says who, what, and how to grant it; RBAC refusals are told from admission ones', () => {
    const user = 'system:serviceaccount:a:dsa-deployer';
    const rbac = apiError(403, 'Forbidden', `deployments.apps "x" is forbidden: User "${user}" cannot patch resource "deployments" in API group "apps" in the namespace "kube-system"`);
    expect(describeForbidden(rbac, user)).toBe(`${user} may not patch deployments.apps in namespace kube-system: grant it with a Role and RoleBinding for that ServiceAccount (ready-made: charts/dsa-operator/README.md, "Tenant namespaces")`);
    const cluster = apiError(403, 'Forbidden', `namespaces is forbidden: User "${user}" cannot create resource "namespaces" in API group "" at the cluster scope`);
    expect(describeForbidden(cluster, user)).toMatch(/may not create namespaces \(cluster-wide\)/);
    const imp = apiError(403, 'Forbidden', `users "${user}" is forbidden: User "system:serviceaccount:dsa-system:dsa-operator" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "a"`);
    expect(describeForbidden(imp, user)).toMatch(/^the operator may not impersonate system:serviceaccount:a:dsa-deployer/);
    expect(isRbacDenied(rbac)).toBe(true);
    expect(isRbacDenied(imp)).toBe(true);
    expect(isRbacDenied(apiError(403, 'Forbidden', 'pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged'))).toBe(false);
    expect(isRbacDenied(apiError(404, 'NotFound', 'x'))).toBe(false);
  });
});
