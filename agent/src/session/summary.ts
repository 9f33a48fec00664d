// The result table of `dsa deploy` / `dsa up`: one row per session, dependencies first.
import type { DevSession } from '@dsa/api';

export const SUMMARY_HEADERS = ['session', 'namespace', 'phase', 'images', 'deployments', 'message'] as const;

/** `app=dsa-1a2b…` per built image (the tag is what changes between deploys), `-` when none. Pure. */
export function imagesCell(s: DevSession): string {
  const images = s.status?.images ?? [];
  if (images.length === 0) return '-';
  return images
    .map((i) => {
      const ref = i.image ?? '';
      const at = ref.lastIndexOf(':');
      const tag = at > ref.lastIndexOf('/') ? ref.slice(at + 1) : '';
      return `${i.name}=${tag || i.phase || '?'}`;
    })
    .join(',');
}

export function summaryRow(s: DevSession): string[] {
  const st = s.status ?? {};
  return [s.metadata.name, s.metadata.namespace ?? '', st.phase ?? '-', imagesCell(s), st.deploymentsReady ?? '-', (st.message ?? '').replace(/\s*\n\s*/g, ' ')];
}
