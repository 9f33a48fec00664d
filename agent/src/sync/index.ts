// The agent's file-sync engine (issue 7): SyncSession runs the sync paths and reverse forwards of one
// dev pod over a transport to its sidecar; execTransport is the production transport (pods/exec).
// docs/sync.md explains the design; the CLI wiring renders the events.
export { SyncSession, type SyncSessionOptions, type TransportFactory } from './session.js';
export { execTransport, describeExecEnd, type ExecTarget, type ExecTransportOptions } from './exec-transport.js';
export { SyncPathError } from './path-sync.js';
export { BaseStore, baseFileName, type BaseSnapshot } from './base-store.js';
export type { SyncEvent, SyncListener, SyncPathConfig, PathRef, PathState } from './events.js';
