#!/usr/bin/env bash
# keep-ref.sh FILE CMD...: runs CMD and puts FILE back as it was. operator/build/build-image.sh and
# sidecar/build/build-image.sh record the image they pushed in <component>/dist/image.ref, which the
# harness's env (test-e2e/cluster/env.sh) exports as DSA_OPERATOR_IMAGE / DSA_SIDECAR_IMAGE; an image
# pushed to the kind registry must not replace the harness's there.
set -uo pipefail
f=$1; shift
saved=$(mktemp)
had=0; [ -f "$f" ] && { cp "$f" "$saved"; had=1; }
"$@"; rc=$?
if [ $had = 1 ]; then cp "$saved" "$f"; else rm -f "$f"; fi
rm -f "$saved"
exit $rc
