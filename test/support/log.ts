// A winston logger whose lines a test reads, and waits on: what the daemon says is how a test
// knows something happened inside it, without sleeping.
import { PassThrough } from 'node:stream';
import winston from 'winston';

export interface CapturedLog {
  readonly logger: winston.Logger;
  /** Every line so far, as "<level> <message>". */
  readonly lines: () => string[];
  /** Settles with the first line matching `pattern`, now or when it is logged. */
  readonly whenLogged: (pattern: RegExp) => Promise<string>;
}

export function capturingLogger(level: 'debug' | 'info' = 'info'): CapturedLog {
  const stream = new PassThrough();
  let text = '';
  let watchers: (() => void)[] = [];
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
    const waking = watchers;
    watchers = [];
    for (const wake of waking) wake();
  });
  const logger = winston.createLogger({
    level,
    format: winston.format.printf(({ level: at, message }) => `${at} ${String(message)}`),
    transports: [new winston.transports.Stream({ stream })],
  });
  const lines = () => text.split('\n').filter((line) => line !== '');
  return {
    logger,
    lines,
    whenLogged: async (pattern) => {
      for (;;) {
        const found = lines().find((line) => pattern.test(line));
        if (found !== undefined) return found;
        await new Promise<void>((wake) => watchers.push(wake));
      }
    },
  };
}
