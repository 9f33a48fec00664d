import { Option } from 'commander';
import { toJson, toYaml } from '../../output/printer.js';
import { deleteSessions, describeInventory } from '../../session/delete.js';
import { parseDuration } from '../../session/duration.js';
import { projectSessions } from '../../session/project-session.js';
import { defineCommand } from '../command.js';

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
    new Option('--timeout <duration>', 'how long to wait for the cleanup').default('5m'),
  ],
  examples: [
    ['dsa down', 'delete the session for ./devspace.yaml and everything it deployed'],
    ['dsa purge --dependencies', 'the same, including dependency sessions'],
  ],
  async run(ctx, _args, flags) {
    const timeoutMs = parseDuration(flags.timeout ?? '5m');
    const ps = await projectSessions(ctx, { optionalConfig: false });
    // Root first (it uses the others), then the dependencies in reverse render order.
    const refs = [...ps.refs].reverse();
    const chosen = flags.dependencies ? refs : refs.slice(0, 1);
    const removed = await deleteSessions(ps.kube, chosen, {
      keepDeployments: flags.keepDeployments,
      timeoutMs,
      signal: ctx.signal,
      log: (l) => ctx.log.info(l),
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
    const left = refs.length - chosen.length;
    if (left > 0) ctx.log.info(`${left} dependency session${left === 1 ? '' : 's'} kept (use --dependencies to delete them)`);
  },
});
