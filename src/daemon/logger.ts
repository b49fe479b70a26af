// winston to stderr: text for a terminal, one JSON object per line for collectors. Under journald
// (JOURNAL_STREAM set, or --log-format journal) every line starts with its syslog priority, as
// sd-daemon(3) describes, so `journalctl -p warning` can filter; journald stamps the time itself.
import winston from 'winston';

import { LOG_LEVELS, type LogFormat, type LogLevel } from './log-options.js';

export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log-options.js';

/** The syslog priority of each level: <3> error, <4> warning, <6> info, <7> debug. */
const SYSLOG_PRIORITY: Readonly<Record<LogLevel, number>> = { error: 3, warn: 4, info: 6, debug: 7 };

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Prefix lines with their priority; default: when journald reads stderr (JOURNAL_STREAM). */
  readonly journal?: boolean;
}

export function createLogger(options: LoggerOptions = {}): winston.Logger {
  const format = options.format ?? 'text';
  const journal = options.journal ?? (format === 'journal' || process.env.JOURNAL_STREAM !== undefined);
  const line = winston.format.printf(({ level, message, timestamp, ...meta }) => {
    const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
    const time = format === 'journal' ? '' : `${String(timestamp)} `;
    return `${time}${level} ${String(message)}${extra}`;
  });
  const priority = winston.format((info) => {
    const message = info[Symbol.for('message')];
    info[Symbol.for('message')] = `<${SYSLOG_PRIORITY[info.level as LogLevel]}>${String(message)}`;
    return info;
  });
  return winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : line,
      ...(journal ? [priority()] : []),
    ),
    transports: [new winston.transports.Console({ stderrLevels: [...LOG_LEVELS] })],
  });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
