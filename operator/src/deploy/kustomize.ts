// Kustomize for git sources (`kubectl kustomize <dir>`). Inline manifests arrive pre-rendered by the agent.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseManifests } from './manifests.js';
import { runCommand, type CommandRunner } from './exec.js';

/** DSA_KUBECTL, else `kubectl` found on PATH, else undefined (kustomize unavailable). */
export function kubectlBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DSA_KUBECTL) return env.DSA_KUBECTL;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export class KustomizeRenderer {
  constructor(
    /** undefined: kustomize unavailable (the reconciler stalls with a message saying so). */
    readonly kubectlPath: string | undefined,
    private readonly run: CommandRunner = runCommand,
  ) {}

  /** kubectl from DSA_KUBECTL or PATH. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): KustomizeRenderer {
    return new KustomizeRenderer(kubectlBinary(env));
  }

  get available(): boolean {
    return this.kubectlPath !== undefined;
  }

  async build(dir: string, signal?: AbortSignal): Promise<KubernetesObject[]> {
    if (!this.kubectlPath) throw new Error('kustomize is not available: set DSA_KUBECTL to a kubectl binary');
    const out = await this.run(this.kubectlPath, ['kustomize', dir], { timeoutMs: 60_000, signal });
    return parseManifests(out, `kustomize ${dir}`);
  }
}
