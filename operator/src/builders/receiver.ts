// The build pod's `upload` init container: receives the context tar through exec, verifies it and
// unpacks it safely into /workspace/context for the builder (docs/adr/0003-build-context-upload.md).
//
// Two scripts, both plain busybox sh:
//  - MAIN runs as the container's command. It writes RECEIVE (with the expected digest baked in) to
//    /dsa/receive.sh, waits (bounded) for /dsa/context.tar to appear, then — as the only gate that
//    counts — re-verifies the digest, checks entry names, extracts into a fresh directory and checks
//    what the extraction produced (links, special files), and finally appends ENTRYPOINT/CMD.
//  - RECEIVE is what the uploader execs (api/src/build-context/protocol.ts UPLOAD_COMMAND): copies stdin to a
//    private partial file, checks its digest, and renames it into place atomically, so MAIN never sees
//    a half-written tar and the uploader learns about a mismatch from the exit code. Anyone allowed to
//    exec could bypass it, which is why MAIN re-checks everything.
// /dsa is an emptyDir mounted only into this container: the kaniko container never sees the raw tar.

// Container, upload dir, script path and exit codes are the exec contract with the uploader: defined once,
// next to the uploader in api/src/build-context.
import { RECEIVER_EXIT, RECEIVE_SCRIPT, UPLOAD_CONTAINER, UPLOAD_DIR } from '@dsa/api/build-context';

export { RECEIVER_EXIT, UPLOAD_CONTAINER, UPLOAD_DIR };
/** File name of the receive script inside the upload dir (RECEIVE_SCRIPT in the pod). */
const RECEIVE_SCRIPT_NAME = RECEIVE_SCRIPT.slice(UPLOAD_DIR.length + 1);
export const WORKSPACE_DIR = '/workspace';
export const CONTEXT_DIR = '/workspace/context';
/** Where MAIN writes the Dockerfile with appended ENTRYPOINT/CMD (outside the context, so COPY . never picks it up). */
export const APPENDED_DOCKERFILE = '/workspace/Dockerfile.dsa';

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Script the uploader execs; stdin is the tar. `digest` is validated, so embedding it is safe. */
export function receiveScript(digest: string, uploadDir = UPLOAD_DIR): string {
  if (!SHA256_DIGEST.test(digest)) throw new Error(`invalid context digest ${JSON.stringify(digest)}`);
  return `set -eu
umask 077
d='${uploadDir}'
if [ -f "$d/context.tar" ]; then cat >/dev/null; echo "dsa: context already received"; exit 0; fi
p="$d/upload.$$.partial"
trap 'rm -f "$p"' EXIT
# At most the limit MAIN recorded (+1 byte to tell "exactly the limit" from "more"); never more on disk.
max=$(cat "$d/max-bytes" 2>/dev/null || echo 0)
if [ "$max" -gt 0 ]; then head -c $((max + 1)) > "$p"; else cat > "$p"; fi
if [ "$max" -gt 0 ] && [ "$(wc -c < "$p")" -gt "$max" ]; then
  echo "dsa: build context larger than $max bytes (the operator's --max-build-context)" >&2
  exit ${RECEIVER_EXIT.unsafeTar}
fi
got="sha256:$(sha256sum "$p" | cut -d' ' -f1)"
if [ "$got" != '${digest}' ]; then
  echo "dsa: digest mismatch: received $got, expected ${digest}" >&2
  exit ${RECEIVER_EXIT.digestMismatch}
fi
mv "$p" "$d/context.tar"
trap - EXIT
echo "dsa: received $(wc -c < "$d/context.tar") bytes, $got"
`;
}

/** printf escapes of every control character (\001–\037 and \177): a bracket expression's members. */
const CTL_ESCAPES = Array.from({ length: 31 }, (_, i) => `\\${(i + 1).toString(8).padStart(3, '0')}`).join('') + '\\177';

/**
 * One symlink's check (argv: context root, failure file, link path). Reads the exact target (a trailing line
 * break included), then: no control characters, not absolute, lexically and physically inside the root. A
 * failure is appended to the failure file (find -exec does not pass exit codes on).
 */
const CHECK_LINK = `root=$1 bad=$2 l=$3
ctl=$(printf '${CTL_ESCAPES}')
rel=\${l#"$root"/}
t=$(readlink "$l"; echo x); t=\${t%x}; t=\${t%?}
case "$t" in *["$ctl"]*) echo "symlink target with a control character: $rel" >> "$bad"; exit 0 ;; esac
case "$t" in /*) echo "symlink with absolute target: $rel -> $t" >> "$bad"; exit 0 ;; esac
lex=$(printf '%s/%s\\n' "$(dirname "$l")" "$t" | awk -F/ '{ n=0; for (i=1;i<=NF;i++) { if ($i=="" || $i==".") continue; if ($i=="..") { if (n>0) n--; else { print "/.."; exit } } else s[++n]=$i } o=""; for (i=1;i<=n;i++) o=o "/" s[i]; print (o=="" ? "/" : o) }')
case "$lex" in "$root"|"$root"/*) ;; *) echo "symlink escapes the context: $rel -> $t" >> "$bad"; exit 0 ;; esac
phys=$(readlink -f "$l" 2>/dev/null || true)
if [ -n "$phys" ]; then
  case "$phys" in "$root"|"$root"/*) ;; *) echo "symlink escapes the context: $rel -> $t" >> "$bad" ;; esac
fi
`;

/**
 * The container command's script. Parameters come from the environment (DSA_*), so the script text
 * is constant and can be tested against the real busybox outside a cluster.
 */
export const MAIN_SCRIPT = `set -eu
umask 022
d="\${DSA_UPLOAD_DIR:-${UPLOAD_DIR}}"
root="\${DSA_CONTEXT_DIR:-${CONTEXT_DIR}}"
timeout="\${DSA_UPLOAD_TIMEOUT:-600}"
extracted=
# On rejection the half-checked context is removed, so nothing in it (e.g. a hard link) outlives the check.
fail() { code=$1; shift; echo "dsa: $*" >&2; [ -z "$extracted" ] || rm -rf "$root"; exit "$code"; }
mkdir -p "$d"
max="\${DSA_MAX_UPLOAD_BYTES:-0}"
printf '%s\\n' "$max" > "$d/max-bytes"
printf '%s\\n' "$DSA_RECEIVE_SCRIPT" > "$d/${RECEIVE_SCRIPT_NAME}.tmp"
mv "$d/${RECEIVE_SCRIPT_NAME}.tmp" "$d/${RECEIVE_SCRIPT_NAME}"
echo "dsa: waiting up to \${timeout}s for the build context ($DSA_CONTEXT_DIGEST)"
start=$(date +%s)
while [ ! -f "$d/context.tar" ]; do
  [ $(( $(date +%s) - start )) -lt "$timeout" ] || fail ${RECEIVER_EXIT.timeout} "no build context was uploaded within \${timeout}s"
  sleep 1
done
tarball="$d/context.tar"
# 0. Size: whoever wrote the file (an exec bypassing receive.sh too), no more than the limit.
if [ "$max" -gt 0 ] && [ "$(wc -c < "$tarball")" -gt "$max" ]; then
  rm -f "$tarball"
  fail ${RECEIVER_EXIT.unsafeTar} "build context larger than $max bytes (the operator's --max-build-context)"
fi
# 1. Integrity: whoever wrote the file, it must be exactly the declared tar.
got="sha256:$(sha256sum "$tarball" | cut -d' ' -f1)"
[ "$got" = "$DSA_CONTEXT_DIGEST" ] || fail ${RECEIVER_EXIT.digestMismatch} "digest mismatch: got $got, expected $DSA_CONTEXT_DIGEST"
# 2. Names: no absolute paths, no '..' components. busybox tar silently strips a leading '/' or
#    '../' (even when only listing) and says so once on stderr, so that message is a rejection too.
tar -tf "$tarball" > "$d/names" 2> "$d/err" || fail ${RECEIVER_EXIT.unsafeTar} "not a valid tar archive: $(head -n 1 "$d/err")"
if grep -q 'removing leading' "$d/err"; then
  fail ${RECEIVER_EXIT.unsafeTar} "unsafe path in context tar (absolute or with '..'): $(head -n 1 "$d/err")"
fi
if grep -n -E '^/|(^|/)[.][.](/|$)' "$d/names" > "$d/bad"; then
  fail ${RECEIVER_EXIT.unsafeTar} "unsafe path in context tar: $(head -n 1 "$d/bad")"
fi
# 3. Extract into a fresh directory. busybox tar postpones creating symlinks with absolute or '..'
#    targets until all files are written, so no entry is written through such a link.
rm -rf "$root"
mkdir -p "$root"
extracted=1
tar -xf "$tarball" -C "$root" || fail ${RECEIVER_EXIT.unsafeTar} "extracting the context failed"
root=$(readlink -f "$root")
# 4. What was created: no name with a control character (a line break would make one path read as two),
#    only directories, regular files and symlinks; no hard links (the agent never sends any, and a hard link
#    is how a tar reaches files it should not); every symlink resolves inside the context, both lexically (its
#    literal target) and physically (readlink -f) — each link checked on its own, by a script that gets its
#    path as an argument, never through a line-based list.
ctl=$(printf '${CTL_ESCAPES}')
find "$root" -name "*[$ctl]*" > "$d/bad"
[ ! -s "$d/bad" ] || fail ${RECEIVER_EXIT.unsafeTar} "a name in the context has a control character (line break, tab, …)"
find "$root" ! -type d ! -type f ! -type l > "$d/bad"
[ ! -s "$d/bad" ] || fail ${RECEIVER_EXIT.unsafeTar} "special file in context: $(head -n 1 "$d/bad")"
find "$root" -type f -links +1 > "$d/bad"
[ ! -s "$d/bad" ] || fail ${RECEIVER_EXIT.unsafeTar} "hard link in context: $(head -n 1 "$d/bad")"
cat > "$d/check-link.sh" <<'CHECK'
${CHECK_LINK}CHECK
find "$root" -type l -exec sh "$d/check-link.sh" "$root" "$d/bad" {} \\;
[ ! -s "$d/bad" ] || fail ${RECEIVER_EXIT.unsafeTar} "$(head -n 1 "$d/bad")"
# 5. Dockerfile present, and ENTRYPOINT/CMD overrides appended to a copy (the context stays as uploaded).
df="$root/\${DSA_DOCKERFILE:-Dockerfile}"
[ -f "$df" ] || fail ${RECEIVER_EXIT.missingDockerfile} "Dockerfile \${DSA_DOCKERFILE:-Dockerfile} not found in the context"
if [ -n "\${DSA_DOCKERFILE_APPEND:-}" ]; then
  out="\${DSA_APPENDED_DOCKERFILE:-${APPENDED_DOCKERFILE}}"
  cat "$df" > "$out"
  printf '\\n%s\\n' "$DSA_DOCKERFILE_APPEND" >> "$out"
fi
rm -f "$tarball" "$d/names" "$d/err" "$d/bad" "$d/check-link.sh"
echo "dsa: context ready: $(find "$root" | wc -l) entries"
`;

/** ENTRYPOINT/CMD lines to append (exec form, JSON-encoded as Docker expects), or '' for none. */
export function dockerfileAppend(entrypoint?: readonly string[], cmd?: readonly string[]): string {
  const lines: string[] = [];
  if (entrypoint && entrypoint.length > 0) lines.push(`ENTRYPOINT ${JSON.stringify(entrypoint)}`);
  if (cmd && cmd.length > 0) lines.push(`CMD ${JSON.stringify(cmd)}`);
  return lines.join('\n');
}
