// What a server lets each client do, with every default declared here once: the daemon's flags,
// the socket server and the framing all take them from this table.

export interface TransportLimits {
  /** Mode of the socket file. */
  readonly socketMode: number;
  /** Bytes of one message, newline excluded. */
  readonly maxMessageBytes: number;
  /** Open client connections; more are closed at once. */
  readonly maxConnections: number;
  /**
   * Requests of one connection whose reply is not yet written before reading pauses. A JSON-RPC
   * batch may hold as many requests (its replies weigh as much as that many in flight).
   */
  readonly maxInFlightPerConnection: number;
  /** How long a started message may stay incomplete. */
  readonly partialTimeoutMs: number;
  /** How long a connection may sit with nothing to do. */
  readonly idleTimeoutMs: number;
  /** Bytes that may wait to be sent to a subscribed client before it is disconnected. */
  readonly maxPushBacklogBytes: number;
}

export const TRANSPORT_DEFAULTS: TransportLimits = Object.freeze({
  socketMode: 0o660,
  maxMessageBytes: 1024 * 1024,
  maxConnections: 1024,
  maxInFlightPerConnection: 256,
  partialTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  maxPushBacklogBytes: 1024 * 1024,
});
