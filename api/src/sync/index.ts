// The file-sync contract, shared by the agent and the dev sidecar (`@dsa/api/sync`): pod layout,
// protocol (framing, handshake, flow control), change records, the replica (scan, read, safe apply),
// the initial-sync planner, excludes and the tree watcher. docs/sync.md explains the design.
// Dependency-free (node: modules only), so the sidecar bundles it whole.
export * from './layout.js';
export * from './protocol.js';
export * from './frames.js';
export * from './connection.js';
export * from './paths.js';
export * from './entry.js';
export * from './records.js';
export * from './replica.js';
export * from './planner.js';
export * from './tunnel.js';
export * from './results.js';
export * from './excludes.js';
export * from './watcher.js';
