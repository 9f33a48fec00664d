import { describe, expect, it } from '@jest/globals';
import { ComponentValuesError, renderComponentChart } from './component-chart.js';

type Any = Record<string, any>;

describe('renderComponentChart', () => {
  it('renders a Deployment and a Service like the devspace component chart', () => {
    const objs = renderComponentChart('api', {
      containers: [
        {
          image: 'registry.local:5000/team/api',
          command: ['node'],
          args: ['server.js'],
          env: [{ name: 'A', value: '1' }],
          resources: { limits: { cpu: '1', memory: '512Mi', ephemeralStorage: '1Gi' } },
          readinessProbe: { httpGet: { path: '/', port: 3000 } },
        },
      ],
      service: { ports: [{ port: 80, containerPort: 3000 }, { port: 53, protocol: 'UDP', name: 'dns' }] },
      labels: { team: 'a' },
      annotations: { note: 'x' },
    }) as Any[];
    expect(objs.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    const [dep, svc] = objs as [Any, Any];
    expect(dep.metadata).toEqual({
      name: 'api',
      labels: { 'app.kubernetes.io/name': 'devspace-app', 'app.kubernetes.io/component': 'api', 'app.kubernetes.io/managed-by': 'dsa', team: 'a' },
      annotations: { note: 'x' },
    });
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.strategy).toEqual({ type: 'Recreate' });
    expect(dep.spec.selector.matchLabels).toEqual(dep.spec.template.metadata.labels);
    expect(dep.spec.template.spec.containers).toEqual([
      {
        name: 'container-0',
        image: 'registry.local:5000/team/api',
        command: ['node'],
        args: ['server.js'],
        env: [{ name: 'A', value: '1' }],
        readinessProbe: { httpGet: { path: '/', port: 3000 } },
        resources: { limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '1Gi' } },
      },
    ]);
    expect(svc.metadata.name).toBe('api');
    expect(svc.spec).toEqual({
      type: 'ClusterIP',
      ports: [
        { name: 'port-0', port: 80, targetPort: 3000, protocol: 'TCP' },
        { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
      ],
      selector: { 'app.kubernetes.io/name': 'devspace-app', 'app.kubernetes.io/component': 'api' },
    });
  });

  it('a mounted persistent volume makes it a StatefulSet with a headless service', () => {
    const objs = renderComponentChart('db', {
      containers: [{ name: 'db', image: 'mysql:5.7', volumeMounts: [{ containerPath: '/var/lib/mysql', volume: { name: 'data', subPath: '/mysql/' } }, { containerPath: '/etc/cfg', volume: { name: 'cfg', readOnly: true } }] }],
      volumes: [{ name: 'data', size: '5Gi' }, { name: 'cfg', configMap: { name: 'db-config' } }, { name: 'unused', size: '1Gi' }],
      replicas: 2,
    }) as Any[];
    expect(objs.map((o) => o.kind)).toEqual(['StatefulSet', 'Service']);
    const sts = objs[0]!;
    expect(sts.spec.serviceName).toBe('db-headless');
    expect(sts.spec.replicas).toBe(2);
    expect(sts.spec.volumeClaimTemplates.map((v: Any) => [v.metadata.name, v.spec.resources.requests.storage])).toEqual([['data', '5Gi']]);
    expect(sts.spec.template.spec.volumes).toEqual([{ name: 'cfg', configMap: { name: 'db-config' } }]);
    expect(sts.spec.template.spec.containers[0].volumeMounts).toEqual([
      { mountPath: '/var/lib/mysql', name: 'data', subPath: 'mysql' },
      { mountPath: '/etc/cfg', name: 'cfg', readOnly: true },
    ]);
    expect(objs[1]!.metadata.name).toBe('db-headless');
    expect(objs[1]!.spec.clusterIP).toBe('None');
  });

  it('StatefulSet serviceName/podManagementPolicy, service annotations, liveness probes on containers and init containers', () => {
    const probe = { httpGet: { path: '/healthz', port: 8080 } };
    const objs = renderComponentChart('db', {
      containers: [{ image: 'mysql', livenessProbe: probe, volumeMounts: [{ containerPath: '/data', volume: { name: 'data' } }] }],
      initContainers: [{ image: 'busybox', livenessProbe: probe }],
      volumes: [{ name: 'data', size: '1Gi' }],
      serviceName: 'db-peers',
      podManagementPolicy: 'Parallel',
      service: { ports: [{ port: 3306 }], annotations: { 'a/b': 'c' } },
    }) as Any[];
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['StatefulSet/db', 'Service/db-peers', 'Service/db']);
    const sts = objs[0]!;
    expect(sts.spec).toMatchObject({ serviceName: 'db-peers', podManagementPolicy: 'Parallel' });
    expect(sts.spec.template.spec.containers[0].livenessProbe).toEqual(probe);
    expect(sts.spec.template.spec.initContainers[0].livenessProbe).toEqual(probe);
    expect(objs[2]!.metadata.annotations).toEqual({ 'a/b': 'c' });
  });

  it('service only, and ingress', () => {
    const objs = renderComponentChart('web', {
      service: { name: 'frontend', type: 'NodePort', ports: [{ port: 8080 }] },
      ingress: { tls: true, rules: [{ host: 'web.local' }] },
    }) as Any[];
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Service/frontend', 'Ingress/web']);
    expect(objs[1]!.spec.rules[0].http.paths[0].backend.service).toEqual({ name: 'frontend', port: { number: 8080 } });
    expect(objs[1]!.spec.tls).toEqual([{ hosts: ['web.local'], secretName: 'web-tls' }]);
  });

  it('rolling update and init containers', () => {
    const [dep] = renderComponentChart('a', { containers: [{ image: 'x' }], initContainers: [{ image: 'y' }], rollingUpdate: { enabled: true } }) as Any[];
    expect(dep!.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '0%' } });
    expect(dep!.spec.template.spec.initContainers[0].name).toBe('init-container-0');
  });

  it('rejects values that cannot render', () => {
    expect(() => renderComponentChart('a', { containers: [{ name: 'x' }] })).toThrow(ComponentValuesError);
    expect(() => renderComponentChart('a', { service: { ports: [{ port: '80' }] } })).toThrow(/port must be a number/);
    expect(renderComponentChart('a', {})).toEqual([]);
  });
});
