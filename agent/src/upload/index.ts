// Agent side of the build-context upload (docs/adr/0003-build-context-upload.md).
export * from './dockerignore.js';
export * from './context-tar.js';
export * from './upload.js';
