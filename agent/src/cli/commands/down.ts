import { Option } from 'commander';
import { downProject } from '../../actions/down.js';
import { toJson, toYaml } from '../../output/printer.js';
import { describeInventory } from '../../session/delete.js';
import { defineCommand } from '../command.js';
import { timeoutMs, timeoutOption } from '../flags.js';

export const downCommand = defineCommand<{ keepDeployments?: boolean; dependencies?: boolean; timeout?: string }>({
  name: 'down',
  aliases: ['purge'],
  summary: 'stop developing: delete the DevSession and what it deployed (alias: purge)',
  description:
    'Delete the DevSession of ./devspace.yaml and wait until the operator has removed what it deployed.\n' +
    'Dependency sessions stay unless --dependencies (DevSpace\'s purge default); they are deleted after\n' +
    'the root. Built images stay in the registry.',
  options: [
    new Option('--keep-deployments', 'delete the session but leave deployed objects running'),
    new Option('--dependencies', 'also delete the sessions of dependencies'),
    timeoutOption('5m', 'the cleanup'),
  ],
  examples: [
    ['dsa down', 'delete the session for ./devspace.yaml and everything it deployed'],
    ['dsa purge --dependencies', 'the same, including dependency sessions'],
  ],
  async run(ctx, _args, flags) {
    const { removed, keptDependencies } = await downProject(ctx.env, ctx.deps, {
      project: ctx.project(),
      keepDeployments: flags.keepDeployments,
      dependencies: flags.dependencies,
      timeoutMs: timeoutMs(flags.timeout, '5m'),
    });
    if (ctx.globals.output !== 'table') {
      const items = removed.map((r) => ({ namespace: r.ref.namespace, name: r.ref.name, kept: r.kept, objects: r.inventory }));
      ctx.stdout.write(ctx.globals.output === 'json' ? toJson({ removed: items }) : toYaml({ removed: items }));
      return;
    }
    for (const r of removed) {
      const what = r.inventory.length === 0 ? 'nothing deployed' : `${r.inventory.length} object${r.inventory.length === 1 ? '' : 's'} ${r.kept ? 'kept' : 'deleted'}: ${describeInventory(r.inventory)}`;
      ctx.stdout.write(`deleted DevSession ${r.ref.namespace}/${r.ref.name} (${what})\n`);
    }
    if (removed.length === 0) ctx.stdout.write('nothing to delete\n');
    if (keptDependencies > 0) ctx.log.info(`${keptDependencies} dependency session${keptDependencies === 1 ? '' : 's'} kept (use --dependencies to delete them)`);
  },
});
