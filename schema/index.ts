// The API contract: schemas and types of every method, error codes, validators, OpenRPC. Importing
// it does nothing but define them: validators compile when first used, and the file export is its
// own module (export.ts), which only `make schema` and the `schema` command load.
export * from './common.js';
export * from './methods.js';
export * from './errors.js';
export * from './notifications.js';
export { validateNotification, validateParams, validateResult, toIssues } from './validate.js';
export type { Validated } from './validate.js';
export { buildOpenRpc, plainSchema, OPENRPC_VERSION, API_VERSION } from './openrpc.js';
