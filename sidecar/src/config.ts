// The sidecar's configuration: the sync paths it serves, from SIDECAR_PATHS_ENV (set by the operator).
import path from 'node:path';
import type { SidecarPath } from '@dsa/api/sync';

/** Parse and check DSA_SYNC_PATHS; an unset variable means no sync paths (reverse ports only). */
export function parseSidecarPaths(raw: string | undefined): SidecarPath[] {
  if (raw === undefined || raw.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error('DSA_SYNC_PATHS is not valid JSON');
  }
  if (!Array.isArray(v)) throw new Error('DSA_SYNC_PATHS must be a JSON list');
  const seen = new Set<number>();
  return v.map((item, i) => {
    const o = item as Partial<SidecarPath> | null;
    if (typeof o !== 'object' || o === null) throw new Error(`DSA_SYNC_PATHS[${i}] must be an object`);
    if (!Number.isInteger(o.index) || (o.index as number) < 0) throw new Error(`DSA_SYNC_PATHS[${i}].index must be a non-negative integer`);
    if (seen.has(o.index as number)) throw new Error(`DSA_SYNC_PATHS: index ${o.index} appears twice`);
    seen.add(o.index as number);
    if (typeof o.mountPath !== 'string' || !path.isAbsolute(o.mountPath)) throw new Error(`DSA_SYNC_PATHS[${i}].mountPath must be an absolute path`);
    if (typeof o.devPod !== 'string' || o.devPod === '') throw new Error(`DSA_SYNC_PATHS[${i}].devPod must be a dev pod name`);
    if (!Number.isInteger(o.sync) || (o.sync as number) < 0) throw new Error(`DSA_SYNC_PATHS[${i}].sync must be a non-negative integer`);
    return {
      index: o.index as number,
      mountPath: o.mountPath,
      containerPath: typeof o.containerPath === 'string' ? o.containerPath : o.mountPath,
      container: typeof o.container === 'string' ? o.container : '',
      devPod: o.devPod,
      sync: o.sync as number,
    };
  });
}
