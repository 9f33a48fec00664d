// Validate objects against a generated CRD's openAPIV3Schema with Ajv: proves the CRD (not just the
// TypeBox schema) accepts them. CEL rules are not evaluated here; validateSessionRules mirrors them.
import { ajvIssues, createAjv, type ValidationIssue } from '../v1alpha1/validate.js';
import type { CustomResourceDefinition } from './generate.js';

export function compileCrdSchema(crd: CustomResourceDefinition): (obj: unknown) => ValidationIssue[] {
  const version = crd.spec.versions[0];
  if (version === undefined) throw new Error(`${crd.metadata.name} has no versions`);
  const validate = createAjv().compile(version.schema.openAPIV3Schema);
  return (obj) => (validate(obj) ? [] : ajvIssues(validate.errors));
}
