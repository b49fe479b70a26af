// Daemon settings with the defaults of SPEC sections 3 and 8. Each one can come from a flag or
// its EPA_* variable; the command line resolves those, this file only knows the defaults.
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export interface DaemonConfig {
  readonly socket: string;
  /** A listening socket passed by systemd (LISTEN_FDS): served instead of binding `socket`. */
  readonly listenFd?: number;
  /** File mode of the socket (default 0o660). */
  readonly socketMode: number;
  readonly socketGroup?: string;
  readonly stateDir: string;
  readonly sysfs: string;
  /** Replaces `isolated` as the pool (cpulist). */
  readonly cpuPool?: string;
  /** The general pool (cpulist), SPEC section 10; must not overlap the default pool. */
  readonly generalPool?: string;
  /** The general pool's setting could not be read (snapctl failed): offered with no CPU, for this reason. */
  readonly generalPoolUnknown?: string;
  readonly maxMessageBytes: number;
  readonly maxConnections: number;
  readonly partialTimeoutMs: number;
  readonly idleTimeoutMs: number;
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

export const LIMIT_DEFAULTS = {
  socketMode: 0o660,
  maxMessageBytes: 1024 * 1024,
  maxConnections: 1024,
  partialTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
} as const;
