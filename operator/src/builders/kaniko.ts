// kaniko executor as a Builder. The digest of the pushed image is written with --digest-file to the
// container's termination-message file, so it comes back in pod.status (no log scraping, no extra API
// call); on failure the termination message falls back to the log tail (FallbackToLogsOnError).
import type { V1Container, V1ContainerStatus, V1EnvVar, V1Volume } from '@kubernetes/client-node';
import type { BuildRequest, Builder } from './builder.js';

export const KANIKO_CONTAINER = 'build';
export const TERMINATION_LOG = '/dev/termination-log';
const DOCKER_CONFIG_VOLUME = 'docker-config';
const SHA256_DIGEST = /sha256:[a-f0-9]{64}/;

/**
 * The kubelet expands `$(VAR)` in container args and turns `$$` into `$`: every `$` a user wrote is doubled so
 * the executor gets exactly what was written, and only our own secret references expand.
 */
export const escapeArg = (v: string): string => v.replaceAll('$', '$$$$');

/** Environment variable for the i-th secret variable of a build (names stay valid whatever the variable is called). */
export const secretEnvName = (i: number): string => `DSA_SECRET_${i}`;

/** A build arg value, escaped, with `${dsa.secret.NAME}` placeholders of listed names as `$(DSA_SECRET_i)`. */
function buildArgValue(v: string, names: readonly string[]): string {
  const escaped = escapeArg(v);
  if (names.length === 0) return escaped;
  return escaped.replace(/\$\$\{dsa\.secret\.([A-Za-z_][A-Za-z0-9_.-]*)\}/g, (whole, name: string) => {
    const i = names.indexOf(name);
    return i < 0 ? whole : `$(${secretEnvName(i)})`;
  });
}

/** Executor flags, in a stable order (the pod spec must be deterministic). */
export function kanikoArgs(req: BuildRequest): string[] {
  const names = req.secretVars?.names ?? [];
  const args = [`--context=dir://${escapeArg(req.contextDir)}`, `--dockerfile=${escapeArg(req.dockerfile)}`];
  for (const d of req.destinations) args.push(`--destination=${escapeArg(d)}`);
  for (const k of Object.keys(req.buildArgs).sort()) args.push(`--build-arg=${escapeArg(k)}=${buildArgValue(req.buildArgs[k]!, names)}`);
  if (req.target) args.push(`--target=${escapeArg(req.target)}`);
  args.push(`--digest-file=${TERMINATION_LOG}`);
  if (req.insecure) args.push('--insecure', '--insecure-pull', '--skip-tls-verify', '--skip-tls-verify-pull');
  for (const f of req.registryFlags ?? []) if (!args.includes(f)) args.push(escapeArg(f));
  if (req.cache) args.push('--cache=true');
  // Log lines without colour codes read better in logTail/events.
  args.push('--log-format=text', '--log-timestamp=false');
  args.push(...req.extraArgs.map(escapeArg));
  return args;
}

/** The secret build-arg variables, filled by the kubelet from the Secret (never written into the pod spec). */
export function secretEnv(req: BuildRequest): V1EnvVar[] {
  const sv = req.secretVars;
  if (!sv) return [];
  return sv.names.map((name, i) => ({ name: secretEnvName(i), valueFrom: { secretKeyRef: { name: sv.secretName, key: name } } }));
}

export class KanikoBuilder implements Builder {
  readonly name = 'kaniko';

  container(req: BuildRequest): V1Container {
    const c: V1Container = {
      name: KANIKO_CONTAINER,
      image: req.image,
      args: kanikoArgs(req),
      volumeMounts: [{ name: req.workspaceVolume, mountPath: req.workspaceMountPath }],
      terminationMessagePath: TERMINATION_LOG,
      terminationMessagePolicy: 'FallbackToLogsOnError',
    };
    const env = secretEnv(req);
    if (env.length) c.env = env;
    if (req.pushSecret) {
      // kaniko reads $DOCKER_CONFIG/config.json (/kaniko/.docker/ in the executor image).
      c.volumeMounts!.push({ name: DOCKER_CONFIG_VOLUME, mountPath: '/kaniko/.docker', readOnly: true });
    }
    if (req.resources && (req.resources.limits || req.resources.requests)) c.resources = req.resources;
    return c;
  }

  volumes(req: BuildRequest): V1Volume[] {
    if (!req.pushSecret) return [];
    return [
      {
        name: DOCKER_CONFIG_VOLUME,
        secret: { secretName: req.pushSecret, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
      },
    ];
  }

  resultDigest(status: V1ContainerStatus | undefined): string | undefined {
    const t = status?.state?.terminated;
    if (!t || t.exitCode !== 0) return undefined;
    return t.message?.match(SHA256_DIGEST)?.[0];
  }
}
