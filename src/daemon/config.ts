// Daemon settings and the defaults of the socket and state paths. Each one can come from a flag or
// its EPA_* variable; the command line resolves those, this file only knows the defaults.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { TransportLimits } from '../transport/index.js';

/**
 * The limits default to TRANSPORT_DEFAULTS (src/transport/limits.ts); the in-flight cap (which
 * also caps a batch) and a subscriber's backlog have no flag and stay at their defaults.
 */
export interface DaemonConfig extends Omit<TransportLimits, 'maxInFlightPerConnection' | 'maxPushBacklogBytes'> {
  readonly socket: string;
  /** A listening socket passed by systemd (LISTEN_FDS): served instead of binding `socket`. */
  readonly listenFd?: number;
  readonly socketGroup?: string;
  readonly stateDir: string;
  readonly sysfs: string;
  /** Replaces `isolated` as the pool (cpulist). */
  readonly cpuPool?: string;
  /** The general pool (cpulist); must not overlap the default pool. */
  readonly generalPool?: string;
  /** The general pool's setting could not be read (snapctl failed): offered with no CPU, for this reason. */
  readonly generalPoolUnknown?: string;
  /** Housekeeping CPUs (cpulist): no pool hands them out, even one that lists them. */
  readonly reservedCpus?: string;
  /** The reserved CPUs' setting could not be read (snapctl failed): every pool hands out nothing, for this reason. */
  readonly reservedCpusUnknown?: string;
  /** Rewrite this file with the metrics after each change and every 15 s (node_exporter's textfile collector). */
  readonly metricsFile?: string;
  /** Serve GET /metrics on HOST:PORT; a loopback address unless metricsListenAny. */
  readonly metricsListen?: string;
  readonly metricsListenAny?: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

const isRoot = (): boolean => process.getuid?.() === 0;

export function defaultSocketPath(env: Env = process.env, root = isRoot()): string {
  if (env.SNAP_DATA) return join(env.SNAP_DATA, 'data', 'epa.sock');
  if (root) return '/run/epa-orchestrator/epa.sock';
  return join(env.XDG_RUNTIME_DIR ?? tmpdir(), 'epa-orchestrator', 'epa.sock');
}

export function defaultStateDir(env: Env = process.env, root = isRoot()): string {
  if (env.SNAP_DATA) return join(env.SNAP_DATA, 'data');
  if (root) return '/var/lib/epa-orchestrator';
  return join(env.XDG_STATE_HOME ?? join(env.HOME ?? tmpdir(), '.local', 'state'), 'epa-orchestrator');
}
