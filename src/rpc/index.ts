export type { App } from './app.js';
export { Dispatcher, Session } from './dispatcher.js';
export { HANDLERS } from './handlers.js';
