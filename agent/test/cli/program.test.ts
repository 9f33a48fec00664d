// The program loads a command's module only when that command runs (cli/program.ts): the registry's
// repeated summaries stay equal to the specs', `--help` loads nothing, and a run loads one command.
import { describe, expect, it } from '@jest/globals';
import { CommanderError } from 'commander';
import type { CommandEntry, CommandSpec } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { OUTPUT_CHOICES } from '../../src/cli/global-options.js';
import { buildProgram, operands, prepareHelp } from '../../src/cli/program.js';
import { OUTPUT_FORMATS } from '../../src/output/printer.js';
import { StringWriter } from '../../src/output/writer.js';
import type { ContextIO } from '../../src/cli/context.js';

function io(): ContextIO & { out: StringWriter } {
  const out = new StringWriter();
  return {
    out,
    stdout: out,
    stderr: new StringWriter(),
    env: {},
    cwd: '/',
    homeDir: '/nonexistent',
    isTTY: { stdin: false, stdout: false, stderr: false },
    signal: new AbortController().signal,
    services: () => Promise.reject(new Error('no services in this test')),
    owner: () => ({ user: 'u', host: 'h' }),
  };
}

/** Entries whose modules record that they were loaded. */
function spied(): { entries: CommandEntry[]; loaded: string[]; ran: string[] } {
  const loaded: string[] = [];
  const ran: string[] = [];
  const entries = ['alpha', 'beta'].map(
    (name): CommandEntry => ({
      name,
      summary: `the ${name} command`,
      load: async () => {
        loaded.push(name);
        return { name, summary: `the ${name} command`, examples: [[`dsa ${name}`, 'run it']], run: async () => void ran.push(name) } satisfies CommandSpec;
      },
    }),
  );
  return { entries, loaded, ran };
}

async function parse(entries: CommandEntry[], argv: string[]): Promise<{ out: string; exit?: number }> {
  const x = io();
  const program = buildProgram(x, {}, '1.2.3', entries);
  try {
    await prepareHelp(program, argv);
    await program.parseAsync(argv, { from: 'user' });
    return { out: x.out.toString() };
  } catch (e) {
    if (e instanceof CommanderError) return { out: x.out.toString(), exit: e.exitCode };
    throw e;
  }
}

describe('command registry', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s: name, summary and aliases equal its module\'s', async (_name, entry) => {
    const spec = await entry.load();
    expect({ name: spec.name, summary: spec.summary, aliases: spec.aliases ?? [] }).toEqual({ name: entry.name, summary: entry.summary, aliases: entry.aliases ?? [] });
  });

  it('the -o choices are the printer\'s formats', () => {
    expect([...OUTPUT_CHOICES]).toEqual([...OUTPUT_FORMATS]);
  });
});

describe('lazy loading', () => {
  it('--help lists every command without loading any', async () => {
    const s = spied();
    const r = await parse(s.entries, ['--help']);
    expect(r.exit).toBe(0);
    expect(r.out).toMatch(/^ {2}alpha +the alpha command$/m);
    expect(r.out).toMatch(/^ {2}beta +the beta command$/m);
    expect(s.loaded).toEqual([]);
  });

  it('running a command loads that command only', async () => {
    const s = spied();
    await parse(s.entries, ['-n', 'x', 'beta']);
    expect(s.loaded).toEqual(['beta']);
    expect(s.ran).toEqual(['beta']);
  });

  it('`help <command>` and `<command> --help` show the loaded command\'s help', async () => {
    for (const argv of [['help', 'alpha'], ['alpha', '--help']]) {
      const s = spied();
      const r = await parse(s.entries, argv);
      expect(r.exit).toBe(0);
      expect(r.out).toContain('# run it');
      expect(s.loaded).toEqual(['alpha']);
    }
  });

  it('operands skips global options and their values', () => {
    const program = buildProgram(io(), {}, '1', []);
    expect(operands(program, ['-n', 'ns', '--config=x', '--kubeconfig', 'k', '-v', 'help', 'logs', '--', '-x'])).toEqual(['help', 'logs', '-x']);
    expect(operands(program, ['-nns', 'help'])).toEqual(['help']);
  });
});
