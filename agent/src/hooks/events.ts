// When dsa fires which hook event. DevSpace runs hooks around its own build and deploy steps; in dsa
// the operator builds and deploys, so the agent fires the events at the points it can see:
//
//   before:build[:img|:*], before:deploy[:name|:*]   before the DevSessions are rendered for good and applied
//                                                    (what they write — a values file, a generated manifest,
//                                                    a build input — is in what is deployed and built)
//   skip:build:img|:*                                an image that is not built (--skip-build, disabled, skipBuild)
//   after:build:img|:*, error:build:img|:*           when the session's status reports the image built / failed
//   after:build                                      when every image of the session is built
//   after:deploy:name|:*                             when the session's status reports that deployment ready
//   after:deploy                                     when the session is Ready
//   error:deploy                                     when the deploy fails (stalled, fail-fast, timeout)
//   before:purge[:name|:*], after:purge[:name|:*]    dsa down, around the deletion
//
// Per-item events fire as DevSpace's EventsForSingle does: `base:*` then `base:<name>`. Pure.
import type { DevSession } from '@dsa/api';

/** DevSpace's EventsForSingle: the wildcard first, then the named event. */
export function eventsForSingle(base: string, name: string): string[] {
  return [`${base}:*`, `${base}:${name}`];
}

/** The hooks listening to `event`, in config order. */
export function hooksFor<H extends { events: readonly string[] }>(hooks: readonly H[], event: string): H[] {
  return hooks.filter((h) => h.events.includes(event));
}

/** `DEVSPACE_HOOK_<KEY>` environment of a hook, as DevSpace's ConvertExtraEnv makes it (objects as JSON). */
export function hookEnv(event: string, extra: Readonly<Record<string, unknown>> = {}): Record<string, string> {
  const out: Record<string, string> = { DEVSPACE_HOOK_EVENT: event };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === null) continue;
    out[`DEVSPACE_HOOK_${k.toUpperCase()}`] = typeof v === 'string' ? v : typeof v === 'number' ? String(v) : v instanceof Error ? v.message : JSON.stringify(v);
  }
  return out;
}

/** One firing: the events, in order, with their extra environment. */
export interface Firing {
  events: string[];
  extra: Record<string, unknown>;
}

/** The names the user wrote (images/deployments keys) for the names the DevSession uses. */
export interface SessionNames {
  /** spec.images[].name → devspace.yaml images key. */
  images: ReadonlyMap<string, string>;
  /** spec.deployments[].name → devspace.yaml deployments key. */
  deployments: ReadonlyMap<string, string>;
}

/**
 * Follows one session's status during the wait and says which events it calls for, each once. Only
 * statuses of the generation we applied count, and only the parts the operator recomputed in that
 * pass: while it waits for dependencies (Pending) the images and deployments are carried over from
 * the previous pass, and before it deploys (Building) so are the deployments.
 */
export class SessionEventTracker {
  private readonly fired = new Set<string>();

  constructor(
    private readonly names: SessionNames,
    private readonly generation: number,
  ) {}

  next(s: DevSession): Firing[] {
    const st = s.status;
    if (!st || (st.observedGeneration ?? -1) < this.generation) return [];
    const out: Firing[] = [];
    const once = (key: string, f: Firing) => {
      if (this.fired.has(key)) return;
      this.fired.add(key);
      out.push(f);
    };
    const phase = st.phase ?? '';
    if (['Building', 'Deploying', 'Ready', 'Failed'].includes(phase)) {
      const wanted = (s.spec.images ?? []).filter((i) => !i.skip).map((i) => i.name);
      let built = 0;
      for (const img of st.images ?? []) {
        const key = this.names.images.get(img.name) ?? img.name;
        if (img.phase === 'Succeeded') {
          built++;
          once(`after:build:${img.name}`, { events: eventsForSingle('after:build', key), extra: { IMAGE_CONFIG_NAME: key, IMAGE_NAME: img.image } });
        } else if (img.phase === 'Failed') {
          once(`error:build:${img.name}`, { events: eventsForSingle('error:build', key), extra: { IMAGE_CONFIG_NAME: key, ERROR: st.message } });
        }
      }
      if (wanted.length > 0 && built >= wanted.length) once('after:build', { events: ['after:build'], extra: {} });
    }
    if (phase === 'Deploying' || phase === 'Ready') {
      for (const d of st.deployments ?? []) {
        if (!d.ready) continue;
        const key = this.names.deployments.get(d.name) ?? d.name;
        once(`after:deploy:${d.name}`, { events: eventsForSingle('after:deploy', key), extra: { DEPLOY_NAME: key } });
      }
    }
    return out;
  }
}
