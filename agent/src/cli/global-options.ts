import { InvalidArgumentError, Option, type Command } from 'commander';
import type { OutputFormat } from '../output/printer.js';

/** output/printer.ts's OUTPUT_FORMATS, repeated so that parsing flags does not load the YAML library (a test keeps them equal). */
export const OUTPUT_CHOICES: readonly OutputFormat[] = ['table', 'json', 'yaml'];

/** Options every command accepts (kubectl conventions), after parsing. */
export interface GlobalOptions {
  /** `--config`, as given (relative to cwd); undefined: found by cli/project-discovery.ts. */
  config?: string;
  /** `-p/--profile`, in order; repeatable. */
  profiles: string[];
  /** `--var K=V`, later wins. */
  vars: Record<string, string>;
  kubeconfig?: string;
  /** `--context` or its alias `--kube-context` (Helm's and DevSpace's name). */
  context?: string;
  namespace?: string;
  output: OutputFormat;
  /** false with `--no-color`. NO_COLOR/TERM/FORCE_COLOR are applied later (output/color.ts). */
  color: boolean;
  verbose: boolean;
  /** false with `--no-input`: never prompt. */
  input: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function collectVar(value: string, previous: string[] | undefined): string[] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected KEY=VALUE (e.g. --var IMAGE=nginx)');
  return [...(previous ?? []), value];
}

function nonEmpty(what: string) {
  return (value: string): string => {
    if (value.trim() === '') throw new InvalidArgumentError(`${what} must not be empty`);
    return value;
  };
}

/** Registers the global options on the root command; commander recognises them before or after the subcommand. */
export function addGlobalOptions(program: Command): void {
  program
    .option('--config <file>', 'devspace.yaml to load (default: $DEVSPACE_CONFIG, else devspace.yaml here or in a parent folder)')
    .option('-p, --profile <name>', 'apply a profile (repeatable, applied in order)', collect)
    .option('--var <KEY=VALUE>', 'set a config variable (repeatable)', collectVar)
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kube context to use (alias --kube-context)', nonEmpty('--context'))
    .addOption(new Option('--kube-context <name>', 'alias of --context').hideHelp().argParser(nonEmpty('--kube-context')))
    .option('-n, --namespace <ns>', 'namespace (default: the project\'s own, then the context\'s, then "default")', nonEmpty('--namespace'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_CHOICES).default('table'))
    .option('--no-color', 'disable colours (also NO_COLOR=1 or TERM=dumb; FORCE_COLOR=1 forces them)')
    .option('-v, --verbose', 'debug logs on stderr (and stack traces of internal errors)', false)
    .option('--no-input', 'never prompt (fail instead); implied when stdin is not a terminal');
}

/** Turn commander's raw option bag into GlobalOptions. */
export function toGlobalOptions(raw: Record<string, unknown>): GlobalOptions {
  const vars: Record<string, string> = {};
  for (const kv of (raw.var as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    vars[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const context = (raw.context as string | undefined) ?? (raw.kubeContext as string | undefined);
  const opts: GlobalOptions = {
    profiles: (raw.profile as string[] | undefined) ?? [],
    vars,
    output: (raw.output as OutputFormat | undefined) ?? 'table',
    color: raw.color !== false,
    verbose: raw.verbose === true,
    input: raw.input !== false,
  };
  if (typeof raw.config === 'string') opts.config = raw.config;
  if (typeof raw.kubeconfig === 'string') opts.kubeconfig = raw.kubeconfig;
  if (context !== undefined) opts.context = context;
  if (typeof raw.namespace === 'string') opts.namespace = raw.namespace;
  return opts;
}
