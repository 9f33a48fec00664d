// The dev sidecar's place in a pod: container, volume and path names that the operator (which injects
// them into the pod template), the sidecar image (which runs in them) and the agent (which execs into
// them) must agree on. One definition, imported by all three, as build-context/protocol.ts is for
// uploads. Dependency-free on purpose (the operator and the sidecar bundle it).
//
// A pod with a dev sidecar looks like this (docs/sync.md, "In the pod"):
//
//   initContainers:
//     dsa-tools   (sidecar image)  copies the static helper to /.dsa/bin            (volume dsa-tools)
//     dsa-seed    (APP image)      /.dsa/bin/dsa-helper seed <containerPath>=/.dsa/sync/<i> …
//                                  copies the image's own files into each sync volume, any image,
//                                  no shell needed (the helper is a static binary)
//     dsa-sync    (sidecar image)  restartPolicy: Always (native sidecar): idles until an agent execs
//                                  SIDECAR_SERVE_COMMAND; volumes dsa-sync-<i> at /.dsa/sync/<i>, dsa-ctl
//   containers:
//     <app>       sync volumes at their containerPath; with onUpload.restartContainer its command is
//                 [/.dsa/bin/dsa-helper, supervise, --ctl, /.dsa/ctl, --, <original entrypoint + args>]

/** Root of everything dsa mounts into a pod. Absolute, outside any path an app normally uses. */
export const DSA_POD_ROOT = '/.dsa';

export const SIDECAR_CONTAINER = 'dsa-sync';
export const TOOLS_INIT_CONTAINER = 'dsa-tools';
export const SEED_INIT_CONTAINER = 'dsa-seed';

/** emptyDir holding the static helper binary (mounted read-only into the app container). */
export const TOOLS_VOLUME = 'dsa-tools';
export const TOOLS_DIR = `${DSA_POD_ROOT}/bin`;
/** The static helper (Go, CGO off): `install`, `seed`, `supervise`, `restart`. */
export const HELPER_BIN = `${TOOLS_DIR}/dsa-helper`;
/** Where the helper lives inside the sidecar image (the tools init container copies it from here). */
export const HELPER_IN_IMAGE = '/usr/local/bin/dsa-helper';

/** emptyDir shared by the sidecar and the app container: restart requests, supervisor state, seed marks. */
export const CTL_VOLUME = 'dsa-ctl';
export const CTL_DIR = `${DSA_POD_ROOT}/ctl`;

/** Name of the emptyDir for sync path `i` of a container. */
export const syncVolumeName = (i: number): string => `dsa-sync-${i}`;
/** Where sync path `i` is mounted in the sidecar (and in the seed init container). */
export const syncMountPath = (i: number): string => `${DSA_POD_ROOT}/sync/${i}`;

/**
 * Control files in CTL_DIR. The supervisor (dsa-helper supervise) restarts the app's process when
 * RESTART_FILE's content changes (the sidecar writes an increasing counter); it starts the process
 * only once START_FILE exists when started with --wait-start (DevSpace's startContainer); it writes
 * its state to SUPERVISOR_STATE_FILE (JSON: pid, restarts, running, lastExitCode).
 */
export const CTL_FILES = {
  restart: 'restart',
  start: 'start',
  supervisorState: 'supervisor.json',
  /** `seeded-<i>`: written by the seed step so a re-run init container never overwrites synced files. */
  seededPrefix: 'seeded-',
} as const;

/**
 * Environment of the sidecar container: the sync paths it serves, as JSON, e.g.
 * `[{ "index": 0, "mountPath": "/.dsa/sync/0", "containerPath": "/app", "container": "api", "devPod": "api", "sync": 0 }]`.
 * The agent opens a path by (devPod, sync): the position of the entry in the dev pod's
 * `spec.dev.pods[].sync` list. containerPath is absolute here (the operator resolved a relative one
 * against the container's working directory).
 */
export const SIDECAR_PATHS_ENV = 'DSA_SYNC_PATHS';
export interface SidecarPath {
  /** Volume number in this pod (dsa-sync-<index>). */
  index: number;
  /** Where the sidecar sees the files. */
  mountPath: string;
  /** Where the app container sees the same files (absolute; for messages and exec working dirs). */
  containerPath: string;
  /** The app container that mounts it. */
  container: string;
  /** spec.dev.pods[].name */
  devPod: string;
  /** Position in that dev pod's sync list. */
  sync: number;
}

/** Environment of the sidecar: reverse ports it may listen on, JSON `[{ "devPod": "api", "port": 9229 }]` (informational; the agent asks for each). */
export const SIDECAR_REVERSE_PORTS_ENV = 'DSA_REVERSE_PORTS';

/** What the agent execs in the sidecar container to talk the sync protocol on stdin/stdout. */
export const SIDECAR_SERVE_COMMAND: readonly string[] = ['/usr/local/bin/dsa-sidecar', 'serve'];

/** Pod-template annotation recording what the sidecar transform did (for humans and for `dsa analyze`). */
export const SIDECAR_ANNOTATION = 'dsa.dev/dev-sidecar';
