// The build-context upload contract, shared by the agent (uploads local contexts) and the operator
// (receives them in the build pod, and uploads git contexts the same way): the canonical tar and its
// digest, .dockerignore rules, the exec protocol, the uploader, and the wait for an upload slot.
// docs/adr/0003-build-context-upload.md explains the design. Imported as `@dsa/api/build-context`,
// apart from the schema entry point, so `dsa render` doesn't load tar/exec code it doesn't need.
export * from './dockerignore.js';
export * from './context-tar.js';
export * from './upload.js';
export * from './protocol.js';
export * from './slot.js';
