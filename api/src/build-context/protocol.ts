// The exec contract between the uploader (upload.ts here: the agent, and the operator for git contexts) and
// the build pod's receiver (operator/src/builders/receiver.ts): which container, which script, which exit
// codes. One definition, imported by both sides, so the command the uploader runs and the path the
// receiver writes cannot drift apart. Dependency-free on purpose (the operator bundles it).

/** Init container of the build pod that receives the context tar on stdin. */
export const UPLOAD_CONTAINER = 'upload';
/** emptyDir mounted only into the upload container: raw tar, scripts. */
export const UPLOAD_DIR = '/dsa';
/** Script the uploader execs; the receiver's main script writes it first thing (with the digest baked in). */
export const RECEIVE_SCRIPT = `${UPLOAD_DIR}/receive.sh`;

/** Receiver exit codes. `notReady` comes from UPLOAD_COMMAND's wait, `timeout` from the init container. */
export const RECEIVER_EXIT = {
  digestMismatch: 3,
  unsafeTar: 4,
  missingDockerfile: 5,
  timeout: 124,
  notReady: 125,
} as const;

/**
 * What the uploader runs in the upload container. The short wait covers the window between "container
 * running" (when the ImageBuild shows AwaitingUpload) and "receive script written".
 */
export const UPLOAD_COMMAND: readonly string[] = [
  'sh',
  '-c',
  `i=0; while [ ! -f ${RECEIVE_SCRIPT} ]; do i=$((i+1)); [ $i -gt 20 ] && { echo "dsa: receiver not ready" >&2; exit ${RECEIVER_EXIT.notReady}; }; sleep 0.5; done; exec sh ${RECEIVE_SCRIPT}`,
];

/**
 * The forced-build contract (`dsa deploy -b`): the agent sets the ImageBuild annotation
 * `dsa.dev/requested-at` to now; the operator builds again when it is newer than status.lastRequestedAt
 * and records it there when the build pod for it exists. Both sides compare with this one function:
 * by time when both are timestamps; any other differing value counts as newer (as Flux treats
 * requestedAt), so a hand-written token still works; an older timestamp never does.
 */
export function isNewerRequest(requested: string | undefined, last: string | undefined): boolean {
  if (!requested) return false;
  if (!last) return true;
  if (requested === last) return false;
  const a = Date.parse(requested);
  const b = Date.parse(last);
  if (Number.isNaN(a) || Number.isNaN(b)) return true;
  return a > b;
}
