// docs/config-support.md is generated from the schemas (`npx tsx agent/src/config/write-support-doc.ts`);
// a unit test fails when the committed file drifts from them.
import { supportRows, type Support, type SupportRow } from './schema.js';
import { V1BETA_SCHEMA } from './schema-v1beta.js';
import { V2BETA1_SCHEMA } from './schema-v2beta1.js';

export interface SupportCounts {
  acted: number;
  warn: number;
  error: number;
  total: number;
}

export function supportFamilies(): Array<{ title: string; rows: SupportRow[] }> {
  return [
    { title: 'v1beta2 … v1beta11 (DevSpace 3.5 – 5.x)', rows: supportRows(V1BETA_SCHEMA) },
    { title: 'v2beta1 (DevSpace 6)', rows: supportRows(V2BETA1_SCHEMA) },
  ];
}

export function supportCounts(rows: SupportRow[] = supportFamilies().flatMap((f) => f.rows)): SupportCounts {
  const c = { acted: 0, warn: 0, error: 0, total: rows.length };
  for (const r of rows) c[r.support]++;
  return c;
}

const LABEL: Record<Support, string> = { acted: 'acted on', warn: 'parsed, warned', error: 'unsupported (error)' };

export function supportTableMarkdown(): string {
  const fams = supportFamilies();
  const all = supportCounts();
  const lines: string[] = [
    '# devspace.yaml field support',
    '',
    '<!-- Generated from agent/src/config/schema-*.ts by `npx tsx agent/src/config/write-support-doc.ts`. Do not edit by hand: a unit test compares this file with the schemas. -->',
    '',
    `**${all.total} fields: ${all.acted} acted on, ${all.warn} parsed but warned, ${all.error} unsupported (error).**`,
    '',
  ];
  for (const f of fams) {
    const c = supportCounts(f.rows);
    lines.push(`- ${f.title}: ${c.total} fields — ${c.acted} acted on, ${c.warn} parsed but warned, ${c.error} unsupported (error)`);
  }
  lines.push(
    '',
    'Meaning of the columns:',
    '',
    '- **acted on**: normalized into the project model and used by dsa.',
    '- **parsed, warned**: validated (type, unknown keys), then every use produces a warning naming the field (`dsa validate` prints them); dsa does not act on it.',
    '- **unsupported (error)**: dsa refuses the config, because ignoring the field would silently change what gets deployed.',
    '- Fields of a warned/refused parent inherit its status. Any key not listed is an error (`unknown field`), as in DevSpace, which parses strictly.',
    '- **versions**: for v1beta, the config versions where DevSpace has the field (empty = all of v1beta2 … v1beta11); using it in another version is an `unknown field` error.',
    '',
    'Loader behaviour worth knowing:',
    '',
    '- Variables `${VAR}` / `$!{VAR}` resolve from `--var`, predefined variables (`DEVSPACE_USERNAME`, `DEVSPACE_GIT_COMMIT`, `DEVSPACE_TIMESTAMP`, `DEVSPACE_RANDOM`, `DEVSPACE_NAME`, `DEVSPACE_NAMESPACE`, `DEVSPACE_PROFILE(S)`, `DEVSPACE_USER_HOME`, each also as `DSA_*`), the environment (and `DEVSPACE_VAR_<NAME>` for v1beta), the `vars` default, and a prompt only when stdin is a TTY; otherwise the error names the variable. `${runtime.*}` is left as written. `commands`, `pipelines` and `functions` are not resolved (dsa does not run them).',
    '- Profiles apply `replace`, then `merge`, then `patches` (`images.api.image`, `deployments[0]`, `images["svc"]`, `deployments[name=api]`, or a JSON pointer); `add` on a list appends. `parent` chains apply parents first; `activation` (env/vars regexes) activates profiles automatically.',
    '- Relative paths resolve against the folder of the config file. With `checkFiles: true` (the CLI default) Dockerfiles, build contexts, manifests (globs expanded), local charts, values files, exclude files and dependency folders must exist; a sync\'s local folder need not (DevSpace creates it). `checkFiles: false` keeps the absolute paths, leaves globs unexpanded and turns a missing dependency folder or exclude file into a warning (used to load DevSpace\'s published examples, whose files are not next to them).',
    '- Images with no build block get `requestedEngine: kaniko` and are built in the cluster; `build.docker` / `docker` are built by the agent with the local Docker daemon (kaniko when none answers, unless `disableFallback`), `custom` by the agent with the command (no Dockerfile needed), `buildKit` with kaniko (warning); `build.disabled` and dependency `skipBuild` images are never built (docs/cli.md, "Builds").',
    '- kubectl `manifests` may be files, folders (`manifests: [kube]`: the `*.yaml`/`*.yml`/`*.json` files directly in it, in byte order, as `kubectl -f` reads them) or globs; kustomize folders are rendered by the agent with `kustomize build <dir> <kustomizeArgs>`; local charts may be folders or packed `.tgz` files (docs/cli.md, "Deployment kinds").',
    '- v1beta `dev.ports` / `dev.sync` / terminal / `replacePods` entries are grouped into dev pods by equal selector, as DevSpace 6\'s upgrade does; v1beta2 `overrideImages` and v1beta3–9 `interactive.images` become the dev command of the pods running that image (`sleep 999999999` when no entrypoint is given).',
    '- Sync entries: v2beta1 `path` is split as DevSpace does (`""` = `.:.`, one part = both sides, the last `:` separates so `C:\\src:/app` keeps its drive letter); `*ExcludeFile` paths resolve against the sync\'s local folder and their lines (git\'s .gitignore reading rules) are appended to the inline list; v1beta `downloadOnInitialSync: true` becomes `initialSync: preferLocal`; every sync option reaches the DevSession (docs/sync.md, "Options").',
    '- Dependencies with a `path` are loaded recursively (a cycle is an error naming it, e.g. `a/devspace.yaml -> b/devspace.yaml -> a/devspace.yaml`); `git` dependencies are cloned with the `git` CLI into `~/.cache/dsa/dependencies/<hash>` (shallow unless a `revision` is pinned or `disableShallow`; `cloneArgs` appended), updated on each load unless `disablePull`, then loaded from `subPath` like a path dependency; with `checkFiles: false` only the cache is read. Hooks run locally (`sh -c` when they have no `args`) or, with `container` / v1beta9–10 `where.container`, in a pod through exec (docs/cli.md, "Hooks").',
  );
  for (const f of fams) {
    lines.push('', `## ${f.title}`, '', '| field | type | support | versions | note |', '|---|---|---|---|---|');
    for (const r of f.rows) {
      lines.push(`| \`${r.path}\` | ${r.type} | ${LABEL[r.support]} | ${r.versions} | ${(r.note ?? '').replace(/\|/g, '\\|')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
