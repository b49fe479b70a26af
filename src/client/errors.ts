// What a call of the typed client can fail with, each its own class so a caller can tell "the
// daemon said no" (EpaError) from "the daemon could not be reached" (EpaConnectionError) and "the
// daemon did not answer in time" (EpaTimeoutError).
import type { ErrorReason } from '../../schema/errors.js';

/** The daemon answered with a JSON-RPC error. */
export class EpaError extends Error {
  /** The domain reason (`data.reason`, e.g. "INSUFFICIENT_CPUS"); undefined for -32600…-32700. */
  readonly reason: ErrorReason | undefined;

  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'EpaError';
    const reason = (data as { reason?: unknown } | undefined)?.reason;
    this.reason = typeof reason === 'string' ? (reason as ErrorReason) : undefined;
  }
}

/** The socket could not be opened, or the connection was lost before the answer came. */
export class EpaConnectionError extends Error {
  constructor(
    readonly socketPath: string,
    message: string,
    /** The operating system's code (ENOENT, ECONNREFUSED, EACCES …) when there is one. */
    readonly errno?: string,
  ) {
    super(message);
    this.name = 'EpaConnectionError';
  }
}

/** No answer within the call's timeout. The request may still be carried out by the daemon. */
export class EpaTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer to ${method} within ${timeoutMs} ms`);
    this.name = 'EpaTimeoutError';
  }
}
