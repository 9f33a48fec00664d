import type { CommandEntry } from '../command.js';

/**
 * In help order: the dev loop first, then offline tools. Each module is imported only when its command
 * runs (or its help is shown), so `dsa --help` loads none of them: a start-up budget, see docs/cli.md.
 */
export const COMMANDS: ReadonlyArray<CommandEntry> = [
  {
    name: 'up',
    summary: "start developing: build, deploy, then sync files, forward ports and stream logs (DevSpace's `dev`)",
    load: async () => (await import('./up.js')).upCommand,
  },
  { name: 'deploy', summary: 'build and deploy once, then exit (no sync, no port-forwarding)', load: async () => (await import('./deploy.js')).deployCommand },
  { name: 'enter', summary: 'open a shell (or run a command) in a dev container', load: async () => (await import('./enter.js')).enterCommand },
  { name: 'logs', summary: 'print the logs of a dev container', load: async () => (await import('./logs.js')).logsCommand },
  {
    name: 'analyze',
    summary: "explain what is wrong in the session's namespace, and what to do about it",
    load: async () => (await import('./analyze.js')).analyzeCommand,
  },
  {
    name: 'down',
    aliases: ['purge'],
    summary: 'stop developing: delete the DevSession and what it deployed (alias: purge)',
    load: async () => (await import('./down.js')).downCommand,
  },
  { name: 'render', summary: 'print the DevSession and ImageBuild objects a devspace.yaml stands for', load: async () => (await import('./render.js')).renderCommand },
  {
    name: 'validate',
    summary: 'check a devspace.yaml: load, render, and validate the objects against the CRD schemas',
    load: async () => (await import('./validate.js')).validateCommand,
  },
  { name: 'version', summary: 'print the versions of dsa and, with --cluster, of the operator and API in the cluster', load: async () => (await import('./version.js')).versionCommand },
  { name: 'completion', summary: 'print a shell completion script (bash, zsh or fish)', load: async () => (await import('./completion.js')).completionCommand },
];
