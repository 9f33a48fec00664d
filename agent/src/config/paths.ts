// Field paths as users write them: `images.api.build.kaniko.cache`, `deployments[0].name`,
// `images["my.image"]`.

export type Seg = string | number;

const PLAIN = /^[A-Za-z0-9_-]+$/;

export function fmtPath(segs: readonly Seg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
