// The Unix socket listener: owns the socket file and the connection limit, and gives
// each client its own Connection. It knows bytes and lines only; `handler` gives them meaning.
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown } from 'node:fs/promises';
import type { Logger } from 'winston';
import { systemClock, type Clock } from '../clock/index.js';
import { Connection, type ConnectionHandler, type ProtocolErrorHandler } from './connection.js';
import { TRANSPORT_DEFAULTS, type TransportLimits } from './limits.js';
import { checkSocketMode, resolveGroup } from './socket-file.js';

/** Any limit left out takes its TRANSPORT_DEFAULTS value. */
export interface ServerOptions extends Partial<TransportLimits> {
  /**
   * Where clients connect: bound here (the caller has made sure the path is free, see
   * prepareSocketPath), or, with listenFd, where the owner of the socket put it.
   */
  readonly socketPath: string;
  /**
   * A listening socket handed over by systemd (socket activation): served as it is, its file,
   * mode and group being systemd's; nothing is bound, and the file stays when the server stops.
   */
  readonly listenFd?: number;
  /** Group owning the socket file: a gid, or a name looked up in /etc/group. */
  readonly socketGroup?: string | number;
  /** Times the connections' timeouts; the system clock unless a test drives time. */
  readonly clock?: Clock;
  /** Gives each accepted connection the handler of its messages. */
  readonly accept: ConnectionHandler;
  readonly onProtocolError: ProtocolErrorHandler;
  readonly logger: Logger;
}

export interface SocketServer {
  readonly socketPath: string;
  /** Client connections currently open. */
  readonly connectionCount: number;
  /**
   * Stops accepting (the socket file goes at once), lets in-flight requests finish and their
   * replies be written, closes every connection. Settles when all of that is done.
   */
  close(): Promise<void>;
}

/**
 * The socket is bound with umask 0o177 so the file starts as 0600 and is never more open than
 * `socketMode`, then chmodded (and chowned to `socketGroup`). Node binds synchronously inside
 * `listen()`, so the process-wide umask is restored before any other code runs.
 */
function listenPrivately(server: Server, socketPath: string, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const previous = process.umask(0o177);
    try {
      server.listen({ path: socketPath, backlog }, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
}

function listenOnFd(server: Server, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startServer(options: ServerOptions): Promise<SocketServer> {
  const { socketPath, logger, accept, onProtocolError } = options;
  const clock = options.clock ?? systemClock;
  const limits: TransportLimits = {
    socketMode: options.socketMode ?? TRANSPORT_DEFAULTS.socketMode,
    maxMessageBytes: options.maxMessageBytes ?? TRANSPORT_DEFAULTS.maxMessageBytes,
    maxConnections: options.maxConnections ?? TRANSPORT_DEFAULTS.maxConnections,
    maxInFlightPerConnection: options.maxInFlightPerConnection ?? TRANSPORT_DEFAULTS.maxInFlightPerConnection,
    partialTimeoutMs: options.partialTimeoutMs ?? TRANSPORT_DEFAULTS.partialTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? TRANSPORT_DEFAULTS.idleTimeoutMs,
    maxPushBacklogBytes: options.maxPushBacklogBytes ?? TRANSPORT_DEFAULTS.maxPushBacklogBytes,
  };
  const { socketMode, maxConnections } = limits;
  checkSocketMode(socketMode);
  const handedOver = options.listenFd !== undefined;
  const gid = options.socketGroup === undefined || handedOver ? undefined : await resolveGroup(options.socketGroup);

  const connections = new Set<Connection>();
  let open = 0;
  let nextId = 1;
  const server = createServer({ allowHalfOpen: true });
  const stopped = new Promise<void>((resolve) => server.once('close', resolve));

  server.on('connection', (socket: Socket) => {
    if (open >= maxConnections) {
      logger.warn('connection refused: too many connections', { maxConnections });
      socket.destroy();
      return;
    }
    const id = nextId++;
    const connection = new Connection(
      socket,
      { id, logger: logger.child({ connection: id }), clock },
      accept,
      onProtocolError,
      limits,
    );
    open++;
    connections.add(connection);
    socket.once('close', () => open--);
    void connection.done.then(() => connections.delete(connection));
    connection.context.logger.debug('connection opened');
  });

  // A burst of clients connecting at once waits in the backlog instead of failing with EAGAIN
  // (Node's default is 511; the kernel caps it at net.core.somaxconn).
  if (options.listenFd !== undefined) {
    await listenOnFd(server, options.listenFd);
    logger.info('listening on the socket systemd passed', { socket: socketPath, fd: options.listenFd });
  } else {
    await listenPrivately(server, socketPath, maxConnections);
    try {
      await chmod(socketPath, socketMode);
      if (gid !== undefined) await chown(socketPath, -1, gid);
    } catch (error) {
      server.close();
      await stopped;
      throw error;
    }
    logger.info('listening', { socket: socketPath, mode: socketMode.toString(8) });
  }
  server.on('error', (error) => logger.error('socket server error', { error: error.message }));

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    get connectionCount() {
      return open;
    },
    close() {
      closing ??= (async () => {
        // Closing the listener also unlinks the socket file (libuv does it before closing the
        // descriptor, so it never removes a file a newer daemon has just bound).
        server.close();
        for (const connection of connections) connection.shutdown();
        await Promise.all([...connections].map((connection) => connection.done));
        await stopped;
        logger.info('socket closed', { socket: socketPath });
      })();
      return closing;
    },
  };
}
