// The durable ledger and its file; nothing outside this directory knows the path or the layout.
export { LedgerStore, loadState } from './store.js';
export type { LedgerStoreOptions, StateLogger } from './store.js';
export { STATE_FILE, StateFileSchema, decodeState, encodeState } from './state-file.js';
export type { StateFile } from './state-file.js';
export { LOCK_FILE, StateLock } from './lock.js';
export { createDurableWriter, durableWriter, StateWriteError, WRITE_STEPS } from './writer.js';
export type { DiskOutcome, StateWriter, WriterHooks, WriteStep } from './writer.js';
export { StateFileError, StateLockedError } from './errors.js';
