// What every action gets besides its options: the project the user pointed at, and the collaborators
// it works through. Actions know nothing of commander or the CLI; the CLI builds these from its flags.
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeAccess } from '../kube/access.js';
import type { ProjectServices } from '../project/project-services.js';
import type { DevClients } from '../devloop/service.js';
import type { SessionKube } from '../session/kube.js';
import type { LocalContext, PreparedTar } from '../session/uploads.js';

/** The project an action works on, as the user chose it. */
export interface ProjectRef {
  /** Absolute path of devspace.yaml. */
  configPath: string;
  profiles: readonly string[];
  /** `--var K=V`. */
  vars: Readonly<Record<string, string>>;
  /** What `source: env` variables read. */
  processEnv: Readonly<Record<string, string | undefined>>;
  /** Who is developing, for DevSession spec.owner. */
  owner: { user: string; host: string };
  /** Asks for a variable that has no value. Present only when someone can answer (a terminal, no --no-input). */
  prompt?: (question: string, opts: { default?: string; options?: string[]; password?: boolean }) => Promise<string>;
}

/** The cluster-side clients, made from a KubeConfig; tests pass in-memory ones. */
export interface ClusterClients {
  sessionKube(kc: KubeConfig): Promise<SessionKube>;
  /** The canonical tar of a local build context (its digest, size, and a reader). */
  prepareContext(local: LocalContext): Promise<PreparedTar>;
  /** Stream a context tar into a build pod's upload container. */
  uploadContext(kc: KubeConfig, target: { namespace: string; pod: string; container: string }, tar: AsyncIterable<Buffer | Uint8Array>, signal: AbortSignal): Promise<{ bytes: number }>;
  /** exec/log/port-forward clients and the process terminal, for enter, logs and the dev loop. */
  devClients(kc: KubeConfig): DevClients;
}

export interface ActionDeps {
  readonly kube: KubeAccess;
  /** Loader, renderer, validators; created on first use. */
  services(): Promise<ProjectServices>;
  readonly cluster: ClusterClients;
}
