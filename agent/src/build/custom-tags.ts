// The tags of custom builds, known before they run (content addressed: decide.ts), so `dsa render`
// shows the DevSession `dsa deploy` applies after building.
import type { ProjectConfig } from '@dsa/api';
import { dnsLabel, planSessions } from '../render/render-project.js';
import { customImageTag } from './decide.js';
import { filesDigest } from './files-digest.js';

/**
 * `<session>/<spec image name>` → tag, for every custom-built image of the project and its loaded
 * dependencies. An image whose files cannot be read is reported to `unreadable` and left out.
 */
export async function customBuildTags(project: ProjectConfig, namespace: string, unreadable: (image: string, err: unknown) => void): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const plan of planSessions(project, namespace).sessions) {
    if (plan.skipBuild) continue;
    for (const img of plan.project.images) {
      if (img.requestedEngine !== 'custom' || !img.custom || img.disabled) continue;
      try {
        const digest = await filesDigest(plan.project.dir, img.custom.onChange.length > 0 ? img.custom.onChange : [img.context]);
        out[`${plan.name}/${dnsLabel(img.name)}`] = customImageTag(img.custom, plan.project.dir, digest);
      } catch (err) {
        unreadable(img.name, err);
      }
    }
  }
  return out;
}
