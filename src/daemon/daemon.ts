// Composition root: reads the host, opens the durable ledger, puts the dispatcher on the socket.
// Start refuses (and touches nothing) when another daemon answers on the socket.
import type { Logger } from 'winston';
import { buildOpenRpc } from '../../schema/index.js';
import { Dispatcher } from '../rpc/index.js';
import { LedgerStore, type StateWriter } from '../state/index.js';
import type { Clock } from '../clock/index.js';
import { TRANSPORT_DEFAULTS, checkSocketMode, prepareSocketPath, startServer, type SocketServer } from '../transport/index.js';
import type { DaemonConfig } from './config.js';
import { Orchestrator } from './orchestrator.js';

export interface Daemon {
  readonly socketPath: string;
  /** Re-reads the CPU topology (SIGHUP); a bad read keeps the old one and throws. */
  reload(): void;
  /** Stops accepting, finishes in-flight requests and writes, removes the socket. */
  stop(): Promise<void>;
}

/** What only an embedding program sets, never a flag. */
export interface DaemonOptions {
  /** Replaces the durable file writer of the state store (tests inject write faults with it). */
  readonly writer?: StateWriter;
  /** Replaces the system clock: the ages of what was read, the connections' timeouts (tests move it by hand). */
  readonly clock?: Clock;
}

export async function startDaemon(config: DaemonConfig, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  // First, before the state dir is created or locked: a bad mode, or another daemon answering
  // here, means stop.
  checkSocketMode(config.socketMode);
  if (config.listenFd === undefined) await prepareSocketPath(config.socket);
  const store = await LedgerStore.open(config.stateDir, { logger, writer: options.writer });
  let server: SocketServer;
  let orchestrator: Orchestrator;
  try {
    orchestrator = new Orchestrator(config, store, logger, options.clock);
    const openrpc = buildOpenRpc();
    const inFlight = TRANSPORT_DEFAULTS.maxInFlightPerConnection;
    const dispatcher = new Dispatcher(orchestrator, () => openrpc, inFlight);
    server = await startServer({
      socketPath: config.socket,
      ...(config.listenFd === undefined ? {} : { listenFd: config.listenFd }),
      socketMode: config.socketMode,
      ...(config.socketGroup === undefined ? {} : { socketGroup: config.socketGroup }),
      maxMessageBytes: config.maxMessageBytes,
      maxConnections: config.maxConnections,
      maxInFlightPerConnection: inFlight,
      partialTimeoutMs: config.partialTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      logger,
      accept: (conn) => {
        const session = dispatcher.session(conn.logger);
        return (message) => session.handle(message);
      },
      onProtocolError: (kind) => Dispatcher.protocolError(kind),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const host = orchestrator.hostView();
  const general = host.pools.get('general');
  logger.info(
    `serving on ${config.socket}: pool "${host.pool.configured.toString()}" (${host.pool.eligible.size} CPUs), ` +
      (general ? `general pool "${general.configured.toString()}" (${general.eligible.size} CPUs), ` : '') +
      `${host.topology.nodes.length} NUMA node(s), ${store.view().serviceCount} service(s) in ${config.stateDir}`,
  );
  return {
    socketPath: config.socket,
    reload() {
      const next = orchestrator.reload();
      const stale = store.view().owned.difference(next.pool.eligible);
      logger.info(`topology reloaded: pool "${next.pool.configured.toString()}"` + (stale.isEmpty() ? '' : `, stale CPUs "${stale.toString()}"`));
    },
    async stop() {
      await server.close();
      await store.close();
      logger.info('stopped');
    },
  };
}
