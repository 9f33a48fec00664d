// dsa.dev/v1alpha1: schemas (TypeBox = JSON Schema), their static types, and validators.
export * from './common.js';
export * from './devsession.js';
export * from './imagebuild.js';
export * from './validate.js';
export * from './examples.js';
