// What the sync engine reports, for the CLI's progress lines and the DevSession status. The engine
// never prints; the wiring renders these.
import type { DevPortMapping, SyncPath } from '@dsa/api';

/**
 * One sync path as the engine needs it: the DevSession's SyncPath with localPath already absolute,
 * plus the dev pod's name (spec.dev.pods[].name) and the position of the path in its sync list.
 * The engine acts on: excludes, initialSync, initialSyncCompareBy, disableUpload/disableDownload,
 * polling, file, noWatch, bandwidthLimits, onUpload.restartContainer. Commands (onUpload.exec,
 * onDownload.exec) and printLogs are the wiring's, fed by the `uploaded`/`downloaded`/`batch` events;
 * startContainer needs nothing here (the start signal is always sent after the initial sync).
 */
export type SyncPathConfig = SyncPath & { devPod: string; sync: number };

/** What a batch changed on its target side (for onUpload/onDownload commands and per-file logs). */
export interface Changed {
  /** Created or changed files (and symlinks). */
  files: string[];
  /** Created directories. */
  dirs: string[];
  deleted: string[];
}

export type PathState = 'connecting' | 'initial' | 'watching' | 'error' | 'stopped';

/** Identifies a path in events: `devPod[sync]` plus both ends for messages. */
export interface PathRef {
  devPod: string;
  sync: number;
  localPath: string;
  containerPath: string;
}

export type SyncEvent =
  | { type: 'state'; path: PathRef; state: PathState; message?: string }
  | { type: 'connected'; peer: string }
  | { type: 'disconnected'; reason: string; retryInMs: number }
  /** Initial sync progress (throttled): done/total files and bytes, rate in bytes per second. */
  | { type: 'initial-progress'; path: PathRef; files: number; totalFiles: number; bytes: number; totalBytes: number; bytesPerSecond: number }
  | {
      type: 'initial-done';
      path: PathRef;
      uploaded: number;
      downloaded: number;
      deletedRemote: number;
      deletedLocal: number;
      /** Both directions; uploadedBytes + downloadedBytes. */
      bytes: number;
      uploadedBytes: number;
      downloadedBytes: number;
      ms: number;
      conflicts: number;
    }
  /** One live batch: `up` local → container, `down` container → local; `paths` lists at most 1000 of them. */
  | { type: 'batch'; path: PathRef; direction: 'up' | 'down'; files: number; bytes: number; ms: number; paths: string[] }
  /** Both sides changed a file; `copy` is where the loser's content was kept on the laptop (relative to localPath). */
  | { type: 'conflict'; path: PathRef; file: string; winner: 'local' | 'remote' | 'none'; copy?: string; message: string }
  /** What a batch changed in the container (onUpload commands, run by the wiring); `initial` for the initial sync's (only when it changed something). */
  | ({ type: 'uploaded'; path: PathRef; initial: boolean } & Changed)
  /** What a batch changed on the laptop (onDownload commands). */
  | ({ type: 'downloaded'; path: PathRef; initial: boolean } & Changed)
  | { type: 'restart'; ok: boolean; message: string }
  | { type: 'tunnel'; port: DevPortMapping; ok: boolean; message: string }
  | { type: 'warning'; path?: PathRef; message: string }
  | { type: 'error'; path?: PathRef; message: string; fatal: boolean };

export type SyncListener = (e: SyncEvent) => void;
