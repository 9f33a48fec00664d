import { UsageError } from '../../errors.js';
import { defineCommand } from '../command.js';
import { completionScript, SHELL_NAMES, type ShellName } from '../completion-scripts.js';

export const completionCommand = defineCommand({
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  description:
    'Completes commands, flags, profile names from the project\'s devspace.yaml, kube contexts, and\n' +
    'namespaces (with their DevSessions) and pods from the cluster. The script calls `dsa __complete`,\n' +
    'so it keeps working after dsa is upgraded.',
  arguments: [['<shell>', 'bash, zsh or fish']],
  examples: [
    ['source <(dsa completion bash)', 'bash, this shell (add the line to ~/.bashrc for every shell)'],
    ['dsa completion zsh > "${fpath[1]}/_dsa"', 'zsh, installed (then start a new shell)'],
    ['dsa completion fish > ~/.config/fish/completions/dsa.fish', 'fish, installed'],
  ],
  async run(ctx, args) {
    const shell = args[0] ?? '';
    if (!(SHELL_NAMES as readonly string[]).includes(shell)) throw new UsageError(`unknown shell ${JSON.stringify(shell)}: choose ${SHELL_NAMES.join(', ')}`);
    ctx.stdout.write(completionScript(shell as ShellName));
  },
});
