// The log levels and formats the daemon accepts, apart from winston so that the command line can
// list them without loading the logger.
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** text: for a terminal; json: one object a line, for collectors; journal: text for journald. */
export const LOG_FORMATS = ['text', 'json', 'journal'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
