// One daemon per state dir. state.lock holds the owner's pid and the boot it ran in; a lock whose
// owner is gone (no such process, or a previous boot, whose pids mean nothing now) is stale and
// taken over, so a crashed daemon never leaves the dir stuck. Without flock(2) in Node, two daemons
// starting at the same instant over a stale lock could both win; the socket check at start (a
// socket another daemon answers on stops it) is the second guard.
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StateLockedError } from './errors.js';

export const LOCK_FILE = 'state.lock';
const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';
const MAX_PID = 2 ** 31 - 1;
const ATTEMPTS = 3;

interface Holder {
  readonly pid: number;
  readonly bootId: string;
}

export class StateLock {
  private constructor(
    readonly path: string,
    private readonly content: string,
    /** The pid of the stale lock this one replaced, if any. */
    readonly tookOverFrom: number | undefined,
  ) {}

  /** Takes the lock of dir, replacing a stale one; throws StateLockedError if a live daemon holds it. */
  static async acquire(dir: string): Promise<StateLock> {
    const path = join(dir, LOCK_FILE);
    const bootId = await currentBootId();
    const content = `${process.pid}\n${bootId}\n`;
    let tookOverFrom: number | undefined;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (await createExclusive(path, content)) return new StateLock(path, content, tookOverFrom);
      const holder = await readHolder(path);
      if (holder === null) continue; // removed meanwhile: try again
      if (holder !== undefined && isAlive(holder, bootId)) throw new StateLockedError(dir, holder.pid);
      tookOverFrom = holder?.pid;
      await unlink(path).catch(ignoreMissing);
    }
    throw new Error(`Could not take the lock ${path}: it keeps being recreated`);
  }

  /** Removes the lock file, unless someone else's lock has replaced it. */
  async release(): Promise<void> {
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    if (text === this.content) await unlink(this.path).catch(ignoreMissing);
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
  return true;
}

/** The lock's holder; undefined when the content is not a lock of ours (stale); null if gone. */
async function readHolder(path: string): Promise<Holder | undefined | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const [pidLine = '', bootId = ''] = text.split('\n');
  const pid = /^[1-9]\d*$/.test(pidLine) ? Number(pidLine) : NaN;
  return pid <= MAX_PID ? { pid, bootId } : undefined;
}

function isAlive(holder: Holder, bootId: string): boolean {
  if (holder.bootId !== '' && bootId !== '' && holder.bootId !== bootId) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function currentBootId(): Promise<string> {
  return (await readFile(BOOT_ID_FILE, 'utf8').catch(() => '')).trim();
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
