// DevSpace's component chart (devspace-reference §1.3), rendered in TypeScript.
//
// Why not `helm template operator/charts/component`? Component deployments are the most common
// deployment of v1beta-era projects, and rendering them in-process needs no helm binary, no temp
// files and no subprocess per reconcile. operator/charts/component is the same thing as a helm chart
// (for users who want to `helm install` it themselves); the node-tier test renders both and compares.
//
// Compatible values: containers[{name,image,command,args,env,workingDir,volumeMounts[{containerPath,
// volume{name,subPath,readOnly}}],resources,livenessProbe,readinessProbe,startupProbe,stdin,tty}],
// initContainers, replicas, labels, annotations, volumes[{name,size,configMap,secret,storageClassName,
// labels,annotations}], service{name,type,ports[{port,containerPort,protocol,name}],externalIPs,
// labels,annotations}, serviceName, ingress{name,tls,rules[{host,path,servicePort,serviceName}]},
// pullSecrets, nodeSelector, tolerations, affinity, rollingUpdate{enabled,maxSurge,maxUnavailable,partition},
// podManagementPolicy.
//
// Differences from loft-sh/component-chart, on purpose:
// - a persistent volume makes the workload a StatefulSet only when a container mounts it (configMap and
//   secret volumes never do);
// - `app.kubernetes.io/managed-by` is `dsa` (helm would say `Helm`); no `helm.sh/chart` annotation;
// - empty fields are omitted instead of rendered as `null` lists.
import type { KubernetesObject } from '@kubernetes/client-node';

export class ComponentValuesError extends Error {
  override readonly name = 'ComponentValuesError';
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const strMap = (v: unknown): Record<string, string> =>
  isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : String(x)])) : {};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);

export const COMPONENT_APP_NAME = 'devspace-app';

/** Labels that select the component's pods (stable: part of an immutable selector). */
export function componentSelector(release: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': COMPONENT_APP_NAME,
    'app.kubernetes.io/component': release,
    'app.kubernetes.io/managed-by': 'dsa',
  };
}

function resources(v: unknown): Json | undefined {
  if (!isObj(v)) return undefined;
  // The chart accepts `ephemeralStorage` as a key; Kubernetes calls it `ephemeral-storage`.
  const fix = (m: unknown): Record<string, string> | undefined => {
    if (!isObj(m)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(m)) if (x !== undefined && x !== null && x !== '') out[k === 'ephemeralStorage' ? 'ephemeral-storage' : k] = String(x);
    return Object.keys(out).length ? out : undefined;
  };
  const limits = fix(v.limits);
  const requests = fix(v.requests);
  const out: Json = {};
  if (limits) out.limits = limits;
  if (requests) out.requests = requests;
  return Object.keys(out).length ? out : undefined;
}

function container(v: unknown, i: number, prefix: string): Json {
  if (!isObj(v)) throw new ComponentValuesError(`${prefix}[${i}] must be an object`);
  const image = str(v.image);
  if (!image) throw new ComponentValuesError(`${prefix}[${i}].image is required`);
  const c: Json = { name: str(v.name) ?? (prefix === 'initContainers' ? `init-container-${i}` : `container-${i}`), image };
  const cmd = list(v.command).map(String);
  const args = list(v.args).map(String);
  if (cmd.length) c.command = cmd;
  if (args.length) c.args = args;
  if (str(v.workingDir)) c.workingDir = v.workingDir;
  if (v.stdin === true) c.stdin = true;
  if (v.tty === true) c.tty = true;
  const env = list(v.env);
  if (env.length) c.env = env;
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) if (isObj(v[probe])) c[probe] = v[probe];
  const mounts = list(v.volumeMounts).map((m, j) => {
    if (!isObj(m) || !isObj(m.volume) || !str(m.volume.name) || !str(m.containerPath)) {
      throw new ComponentValuesError(`${prefix}[${i}].volumeMounts[${j}] needs containerPath and volume.name`);
    }
    const mount: Json = { mountPath: m.containerPath, name: m.volume.name };
    const sub = str(m.volume.subPath)?.replace(/^\/+|\/+$/g, '');
    if (sub) mount.subPath = sub;
    if (m.volume.readOnly === true) mount.readOnly = true;
    return mount;
  });
  if (mounts.length) c.volumeMounts = mounts;
  const r = resources(v.resources);
  if (r) c.resources = r;
  return c;
}

/**
 * Renders the component chart for `release`. Objects carry no namespace: decorateObjects defaults it,
 * as `helm template --namespace` + apply would.
 */
export function renderComponentChart(release: string, values: Json): KubernetesObject[] {
  const containersIn = list(values.containers);
  const objects: KubernetesObject[] = [];
  const userLabels = strMap(values.labels);
  const annotations = strMap(values.annotations);
  const selector = { ...componentSelector(release), ...userLabels };

  if (containersIn.length > 0) {
    const containers = containersIn.map((c, i) => container(c, i, 'containers'));
    const initContainers = list(values.initContainers).map((c, i) => container(c, i, 'initContainers'));
    const volumes = list(values.volumes).map((v, i) => {
      if (!isObj(v) || !str(v.name)) throw new ComponentValuesError(`volumes[${i}].name is required`);
      return v;
    });
    const mounted = new Set<string>();
    for (const c of [...containers, ...initContainers]) for (const m of list(c.volumeMounts)) mounted.add(String((m as Json).name));
    const pvcs = volumes.filter((v) => !isObj(v.configMap) && !isObj(v.secret) && mounted.has(String(v.name)));
    const kind = pvcs.length > 0 ? 'StatefulSet' : 'Deployment';

    const podVolumes = volumes
      .filter((v) => mounted.has(String(v.name)) && (isObj(v.configMap) || isObj(v.secret)))
      .map((v) => (isObj(v.secret) ? { name: v.name, secret: v.secret } : { name: v.name, configMap: v.configMap }));

    const podSpec: Json = { terminationGracePeriodSeconds: 5, containers };
    if (initContainers.length) podSpec.initContainers = initContainers;
    if (podVolumes.length) podSpec.volumes = podVolumes;
    const pullSecrets = list(values.pullSecrets).map((s) => ({ name: String(s) }));
    if (pullSecrets.length) podSpec.imagePullSecrets = pullSecrets;
    for (const k of ['nodeSelector', 'affinity'] as const) if (isObj(values[k])) podSpec[k] = values[k];
    if (Array.isArray(values.tolerations) && values.tolerations.length) podSpec.tolerations = values.tolerations;
    if (str(values.nodeName)) podSpec.nodeName = values.nodeName;

    const meta: Json = { name: release, labels: { ...selector } };
    if (Object.keys(annotations).length) meta.annotations = annotations;
    const tplMeta: Json = { labels: { ...selector } };
    if (Object.keys(annotations).length) tplMeta.annotations = annotations;
    const spec: Json = {
      replicas: typeof values.replicas === 'number' ? values.replicas : 1,
      selector: { matchLabels: selector },
      template: { metadata: tplMeta, spec: podSpec },
    };
    const ru = isObj(values.rollingUpdate) ? values.rollingUpdate : undefined;
    if (kind === 'Deployment') {
      // DevSpace's default is Recreate: a dev pod with a RWO volume or a fixed port must not overlap.
      spec.strategy =
        ru?.enabled === true
          ? { type: 'RollingUpdate', rollingUpdate: { maxSurge: str(ru.maxSurge) ?? '25%', maxUnavailable: str(ru.maxUnavailable) ?? '0%' } }
          : { type: 'Recreate' };
    } else {
      if (ru?.enabled === true) spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: typeof ru.partition === 'number' ? ru.partition : 0 } };
      spec.podManagementPolicy = str(values.podManagementPolicy) ?? 'OrderedReady';
      spec.serviceName = str(values.serviceName) ?? `${release}-headless`;
      spec.volumeClaimTemplates = pvcs.map((v) => {
        const pvcSpec: Json = {
          accessModes: Array.isArray(v.accessModes) && v.accessModes.length ? v.accessModes : ['ReadWriteOnce'],
          resources: { requests: { storage: str(v.size) ?? '1Gi' } },
        };
        if (str(v.storageClassName)) pvcSpec.storageClassName = v.storageClassName;
        const m: Json = { name: v.name, labels: { ...componentSelector(release), ...strMap(v.labels) } };
        if (Object.keys(strMap(v.annotations)).length) m.annotations = strMap(v.annotations);
        return { metadata: m, spec: pvcSpec };
      });
    }
    objects.push({ apiVersion: 'apps/v1', kind, metadata: meta, spec } as KubernetesObject);

    if (kind === 'StatefulSet') {
      objects.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: spec.serviceName as string, labels: { 'app.kubernetes.io/name': release, 'app.kubernetes.io/managed-by': 'dsa', ...userLabels } },
        spec: { clusterIP: 'None', ports: [{ name: 'web', port: 80 }], selector },
      } as KubernetesObject);
    }
  }

  const service = isObj(values.service) ? values.service : undefined;
  const servicePorts = list(service?.ports);
  const serviceName = str(service?.name) ?? release;
  if (service && servicePorts.length > 0) {
    const ports = servicePorts.map((p, i) => {
      if (!isObj(p) || typeof p.port !== 'number') throw new ComponentValuesError(`service.ports[${i}].port must be a number`);
      return {
        name: str(p.name) ?? `port-${i}`,
        port: p.port,
        targetPort: typeof p.containerPort === 'number' ? p.containerPort : p.port,
        protocol: str(p.protocol) ?? 'TCP',
      };
    });
    const svcSpec: Json = {
      type: str(service.type) ?? 'ClusterIP',
      ports,
      selector: { 'app.kubernetes.io/name': COMPONENT_APP_NAME, 'app.kubernetes.io/component': release },
    };
    if (Array.isArray(service.externalIPs) && service.externalIPs.length) svcSpec.externalIPs = service.externalIPs;
    const meta: Json = { name: serviceName, labels: { 'app.kubernetes.io/name': release, 'app.kubernetes.io/managed-by': 'dsa', ...strMap(service.labels) } };
    if (Object.keys(strMap(service.annotations)).length) meta.annotations = strMap(service.annotations);
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec: svcSpec } as KubernetesObject);
  }

  const ingress = isObj(values.ingress) ? values.ingress : undefined;
  const rules = list(ingress?.rules);
  if (ingress && rules.length > 0) {
    const defaultPort = servicePorts.length && isObj(servicePorts[0]) ? servicePorts[0].port : undefined;
    const tlsHosts: string[] = [];
    const specRules = rules.map((r, i) => {
      if (!isObj(r) || !str(r.host)) throw new ComponentValuesError(`ingress.rules[${i}].host is required`);
      const port = typeof r.servicePort === 'number' ? r.servicePort : defaultPort;
      if (typeof port !== 'number') throw new ComponentValuesError(`ingress.rules[${i}].servicePort is required when the service has no ports`);
      if (r.tls === true || ingress.tls === true || typeof ingress.tls === 'string') tlsHosts.push(String(r.host));
      return {
        host: r.host,
        http: { paths: [{ path: str(r.path) ?? '/', pathType: 'ImplementationSpecific', backend: { service: { name: str(r.serviceName) ?? serviceName, port: { number: port } } } }] },
      };
    });
    const ingSpec: Json = { rules: specRules };
    if (tlsHosts.length) ingSpec.tls = [{ hosts: tlsHosts, secretName: typeof ingress.tls === 'string' ? ingress.tls : `${str(ingress.name) ?? release}-tls` }];
    if (str(ingress.ingressClassName)) ingSpec.ingressClassName = ingress.ingressClassName;
    const meta: Json = { name: str(ingress.name) ?? release, labels: { 'app.kubernetes.io/name': release, 'app.kubernetes.io/managed-by': 'dsa', ...strMap(ingress.labels) } };
    if (Object.keys(strMap(ingress.annotations)).length) meta.annotations = strMap(ingress.annotations);
    objects.push({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta, spec: ingSpec } as KubernetesObject);
  }
  return objects;
}
