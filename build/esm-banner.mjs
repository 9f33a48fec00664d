// The banner the three esbuild bundles (agent, operator, sidecar) put on top of their ESM output.
// CommonJS dependencies call require() for Node built-ins; in an ESM bundle esbuild turns those into a
// `__require` shim that throws unless a real `require` is in scope. The banner provides one (and, with
// `filenames`, __filename/__dirname for CJS code that reads them), under aliases that cannot clash with
// any bundled module's own top-level names.
export function esmRequireBanner({ filenames = false } = {}) {
  return [
    "import { createRequire as __dsaCreateRequire } from 'node:module';",
    ...(filenames ? ["import { fileURLToPath as __dsaFileURLToPath } from 'node:url';", "import { dirname as __dsaDirname } from 'node:path';"] : []),
    'const require = __dsaCreateRequire(import.meta.url);',
    ...(filenames ? ['const __filename = __dsaFileURLToPath(import.meta.url);', 'const __dirname = __dsaDirname(__filename);'] : []),
  ].join('\n');
}
