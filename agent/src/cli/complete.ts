// Shell completion, as kubectl and helm do it (cobra's protocol): the shell scripts (completion-scripts.ts)
// call `dsa __complete <words typed after dsa…>`, the last word being the one under the cursor (maybe
// empty), and print what comes back: one candidate per line (`value<TAB>description`), then a line
// `:<directive>` telling the shell whether to fall back to file names. Every rule lives here, over
// the real commander tree, so the scripts stay small and the rules are tested in-process.
import type { Command, Option } from 'commander';
import type { ContextIO } from './context.js';
import { buildProgram, COMPLETE_COMMAND, findCommand, loadCommand } from './program.js';

export { COMPLETE_COMMAND };

/** Bit flags, cobra's values (ShellCompDirective). */
export const Directive = {
  Default: 0,
  Error: 1,
  NoSpace: 2,
  NoFileComp: 4,
  /** The candidates are file extensions: complete file names with them (and folders). */
  FilterFileExt: 8,
} as const;

export interface Candidate {
  value: string;
  description?: string;
}

export interface Completion {
  candidates: Candidate[];
  directive: number;
}

/** What the words typed so far set, for the dynamic sources (they read the same files and cluster the command would). */
export interface TypedFlags {
  config?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** Values that come from the project or the cluster; each fails soft (returns []), bounded in time. */
export interface CompletionSources {
  /** Profile names of the project's devspace.yaml. */
  profiles(typed: TypedFlags): Promise<Candidate[]>;
  /** Context names of the kubeconfig. */
  contexts(typed: TypedFlags): Promise<Candidate[]>;
  /** Namespaces of the cluster, described with the DevSessions in them. */
  namespaces(typed: TypedFlags): Promise<Candidate[]>;
  /** Pods of the namespace in use. */
  pods(typed: TypedFlags): Promise<Candidate[]>;
}

/** Option (long name) → where its values come from. */
const VALUE_SOURCES: Readonly<Record<string, keyof CompletionSources>> = {
  '--profile': 'profiles',
  '--context': 'contexts',
  '--kube-context': 'contexts',
  '--namespace': 'namespaces',
  '--operator-namespace': 'namespaces',
  '--pod': 'pods',
};

/** Option (long name) → file extensions its value has ([] = any file). */
const FILE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  '--config': ['yaml', 'yml'],
  '--kubeconfig': [],
};

/** Option → the TypedFlags key it sets. */
const TYPED: Readonly<Record<string, keyof TypedFlags>> = {
  '--config': 'config',
  '--kubeconfig': 'kubeconfig',
  '--context': 'context',
  '--kube-context': 'context',
  '--namespace': 'namespace',
};

const SHELLS: Candidate[] = [
  { value: 'bash', description: 'bash ≥ 4 (source it from ~/.bashrc)' },
  { value: 'zsh', description: 'zsh (put it in $fpath as _dsa)' },
  { value: 'fish', description: 'fish (~/.config/fish/completions/dsa.fish)' },
];

const takesValue = (o: Option): boolean => o.required || o.optional;

function firstLine(text: string | undefined): string | undefined {
  const line = (text ?? '').split('\n')[0]?.trim();
  return line ? line : undefined;
}

function byPrefix(candidates: Candidate[], prefix: string): Candidate[] {
  return candidates.filter((c) => c.value.startsWith(prefix));
}

/** The option a word names: `--config`, `-n`, or the `-n` of `-ndev`. */
function optionFor(options: readonly Option[], word: string): Option | undefined {
  if (word.startsWith('--')) return options.find((o) => o.long === word);
  return options.find((o) => o.short === word.slice(0, 2));
}

function visibleOptions(options: readonly Option[]): Option[] {
  return options.filter((o) => !o.hidden);
}

function optionCandidates(options: readonly Option[], cur: string): Completion {
  const out: Candidate[] = [];
  for (const o of visibleOptions(options)) {
    const description = firstLine(o.description);
    const add = (value: string | undefined) => {
      if (value && value.startsWith(cur)) out.push({ value, ...(description ? { description } : {}) });
    };
    add(o.long);
    // Short forms only for a bare `-`, as kubectl: `--<TAB>` should not list them.
    if (cur === '-') add(o.short);
  }
  return { candidates: out, directive: Directive.NoFileComp };
}

function commandCandidates(program: Command, cur: string): Completion {
  const out: Candidate[] = [];
  for (const c of program.commands) {
    if ((c as unknown as { _hidden?: boolean })._hidden) continue;
    const description = firstLine(c.summary());
    for (const name of [c.name(), ...c.aliases()]) if (name.startsWith(cur)) out.push({ value: name, ...(description ? { description } : {}) });
  }
  if ('help'.startsWith(cur)) out.push({ value: 'help', description: 'help about a command' });
  return { candidates: out, directive: Directive.NoFileComp };
}

async function valueCandidates(option: Option, cur: string, prefix: string, typed: TypedFlags, sources: CompletionSources): Promise<Completion> {
  const long = option.long ?? '';
  const finish = (candidates: Candidate[]): Completion => ({
    candidates: byPrefix(candidates, cur).map((c) => ({ ...c, value: prefix + c.value })),
    directive: Directive.NoFileComp,
  });
  if (option.argChoices) return finish(option.argChoices.map((value) => ({ value })));
  const exts = FILE_OPTIONS[long];
  if (exts) return exts.length ? { candidates: exts.map((value) => ({ value })), directive: Directive.FilterFileExt } : { candidates: [], directive: Directive.Default };
  const source = VALUE_SOURCES[long];
  if (source) return finish(await sources[source](typed));
  return { candidates: [], directive: Directive.NoFileComp };
}

/**
 * The candidates for the last of `words` (the words after `dsa`). `load` completes a subcommand stub
 * (its options) before its flags are interpreted.
 */
export async function complete(program: Command, words: readonly string[], sources: CompletionSources, load: (cmd: Command) => Promise<unknown>): Promise<Completion> {
  const cur = words.length ? words[words.length - 1]! : '';
  let sub: Command | undefined;
  let pending: Option | undefined;
  let afterDashDash = false;
  let helpFor = false;
  const typed: TypedFlags = {};
  const options = (): Option[] => [...program.options, ...(sub?.options ?? [])];
  const record = (o: Option, value: string) => {
    const key = TYPED[o.long ?? ''];
    if (key) typed[key] = value;
  };
  for (const word of words.slice(0, -1)) {
    if (pending) {
      record(pending, word);
      pending = undefined;
    } else if (afterDashDash) {
      continue;
    } else if (word === '--') {
      afterDashDash = true;
    } else if (word.startsWith('-') && word.length > 1) {
      const eq = word.indexOf('=');
      const name = eq > 0 ? word.slice(0, eq) : word;
      const o = optionFor(options(), name);
      if (!o || !takesValue(o)) continue;
      if (eq > 0) record(o, word.slice(eq + 1));
      else if (!name.startsWith('--') && name.length > 2) record(o, name.slice(2));
      // `--exit-after-deploy [bool]`: an optional value is only ever attached with `=`.
      else if (o.required) pending = o;
    } else if (!sub) {
      if (word === 'help' && !helpFor) helpFor = true;
      else {
        sub = findCommand(program, word);
        if (sub && !helpFor) await load(sub);
      }
    }
  }
  if (pending) return valueCandidates(pending, cur, '', typed, sources);
  if (afterDashDash) return { candidates: [], directive: Directive.Default };
  if (cur.startsWith('-')) {
    const eq = cur.indexOf('=');
    if (eq < 0) return optionCandidates(options(), cur);
    const o = optionFor(options(), cur.slice(0, eq));
    if (!o || !takesValue(o)) return { candidates: [], directive: Directive.NoFileComp };
    return valueCandidates(o, cur.slice(eq + 1), cur.slice(0, eq + 1), typed, sources);
  }
  if (helpFor) return sub ? { candidates: [], directive: Directive.NoFileComp } : commandCandidates(program, cur);
  if (!sub) return commandCandidates(program, cur);
  if (sub.name() === 'completion') return { candidates: byPrefix(SHELLS, cur), directive: Directive.NoFileComp };
  // Positional arguments (`enter [cmd...]`): whatever the shell offers; commands without any: nothing.
  return { candidates: [], directive: sub.registeredArguments.length ? Directive.Default : Directive.NoFileComp };
}

/** The protocol's text: candidates, then `:<directive>`. Tabs and newlines in values or descriptions would break it. */
export function formatCompletion(c: Completion): string {
  const clean = (s: string) => s.replace(/[\t\r\n]+/g, ' ');
  return [...c.candidates.map((k) => (k.description ? `${clean(k.value)}\t${clean(k.description)}` : clean(k.value))), `:${c.directive}`].join('\n') + '\n';
}

/** `dsa __complete <words…>`: print the candidates. Always exit 0: a shell shows nothing rather than an error. */
export async function runComplete(words: readonly string[], io: ContextIO, version: string): Promise<number> {
  const program = buildProgram(io, {}, version);
  const { completionSources } = await import('./completion-sources.js');
  let result: Completion;
  try {
    result = await complete(program, words, completionSources(io), loadCommand);
  } catch {
    result = { candidates: [], directive: Directive.Error };
  }
  io.stdout.write(formatCompletion(result));
  return 0;
}
