/**
 * The stack file: schema, loader with positions, environments, references.
 * The planner and the CLI use only what this module exports.
 */
export { loadStack, parseStackText, type LoadedStack, type SecretRef, type ServiceNode } from './load.js';
export { findReferences, kindOf, KIND_ATTRIBUTES, type Reference, type ServiceKindName } from './references.js';
export { DEFAULTS, stackJsonSchema } from './schema.js';
export { DEFAULT_ENV } from './environments.js';
export type { AppServiceSpec, ClusterServiceSpec, Deploy, EtcdServiceSpec, Health, PostgresServiceSpec, Route, Service, Stack } from './schema.js';
