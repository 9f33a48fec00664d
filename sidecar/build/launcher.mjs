#!/usr/local/bin/node
// /usr/local/bin/dsa-sidecar in the sidecar image: `dsa-sidecar serve` runs `node /app/sidecar.mjs serve`
// with no shell and no PATH lookup (the agent execs it through pods/exec; the kubelet runs the image's
// ENTRYPOINT as is). The absolute interpreter path is where both our Node image and the official
// node:20 images keep node. argv[1] names the bundle, so the program sees the argv it would see when
// run as `node /app/sidecar.mjs`. A dynamic import works whether Node loads this extensionless file
// as CommonJS or as ESM.
process.argv[1] = '/app/sidecar.mjs';
import('/app/sidecar.mjs').catch((e) => {
  process.stderr.write(`dsa-sidecar: cannot load /app/sidecar.mjs: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
