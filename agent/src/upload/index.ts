// Agent side of the build-context upload (docs/adr/0003-build-context-upload.md).
export * from './dockerignore.js';
export * from './context-tar.js';
export * from './upload.js';
export { RECEIVE_SCRIPT, UPLOAD_CONTAINER, UPLOAD_DIR } from './protocol.js';
