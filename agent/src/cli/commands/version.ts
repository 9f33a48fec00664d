import { Option } from 'commander';
import { agentApi, apiSkew, DEFAULT_OPERATOR_NAMESPACE, OPERATOR_NAMESPACE_ENV, readClusterApi, type ClusterApi } from '../../actions/cluster-version.js';
import { toJson, toYaml } from '../../output/printer.js';
import { buildInfo } from '../build-info.js';
import { defineCommand } from '../command.js';

interface VersionFlags {
  cluster?: boolean;
  operatorNamespace?: string;
}

interface VersionReport {
  agent: {
    version: string;
    commit: string;
    built: string;
    flavor: string;
    node: string;
    platform: string;
    apiVersion: string;
    apiDigest: string;
  };
  cluster?: { server: string; context: string } & ClusterApi;
  /** Where agent and cluster disagree (also printed as warnings). */
  skew?: string[];
}

/** Aligned `key: value` lines, kubectl-version style. Pure. */
export function formatVersion(r: VersionReport): string {
  const a = r.agent;
  const rows: Array<[string, string]> = [
    ['Client Version', a.version],
    ['Git Commit', a.commit || 'unknown'],
    ['Built', a.built ? `${a.built} (${a.flavor === 'sea' ? 'single executable' : a.flavor})` : 'from source'],
    ['Node', `${a.node} ${a.platform}`],
    ['API', `${a.apiVersion} (schema ${a.apiDigest})`],
  ];
  if (r.cluster) {
    const c = r.cluster;
    rows.push(['Cluster', `${c.server}${c.context ? ` (context ${c.context})` : ''}`]);
    rows.push(['Served API', c.servedVersions.length ? `dsa.dev ${c.servedVersions.join(', ')}${c.preferredVersion ? ` (preferred ${c.preferredVersion})` : ''}` : 'none (the dsa CRDs are not installed)']);
    if (c.operator.found) {
      const o = c.operator.info;
      rows.push(['Operator Version', `${o.version} in ${o.namespace}${o.scope ? ` (scope ${o.scope})` : ''}${o.startedAt ? `, started ${o.startedAt}` : ''}`]);
      rows.push(['Operator API', `${o.apiVersion || 'unknown'} (schema ${o.apiDigest || 'unknown'})`]);
    } else rows.push(['Operator Version', `unknown: ${c.operator.reason}`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}\n`).join('');
}

export const versionCommand = defineCommand<VersionFlags>({
  name: 'version',
  summary: 'print the versions of dsa and, with --cluster, of the operator and API in the cluster',
  description:
    'Without --cluster nothing is read from the cluster. With it, dsa reads the dsa.dev versions the\n' +
    'apiserver serves (discovery) and the ConfigMap dsa-operator-info that the operator publishes in its\n' +
    `namespace (--operator-namespace, $${OPERATOR_NAMESPACE_ENV}, default ${DEFAULT_OPERATOR_NAMESPACE}), and warns when\n` +
    'they and this dsa disagree on the API. Exit 1 when the cluster cannot be reached.',
  options: [
    new Option('--cluster', 'also show the operator and the dsa API of the current kube context'),
    new Option('--operator-namespace <ns>', `namespace of the operator (default: $${OPERATOR_NAMESPACE_ENV}, then ${DEFAULT_OPERATOR_NAMESPACE})`),
  ],
  examples: [
    ['dsa version', 'this dsa: version, commit, API'],
    ['dsa version --cluster', 'and the operator and API of the current context'],
    ['dsa version --cluster -o json', 'as JSON'],
  ],
  async run(ctx, _args, flags) {
    const info = await buildInfo();
    const api = await agentApi(info.apiDigest);
    const report: VersionReport = {
      agent: {
        version: info.version,
        commit: info.commit,
        built: info.date,
        flavor: info.flavor,
        node: process.version,
        platform: `${process.platform}/${process.arch}`,
        apiVersion: api.apiVersion,
        apiDigest: api.apiDigest,
      },
    };
    if (flags.cluster) {
      const target = ctx.deps.kube.target();
      const kc = await ctx.deps.kube.kubeConfig();
      const operatorNamespace = flags.operatorNamespace || ctx.processEnv[OPERATOR_NAMESPACE_ENV] || DEFAULT_OPERATOR_NAMESPACE;
      const cluster = await readClusterApi(kc, { operatorNamespace, signal: ctx.signal });
      report.cluster = { server: kc.getCurrentCluster()?.server ?? '', context: target.contextName ?? '', ...cluster };
      report.skew = apiSkew(api, cluster);
      for (const line of report.skew) ctx.log.warn(line);
    }
    if (ctx.globals.output === 'json') ctx.stdout.write(toJson(report));
    else if (ctx.globals.output === 'yaml') ctx.stdout.write(toYaml(report));
    else ctx.stdout.write(formatVersion(report));
  },
});
