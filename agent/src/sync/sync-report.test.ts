// What the sync service shows: lines and the agent status, pure.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { batchLine, formatBytes, formatDuration, initialDoneLine, newPathView, progressLine, syncColumn, syncPathStatus, type PathView } from './sync-report.js';

const view = (over: Partial<PathView> = {}): PathView => ({ ...newPathView('api', 0, './src', '/app'), ...over });

describe('lines', () => {
  it('sizes and durations', () => {
    expect([0, 340, 1024, 12 * 1024 + 100, 1.5 * 1024 * 1024, 2 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '340 B', '1 KiB', '12 KiB', '1.5 MiB', '2 GiB']);
    expect([35, 1200, 61_000, 125_000].map(formatDuration)).toEqual(['35 ms', '1.2 s', '1 min 1 s', '2 min 5 s']);
    fc.assert(fc.property(fc.nat(), (n) => expect(formatBytes(n)).toMatch(/^\d+(\.\d)? (B|KiB|MiB|GiB|TiB)$/)));
  });

  it('a batch: `↑ 3 files 12 KiB 35 ms`, named when there are several paths', () => {
    expect(batchLine('up', 3, 12 * 1024, 35)).toBe('↑ 3 files 12 KiB 35 ms');
    expect(batchLine('down', 1, 10, 4, 'api ./src')).toBe('api ./src: ↓ 1 file 10 B 4 ms');
  });

  it('initial progress and its summary', () => {
    const v = view({ state: 'initial', progress: { files: 40, totalFiles: 100, bytes: 512 * 1024, totalBytes: 1024 * 1024, bytesPerSecond: 256 * 1024 } });
    expect(progressLine(v, 'sync')).toBe('sync: initial sync 50%: 40/100 files, 512 KiB/1 MiB, 256 KiB/s');
    expect(progressLine(view(), 'sync')).toBe('sync: initial sync…');
    expect(initialDoneLine('sync', { uploaded: 12, downloaded: 1, deletedRemote: 2, deletedLocal: 0, bytes: 2048, ms: 840, conflicts: 1 })).toBe(
      'sync: initial sync done in 840 ms: ↑ 12 files, 2 deleted, ↓ 1 file, 1 conflict, 2 KiB',
    );
    expect(initialDoneLine('api ./src', { uploaded: 0, downloaded: 0, deletedRemote: 0, deletedLocal: 0, bytes: 0, ms: 20, conflicts: 0 })).toBe('api ./src: initial sync done in 20 ms: already in sync');
  });
});

describe('the SYNC column', () => {
  it('says the worst first: error, connecting, initial progress, then how many paths are synced', () => {
    expect(syncColumn([])).toBeUndefined();
    const watching = view({ state: 'watching', settled: true });
    expect(syncColumn([watching, { ...watching, sync: 1 }])).toBe('2/2 synced');
    expect(syncColumn([watching, view({ state: 'stopped', settled: true })])).toBe('2/2 synced'); // noWatch: done after the initial sync
    expect(syncColumn([watching, view({ state: 'stopped' })])).toBe('1/2 synced');
    const initial = view({ state: 'initial', progress: { files: 1, totalFiles: 4, bytes: 300, totalBytes: 1000, bytesPerSecond: 1 } });
    expect(syncColumn([watching, initial, view({ state: 'initial' })])).toBe('initial 30%');
    expect(syncColumn([initial, view({ state: 'connecting' })])).toBe('connecting');
    expect(syncColumn([initial, view({ state: 'error', lastError: 'the sidecar refused the sync path: no such path /app' })])).toBe('error: the sidecar refused the sync path: no su…');
    expect(syncColumn([watching], 'no sidecar')).toBe('error: no sidecar');
  });

  it('status.syncPaths entries carry what the API defines', () => {
    const t = new Date('2026-03-04T05:06:07.890Z');
    expect(syncPathStatus(view({ pod: 'api-1', state: 'watching', lastSyncTime: t, uploadedFiles: 3, uploadedBytes: 10, conflicts: 1 }))).toEqual({
      devPod: 'api',
      pod: 'api-1',
      localPath: './src',
      containerPath: '/app',
      state: 'watching',
      lastSyncTime: '2026-03-04T05:06:07Z',
      uploadedFiles: 3,
      downloadedFiles: 0,
      uploadedBytes: 10,
      downloadedBytes: 0,
      conflicts: 1,
    });
    const p = syncPathStatus(view({ state: 'initial', progress: { files: 0, totalFiles: 0, bytes: 0, totalBytes: 0, bytesPerSecond: 0 }, lastError: 'x'.repeat(2000) }));
    expect(p.progress).toBe(100);
    expect(p.lastError).toHaveLength(1024);
  });
});
