export type { App } from './app.js';
export { Dispatcher } from './dispatcher.js';
export type { CallContext } from './dispatcher.js';
export { HANDLERS } from './handlers.js';
