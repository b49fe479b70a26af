// Composition root: reads the host, opens the durable ledger, puts the dispatcher on the socket,
// and hangs what follows a change (notifications, metrics) off the store, where changes become
// durable. Start refuses (and touches nothing) when another daemon answers on the socket.
import type { Logger } from 'winston';
import { buildOpenRpc } from '../../schema/index.js';
import { allocationChanges } from '../allocator/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import { DaemonMetrics, isLoopback, MetricsFile, parseListenAddress, startMetricsServer } from '../metrics/index.js';
import type { ListenAddress, MetricsServer } from '../metrics/index.js';
import { Dispatcher } from '../rpc/index.js';
import { LedgerStore, type StateWriter } from '../state/index.js';
import { TRANSPORT_DEFAULTS, checkSocketMode, prepareSocketPath, startServer, type SocketServer } from '../transport/index.js';
import type { DaemonConfig } from './config.js';
import { Orchestrator } from './orchestrator.js';

export interface Daemon {
  readonly socketPath: string;
  /** Where GET /metrics is served (the port chosen when 0 was asked), when it is. */
  readonly metricsUrl: string | undefined;
  /** Re-reads the CPU topology (SIGHUP); a bad read keeps the old one and throws. */
  reload(): void;
  /** Stops accepting, finishes in-flight requests and writes, removes the socket. */
  stop(): Promise<void>;
}

/** What only an embedding program sets, never a flag. */
export interface DaemonOptions {
  /** Replaces the durable file writer of the state store (tests inject write faults with it). */
  readonly writer?: StateWriter;
  /** Replaces the system clock: the ages of what was read, the timeouts, the metrics file's period. */
  readonly clock?: Clock;
}

/** The metrics endpoint's address; anything but loopback only when the operator said so. */
function metricsAddress(config: DaemonConfig): ListenAddress | undefined {
  if (config.metricsListen === undefined) return undefined;
  const address = parseListenAddress(config.metricsListen);
  if (!isLoopback(address.host) && config.metricsListenAny !== true) {
    throw new Error(
      `--metrics-listen ${config.metricsListen}: ${address.host} is not a loopback address; the metrics name every service of the host, so give --metrics-listen-any to serve them beyond it`,
    );
  }
  return address;
}

export async function startDaemon(config: DaemonConfig, logger: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  // First, before the state dir is created or locked: a bad mode or metrics address, or another
  // daemon answering here, means stop.
  checkSocketMode(config.socketMode);
  const listen = metricsAddress(config);
  if (config.listenFd === undefined) await prepareSocketPath(config.socket);
  const clock = options.clock ?? systemClock;
  const store = await LedgerStore.open(config.stateDir, { logger, writer: options.writer });
  let server: SocketServer | undefined;
  let metricsServer: MetricsServer | undefined;
  let metricsFile: MetricsFile | undefined;
  let orchestrator: Orchestrator;
  try {
    orchestrator = new Orchestrator(config, store, logger, clock);
    const metrics = new DaemonMetrics({
      hostView: () => orchestrator.hostView(),
      ledger: () => store.view(),
      hugepageCounters: (use) => orchestrator.hugepageCounters(use),
      connections: () => server?.connectionCount ?? 0,
    });
    const openrpc = buildOpenRpc();
    const inFlight = TRANSPORT_DEFAULTS.maxInFlightPerConnection;
    const dispatcher = new Dispatcher(orchestrator, { openrpc: () => openrpc, maxBatch: inFlight, requests: metrics });
    if (config.metricsFile !== undefined) {
      const file = new MetricsFile(config.metricsFile, metrics, clock, logger);
      metricsFile = file;
      await file.start();
    }
    store.observe({
      committed: (commits) => {
        const changes = commits.flatMap((commit) => (commit.origin ? allocationChanges(commit.before, commit.after, commit.origin) : []));
        dispatcher.notify(changes);
        metrics.changed(changes);
        metricsFile?.changed();
      },
      wrote: (write) => metrics.wrote(write),
    });
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
      clock,
      logger,
      accept: (conn) => {
        const session = dispatcher.session(conn);
        return (message) => session.handle(message);
      },
      onProtocolError: (kind) => Dispatcher.protocolError(kind),
    });
    if (listen !== undefined) metricsServer = await startMetricsServer(listen, metrics, logger);
  } catch (error) {
    await server?.close();
    await metricsFile?.stop();
    await store.close();
    throw error;
  }
  const host = orchestrator.hostView();
  const general = host.pools.get('general');
  logger.info(
    `serving on ${config.socket}: pool "${host.pool.configured.toString()}" (${host.pool.eligible.size} CPUs), ` +
      (general ? `general pool "${general.configured.toString()}" (${general.eligible.size} CPUs), ` : '') +
      (host.reserved.isEmpty() ? '' : `reserved CPUs "${host.reserved.toString()}" (never handed out), `) +
      `${host.topology.nodes.length} NUMA node(s), ${store.view().serviceCount} service(s) in ${config.stateDir}`,
  );
  if (metricsServer) logger.info(`metrics on ${metricsServer.url}`);
  if (metricsFile) logger.info(`metrics written to ${metricsFile.path} after each change and every 15 s`);
  const socketServer = server;
  return {
    socketPath: config.socket,
    metricsUrl: metricsServer?.url,
    reload() {
      const next = orchestrator.reload();
      const stale = store.view().owned.difference(next.pool.eligible);
      logger.info(`topology reloaded: pool "${next.pool.configured.toString()}"` + (stale.isEmpty() ? '' : `, stale CPUs "${stale.toString()}"`));
    },
    async stop() {
      await socketServer.close();
      await store.close();
      await metricsFile?.stop();
      await metricsServer?.close();
      logger.info('stopped');
    },
  };
}
