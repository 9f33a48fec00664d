// Images for the sync suites without a build: a base image of the harness registry plus one layer of
// files and a changed config (WORKDIR, ENTRYPOINT/CMD, USER), pushed over the registry's HTTP API in
// well under a second. A Dockerfile build (kaniko or buildah) would take 10–60 s per image on this
// machine; what the sync suites need from an image is exactly a config and some files.
//
// The derived image lives in the base's repository (its layers are already there: no blob copy) under
// a tag derived from its content, so re-runs reuse it and nothing else is ever overwritten.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG_V1 = 'application/vnd.docker.container.image.v1+json';
const LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const TIMEOUT_MS = 30_000;

/** A file of the added layer: content, or a symlink target; mode defaults to 0644 (0755 for dirs). */
export type LayerEntry = { content: string | Buffer; mode?: number } | { symlink: string } | { dir: true; mode?: number };

export interface ImageChanges {
  /** Absolute paths in the image → what is there. */
  files?: Record<string, LayerEntry>;
  workingDir?: string;
  entrypoint?: string[] | null;
  cmd?: string[] | null;
  user?: string;
  env?: Record<string, string>;
}

interface Manifest {
  schemaVersion: 2;
  mediaType: string;
  config: { mediaType: string; size: number; digest: string };
  layers: Array<{ mediaType: string; size: number; digest: string }>;
}

function splitRef(ref: string): { registry: string; repository: string; tag: string } {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  if (slash < 0 || colon < slash) throw new Error(`image reference ${ref} needs a registry and a tag`);
  return { registry: ref.slice(0, slash), repository: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function http(url: string, init: RequestInit & { okStatus?: number[] } = {}): Promise<Response> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const ok = init.okStatus ?? [200];
  if (!ok.includes(res.status)) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res;
}

/** A deterministic tar of `files` (GNU tar from the host: sorted, fixed owner and mtime). */
function layerTar(files: Record<string, LayerEntry>): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'dsa-layer-'));
  try {
    const root = path.join(dir, 'root');
    mkdirSync(root);
    for (const [abs, e] of Object.entries(files)) {
      if (!abs.startsWith('/')) throw new Error(`layer path ${abs} must be absolute`);
      const p = path.join(root, abs);
      mkdirSync(path.dirname(p), { recursive: true });
      if ('symlink' in e) symlinkSync(e.symlink, p);
      else if ('dir' in e) {
        mkdirSync(p, { recursive: true });
        chmodSync(p, e.mode ?? 0o755);
      } else {
        writeFileSync(p, e.content);
        chmodSync(p, e.mode ?? 0o644);
      }
    }
    const r = spawnSync('tar', ['-C', root, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@1700000000', '-cf', '-', '.'], { maxBuffer: 512 << 20 });
    if (r.status !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
    return r.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pushBlob(base: string, data: Buffer, digest: string): Promise<void> {
  const head = await fetch(`${base}/blobs/${digest}`, { method: 'HEAD', signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (head.status === 200) return;
  const start = await http(`${base}/blobs/uploads/`, { method: 'POST', okStatus: [202] });
  const loc = start.headers.get('location');
  if (!loc) throw new Error('registry gave no upload location');
  const url = new URL(loc, base);
  url.searchParams.set('digest', digest);
  await http(url.toString(), { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' }, okStatus: [201] });
}

/**
 * Push `base` + `changes` as a new image and return its reference (`<base repo>:e2e-<hash>`).
 * Idempotent: the same inputs give the same tag, and an existing tag is reused.
 */
export async function deriveImage(baseRef: string, changes: ImageChanges): Promise<string> {
  const { registry, repository, tag } = splitRef(baseRef);
  const api = `http://${registry}/v2/${repository}`;
  const manifest = (await (await http(`${api}/manifests/${tag}`, { headers: { accept: MANIFEST_V2 } })).json()) as Manifest;
  if (manifest.mediaType !== MANIFEST_V2) throw new Error(`${baseRef}: unsupported manifest type ${manifest.mediaType}`);
  const config = (await (await http(`${api}/blobs/${manifest.config.digest}`)).json()) as {
    config: Record<string, unknown>;
    rootfs: { type: string; diff_ids: string[] };
    history?: unknown[];
  };
  const layers = [...manifest.layers];
  const diffIds = [...config.rootfs.diff_ids];
  let layerBlob: { data: Buffer; digest: string } | undefined;
  if (changes.files && Object.keys(changes.files).length) {
    const tar = layerTar(changes.files);
    const gz = gzipSync(tar, { level: 6 });
    layerBlob = { data: gz, digest: sha256(gz) };
    layers.push({ mediaType: LAYER_GZIP, size: gz.length, digest: layerBlob.digest });
    diffIds.push(sha256(tar));
  }
  const c = { ...config.config };
  if (changes.workingDir !== undefined) c.WorkingDir = changes.workingDir;
  if (changes.entrypoint !== undefined) c.Entrypoint = changes.entrypoint;
  if (changes.cmd !== undefined) c.Cmd = changes.cmd;
  if (changes.user !== undefined) c.User = changes.user;
  if (changes.env) c.Env = [...((c.Env as string[] | undefined) ?? []).filter((e) => !(e.split('=')[0]! in changes.env!)), ...Object.entries(changes.env).map(([k, v]) => `${k}=${v}`)];
  const newConfig = Buffer.from(JSON.stringify({ ...config, config: c, rootfs: { type: 'layers', diff_ids: diffIds }, history: undefined }));
  const configDigest = sha256(newConfig);
  const newManifest: Manifest = { schemaVersion: 2, mediaType: MANIFEST_V2, config: { mediaType: CONFIG_V1, size: newConfig.length, digest: configDigest }, layers };
  const manifestBody = Buffer.from(JSON.stringify(newManifest));
  const newTag = `e2e-${sha256(manifestBody).slice(7, 19)}`;
  const exists = await fetch(`${api}/manifests/${newTag}`, { method: 'HEAD', headers: { accept: MANIFEST_V2 }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (exists.status !== 200) {
    if (layerBlob) await pushBlob(api, layerBlob.data, layerBlob.digest);
    await pushBlob(api, newConfig, configDigest);
    await http(`${api}/manifests/${newTag}`, { method: 'PUT', body: manifestBody, headers: { 'content-type': MANIFEST_V2 }, okStatus: [201] });
  }
  return `${registry}/${repository}:${newTag}`;
}
