// @dsa/api: the one source of truth shared by the agent and the operator.
export * from './constants.js';
export type * from './model/project.js';
export * from './v1alpha1/index.js';
export * from './hash.js';
export * from './image-builds.js';
export * from './crd/generate.js';
export * from './crd/crd-validator.js';
export * from './secret-vars.js';
