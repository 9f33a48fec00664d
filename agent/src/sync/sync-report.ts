// What the sync service shows, pure: the lines on stderr (batches, initial progress, conflicts) and
// the status it reports (the SYNC column text and status.syncPaths). The service (sync-service.ts)
// keeps a PathView per sync path from the engine's events and renders them with these.
import type { SyncPathStatus } from '@dsa/api';
import type { PathState } from './events.js';

/** What the service knows about one sync path. */
export interface PathView {
  devPod: string;
  sync: number;
  /** As the DevSession says it (relative to the project folder): what people recognise. */
  localPath: string;
  containerPath: string;
  pod?: string;
  state: PathState;
  /** The first initial sync finished (or failed for good): waitInitialSync no longer holds. */
  settled: boolean;
  progress?: { files: number; totalFiles: number; bytes: number; totalBytes: number; bytesPerSecond: number };
  lastSyncTime?: Date;
  uploadedFiles: number;
  downloadedFiles: number;
  uploadedBytes: number;
  downloadedBytes: number;
  conflicts: number;
  lastError?: string;
}

export function newPathView(devPod: string, sync: number, localPath: string, containerPath: string): PathView {
  return { devPod, sync, localPath, containerPath, state: 'connecting', settled: false, uploadedFiles: 0, downloadedFiles: 0, uploadedBytes: 0, downloadedBytes: 0, conflicts: 0 };
}

/** `340 B`, `12 KiB`, `1.5 MiB`, `2.0 GiB`. Pure. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)} ${units[u]}`;
}

/** `35 ms`, `1.2 s`, `2 min 5 s`. Pure. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Names a path in lines when there are several: `api ./src`. */
export function pathLabel(v: Pick<PathView, 'devPod' | 'localPath'>): string {
  return `${v.devPod} ${v.localPath}`;
}

/** `↑ 3 files 12 KiB 35 ms`, prefixed with the path when there are several. Pure. */
export function batchLine(direction: 'up' | 'down', files: number, bytes: number, ms: number, label?: string): string {
  return `${label ? `${label}: ` : ''}${direction === 'up' ? '↑' : '↓'} ${plural(files, 'file')} ${formatBytes(bytes)} ${formatDuration(ms)}`;
}

/** One line of initial-sync progress. Pure. */
export function progressLine(v: PathView, label: string): string {
  const p = v.progress;
  if (!p) return `${label}: initial sync…`;
  const pct = percent(p);
  return `${label}: initial sync ${pct}%: ${p.files}/${p.totalFiles} files, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}, ${formatBytes(p.bytesPerSecond)}/s`;
}

export function percent(p: NonNullable<PathView['progress']>): number {
  const frac = p.totalBytes > 0 ? p.bytes / p.totalBytes : p.totalFiles > 0 ? p.files / p.totalFiles : 1;
  return Math.max(0, Math.min(100, Math.floor(frac * 100)));
}

/** The summary of a finished initial sync. Pure. */
export function initialDoneLine(
  label: string,
  d: { uploaded: number; downloaded: number; deletedRemote: number; deletedLocal: number; bytes: number; ms: number; conflicts: number },
): string {
  const parts: string[] = [];
  if (d.uploaded + d.deletedRemote) parts.push(`↑ ${plural(d.uploaded, 'file')}${d.deletedRemote ? `, ${d.deletedRemote} deleted` : ''}`);
  if (d.downloaded + d.deletedLocal) parts.push(`↓ ${plural(d.downloaded, 'file')}${d.deletedLocal ? `, ${d.deletedLocal} deleted` : ''}`);
  if (d.conflicts) parts.push(plural(d.conflicts, 'conflict'));
  const what = parts.length ? `${parts.join(', ')}, ${formatBytes(d.bytes)}` : 'already in sync';
  return `${label}: initial sync done in ${formatDuration(d.ms)}: ${what}`;
}

/** Longest SYNC text (the printer column is meant to stay readable). */
const COLUMN_MAX = 48;

function short(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/**
 * The SYNC column: `error: <why>` when a path is broken, else `connecting` while one waits for its
 * pod, else `initial NN%` over the paths still in their initial sync, else `2/2 synced`. Pure.
 */
export function syncColumn(paths: readonly PathView[], problem?: string): string | undefined {
  if (paths.length === 0) return undefined;
  if (problem) return short(`error: ${problem}`, COLUMN_MAX);
  const failed = paths.find((p) => p.state === 'error');
  if (failed) return short(`error: ${failed.lastError ?? 'sync failed'}`, COLUMN_MAX);
  if (paths.some((p) => p.state === 'connecting')) return 'connecting';
  const initial = paths.filter((p) => p.state === 'initial');
  if (initial.length) {
    let done = 0;
    let total = 0;
    for (const p of initial) {
      const pr = p.progress;
      if (!pr) continue;
      const useBytes = pr.totalBytes > 0;
      done += useBytes ? pr.bytes : pr.files;
      total += useBytes ? pr.totalBytes : pr.totalFiles;
    }
    return `initial ${total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0}%`;
  }
  const synced = paths.filter((p) => p.state === 'watching' || (p.state === 'stopped' && p.settled)).length;
  return `${synced}/${paths.length} synced`;
}

const kubeTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** status.syncPaths[] entry of a path. Pure. */
export function syncPathStatus(v: PathView): SyncPathStatus {
  return {
    devPod: v.devPod,
    ...(v.pod ? { pod: v.pod } : {}),
    localPath: v.localPath,
    containerPath: v.containerPath,
    state: v.state,
    ...(v.state === 'initial' && v.progress ? { progress: percent(v.progress) } : {}),
    ...(v.lastSyncTime ? { lastSyncTime: kubeTime(v.lastSyncTime) } : {}),
    uploadedFiles: v.uploadedFiles,
    downloadedFiles: v.downloadedFiles,
    uploadedBytes: v.uploadedBytes,
    downloadedBytes: v.downloadedBytes,
    conflicts: v.conflicts,
    ...(v.lastError ? { lastError: short(v.lastError, 1024) } : {}),
  };
}
