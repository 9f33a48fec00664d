import { Option } from 'commander';
import { analyzeProject } from '../../actions/analyze.js';
import { formatReport } from '../../analyze/report.js';
import { ExitCode } from '../../errors.js';
import { toJson, toYaml } from '../../output/printer.js';
import { defineCommand } from '../command.js';
import { parseLines, timeoutMs, timeoutOption } from '../flags.js';

export const analyzeCommand = defineCommand<{ wait?: boolean; timeout?: string; lines?: number | string }>({
  name: 'analyze',
  summary: 'explain what is wrong in the session\'s namespace, and what to do about it',
  description:
    'Report, for the namespace of ./devspace.yaml\'s session (or -n): crash-looping containers with their exit\n' +
    'code and last log lines, images that cannot be pulled with the registry\'s reason, pods no node fits with\n' +
    'the scheduler\'s reason, failing readiness probes, OOM kills, recent Warning events, and the DevSession\'s\n' +
    'and ImageBuilds\' own conditions (with the build log of a failed build). Each problem says what to do.\n' +
    `Exit code 0 when nothing is wrong, ${ExitCode.ProblemsFound} when problems were found (the report is on stdout), 1 when\n` +
    'the cluster could not be read. Warnings (a rollout in progress, an earlier restart) do not change the exit code.',
  options: [
    new Option('--wait', 'first wait until the session is ready or failed and no pod is starting (up to --timeout)'),
    timeoutOption('2m', 'the namespace to settle with --wait'),
    new Option('--lines <n>', 'log lines shown per failing container').default('50').argParser(parseLines),
  ],
  examples: [
    ['dsa analyze', 'problems in the namespace of ./devspace.yaml\'s session'],
    ['dsa analyze -n dev-alice -o json', 'as JSON (an AnalyzeReport), in namespace dev-alice'],
    ['dsa deploy || dsa analyze --wait', 'explain a failed deploy'],
  ],
  async run(ctx, _args, flags) {
    const report = await analyzeProject(ctx.env, ctx.deps, {
      project: ctx.project(),
      wait: flags.wait === true,
      timeoutMs: timeoutMs(flags.timeout, '2m'),
      logLines: typeof flags.lines === 'number' ? flags.lines : parseLines(flags.lines ?? '50'),
    });
    if (ctx.globals.output === 'json') ctx.stdout.write(toJson(report));
    else if (ctx.globals.output === 'yaml') ctx.stdout.write(toYaml(report));
    else ctx.stdout.write(formatReport(report, ctx.stdoutColor));
    return report.healthy ? ExitCode.Ok : ExitCode.ProblemsFound;
  },
});
