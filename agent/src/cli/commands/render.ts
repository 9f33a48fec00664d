import { renderObjects } from '../../actions/render.js';
import { toJson, toList } from '../../output/printer.js';
import { defineCommand } from '../command.js';
import { skipFileChecksOption, type RenderFlags } from '../flags.js';

export const renderCommand = defineCommand<RenderFlags>({
  name: 'render',
  summary: 'print the DevSession and ImageBuild objects a devspace.yaml stands for',
  description:
    'Load devspace.yaml (profiles and variables applied), and print the DevSession of the project and of\n' +
    'each dependency, plus the ImageBuilds the operator will create. Never contacts the cluster: the\n' +
    'namespace comes from -n, the project\'s own, the kube context, or "default". Pipe it to\n' +
    '`kubectl apply -f -` for GitOps.',
  options: [skipFileChecksOption()],
  examples: [
    ['dsa render', 'multi-document YAML for ./devspace.yaml'],
    ['dsa render -o json | jq .items[].kind', 'a JSON List'],
    ['dsa render -p production --var IMAGE=nginx -n dev-alice', 'with a profile, a variable and a namespace'],
    ['dsa render --config examples/helm-app/devspace.yaml | kubectl apply -f -', 'apply without the agent'],
  ],
  async run(ctx, _args, flags) {
    const objects = await renderObjects(ctx.env, ctx.deps, { project: ctx.project(), checkFiles: !flags.skipFileChecks });
    // `table` is the global default; for render the natural "table" is the YAML itself.
    ctx.stdout.write(ctx.globals.output === 'json' ? toJson(toList(objects)) : (await ctx.deps.services()).renderToYaml(objects));
  },
});
