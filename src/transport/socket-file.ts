// The socket file's life before listening: refuse a path another daemon answers on,
// replace a stale one, resolve the group that will own it.
import { connect } from 'node:net';
import { lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export class SocketInUseError extends Error {
  constructor(readonly socketPath: string) {
    super(`${socketPath} is in use: another process answers on it (is a daemon already running?)`);
    this.name = 'SocketInUseError';
  }
}

/** The path exists and is something other than a socket: it is not ours to remove. */
export class SocketPathError extends Error {
  constructor(readonly socketPath: string) {
    super(`${socketPath} exists and is not a socket; refusing to replace it`);
    this.name = 'SocketPathError';
  }
}

/** A socket every user could write to would let anyone take or release CPUs: never allowed. */
export function checkSocketMode(mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777 || (mode & 0o002) !== 0) {
    throw new RangeError(`socket mode ${mode.toString(8).padStart(4, '0')} is refused: the socket must not be writable by every user`);
  }
}

const errorCode = (error: unknown): unknown => (error as NodeJS.ErrnoException | undefined)?.code;

/** Connects once: true if something accepts, false if nothing listens (ECONNREFUSED) or the path vanished. */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error) => {
      probe.destroy();
      const code = errorCode(error);
      if (code === 'ECONNREFUSED' || code === 'ENOENT') resolve(false);
      else reject(error);
    });
  });
}

/**
 * Makes `socketPath` free to listen on: creates the parent directory (0755 at most) if missing;
 * if a socket file is there and something answers, throws SocketInUseError and touches nothing;
 * if nothing answers, unlinks the stale file.
 */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o755 });
  let isSocket: boolean;
  try {
    isSocket = (await lstat(socketPath)).isSocket();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if (!isSocket) throw new SocketPathError(socketPath);
  if (await answers(socketPath)) throw new SocketInUseError(socketPath);
  await unlink(socketPath).catch((error: unknown) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
}

/** A gid as given, or a group name looked up in /etc/group (the file; NSS sources are not consulted). */
export async function resolveGroup(group: string | number, groupFile = '/etc/group'): Promise<number> {
  if (typeof group === 'number' || /^\d+$/.test(group)) {
    const gid = Number(group);
    if (!Number.isSafeInteger(gid) || gid < 0) throw new Error(`invalid socket group id ${group}`);
    return gid;
  }
  for (const line of (await readFile(groupFile, 'utf8')).split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new Error(`socket group "${group}" not found in ${groupFile}`);
}
