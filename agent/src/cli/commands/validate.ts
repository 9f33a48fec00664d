import { isAbsolute, relative } from 'node:path';
import { validateProject, type ValidateReport } from '../../actions/validate.js';
import { toJson, toYaml } from '../../output/printer.js';
import { defineCommand } from '../command.js';
import { skipFileChecksOption, type RenderFlags } from '../flags.js';

/** The config path as the user would like to read it: relative to cwd when inside it. */
function displayPath(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const validateCommand = defineCommand<RenderFlags>({
  name: 'validate',
  summary: 'check a devspace.yaml: load, render, and validate the objects against the CRD schemas',
  description: 'Exit 0 when valid, 2 with one `file:line:col: path: reason` line when not. Never contacts the cluster.',
  options: [skipFileChecksOption()],
  examples: [
    ['dsa validate', '✓ devspace.yaml: valid (1 image, 1 deployment, 1 dev pod, 0 dependencies; 0 warnings)'],
    ['dsa validate --config services/api/devspace.yaml -p staging', 'another file, with a profile'],
    ['dsa validate -o json', 'a machine-readable report (also on failure)'],
  ],
  async run(ctx, _args, flags) {
    const project = ctx.project();
    const file = displayPath(ctx.cwd, project.configPath);
    const outcome = await validateProject(ctx.env, ctx.deps, { project, checkFiles: !flags.skipFileChecks, file });
    const emit = (report: ValidateReport) => ctx.stdout.write(ctx.globals.output === 'yaml' ? toYaml(report) : toJson(report));
    if (ctx.globals.output === 'json' || ctx.globals.output === 'yaml') emit(outcome.report);
    // The top-level handler prints the one line and exits 2.
    if (!outcome.valid) throw outcome.error;
    if (ctx.globals.output !== 'table') return;
    const c = outcome.counts;
    const summary = [plural(c.images, 'image'), plural(c.deployments, 'deployment'), plural(c.devPods, 'dev pod'), plural(c.dependencies, 'dependency').replace(/dependencys$/, 'dependencies')].join(', ');
    ctx.stdout.write(`${ctx.stdoutColor.green('✓')} ${file}: valid (${summary}; ${plural(c.warnings, 'warning')})\n`);
  },
});
