// kaniko executor as a Builder. The digest of the pushed image is written with --digest-file to the
// container's termination-message file, so it comes back in pod.status (no log scraping, no extra API
// call); on failure the termination message falls back to the log tail (FallbackToLogsOnError).
import type { V1Container, V1ContainerStatus, V1Volume } from '@kubernetes/client-node';
import type { BuildRequest, Builder } from './builder.js';

export const KANIKO_CONTAINER = 'build';
export const TERMINATION_LOG = '/dev/termination-log';
const DOCKER_CONFIG_VOLUME = 'docker-config';
const SHA256_DIGEST = /sha256:[a-f0-9]{64}/;

/** Executor flags, in a stable order (the pod spec must be deterministic). */
export function kanikoArgs(req: BuildRequest): string[] {
  const args = [`--context=dir://${req.contextDir}`, `--dockerfile=${req.dockerfile}`];
  for (const d of req.destinations) args.push(`--destination=${d}`);
  for (const k of Object.keys(req.buildArgs).sort()) args.push(`--build-arg=${k}=${req.buildArgs[k]}`);
  if (req.target) args.push(`--target=${req.target}`);
  args.push(`--digest-file=${TERMINATION_LOG}`);
  if (req.insecure) args.push('--insecure', '--insecure-pull', '--skip-tls-verify', '--skip-tls-verify-pull');
  if (req.cache) args.push('--cache=true');
  // Log lines without colour codes read better in logTail/events.
  args.push('--log-format=text', '--log-timestamp=false');
  args.push(...req.extraArgs);
  return args;
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
