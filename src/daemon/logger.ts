// winston to stderr: text for a terminal, one JSON object per line for journald and collectors.
import winston from 'winston';

import { LOG_LEVELS, type LogFormat, type LogLevel } from './log-options.js';

export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log-options.js';

export function createLogger(level: LogLevel = 'info', format: LogFormat = 'text'): winston.Logger {
  const text = winston.format.printf(({ level: lvl, message, timestamp, ...meta }) => {
    const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
    return `${String(timestamp)} ${lvl} ${String(message)}${extra}`;
  });
  return winston.createLogger({
    level,
    format: winston.format.combine(
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : text,
    ),
    transports: [new winston.transports.Console({ stderrLevels: [...LOG_LEVELS] })],
  });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
