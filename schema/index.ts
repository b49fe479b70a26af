// The API contract: schemas and types of every method, error codes, validators, OpenRPC.
export * from './common.js';
export * from './methods.js';
export * from './errors.js';
export { validateParams, validateResult, toIssues } from './validate.js';
export type { Validated } from './validate.js';
export { buildOpenRpc, plainSchema, OPENRPC_VERSION, API_VERSION } from './openrpc.js';
export { renderSchemaFiles, writeSchemaFiles, JSON_SCHEMA_DRAFT } from './export.js';
