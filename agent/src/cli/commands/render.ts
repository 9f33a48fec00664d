import { Option } from 'commander';
import { toJson, toList } from '../../output/printer.js';
import { defineCommand } from '../command.js';
import { formatWarning, loadAndRender } from '../project.js';

export interface RenderFlags {
  skipFileChecks?: boolean;
}

export const skipFileChecksOption = () =>
  new Option('--skip-file-checks', 'advanced: do not require referenced files (manifests, Dockerfiles, charts) to exist').hideHelp();

export const renderCommand = defineCommand<RenderFlags>({
  name: 'render',
  summary: 'print the DevSession and ImageBuild objects a devspace.yaml stands for',
  description:
    'Load devspace.yaml (profiles and variables applied), and print the DevSession of the project and of\n' +
    'each dependency, plus the ImageBuilds the operator will create. Never contacts the cluster: the\n' +
    'namespace comes from -n, the kube context, or "default". Pipe it to `kubectl apply -f -` for GitOps.',
  options: [skipFileChecksOption()],
  examples: [
    ['dsa render', 'multi-document YAML for ./devspace.yaml'],
    ['dsa render -o json | jq .items[].kind', 'a JSON List'],
    ['dsa render -p production --var IMAGE=nginx -n dev-alice', 'with a profile, a variable and a namespace'],
    ['dsa render --config examples/helm-app/devspace.yaml | kubectl apply -f -', 'apply without the agent'],
  ],
  async run(ctx, _args, flags) {
    const { rendered, warnings } = await loadAndRender(ctx, { checkFiles: !flags.skipFileChecks });
    for (const w of warnings) ctx.log.warn(formatWarning(w));
    const objects = [...rendered.sessions, ...rendered.imageBuilds];
    if (ctx.globals.output === 'json') {
      ctx.stdout.write(toJson(toList(objects)));
    } else {
      // `table` is the global default; for render the natural "table" is the YAML itself.
      const services = await ctx.services();
      ctx.stdout.write(services.renderToYaml(objects));
    }
  },
});
