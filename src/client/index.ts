// `epa-orchestrator/client`: the typed client of the daemon, and the schema types it speaks. It
// imports only the method table and the error table, so a program using it loads no validator.
export { EpaClient, EpaConnection, openUnixSocket, ALLOCATION_CHANGED } from './client.js';
export type { CallOptions, CloseListener, EpaClientOptions, EpaMethods, NotificationListener } from './client.js';
export { EpaConnectionError, EpaError, EpaTimeoutError } from './errors.js';
export type { ErrorReason } from '../../schema/errors.js';
export type { MethodName, ParamsOf, ResultOf } from '../../schema/methods.js';
export type { AllocationChangedParams, ChangeCause } from '../../schema/notifications.js';
