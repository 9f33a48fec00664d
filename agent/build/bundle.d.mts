// Types of bundle.mjs for the tests that use its parts (agent/test/package/).
import type { Plugin } from 'esbuild';

export function agentPlugin(opts: { entry: string; shimPath: string; clientNodeFacade?: string }): Plugin;
export function writeValidatorShim(dir: string, api: unknown): Promise<string>;
export function buildAgent(opts?: { format?: 'esm' | 'cjs'; out?: string; metafile?: boolean }): Promise<{
  format: 'esm' | 'cjs';
  entry: string;
  files: number;
  bytes: number;
  ms: number;
  build: { version: string; commit: string; date: string; flavor: 'bundle' | 'sea'; apiDigest: string };
  clientNode: string[];
  warnings: number;
}>;
