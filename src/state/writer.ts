// Replacing the state file so that a crash at any moment leaves either the old file or the new one,
// and a write reported done survives power loss: temp file in the same dir, fsync, rename over the
// file, fsync the dir (the rename is only durable once the dir is).
//
// A write that fails says what the disk holds: before the rename nothing of it reached the file
// ("unchanged"); once the rename is done the new file is in place but may not survive a crash
// ("uncertain"), so the caller cannot say "nothing was changed" without writing the old state again.
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** The steps of a write, in order. */
export const WRITE_STEPS = ['open-temp', 'write-temp', 'fsync-temp', 'close-temp', 'rename', 'open-dir', 'fsync-dir', 'close-dir'] as const;
export type WriteStep = (typeof WRITE_STEPS)[number];

/** What the state file holds after a failed write. */
export type DiskOutcome = 'unchanged' | 'uncertain';

export class StateWriteError extends Error {
  /** The operating system's code (ENOSPC, EIO …). */
  readonly code: string;

  constructor(
    readonly step: WriteStep,
    readonly outcome: DiskOutcome,
    cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StateWriteError';
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
  }
}

export interface StateWriter {
  /**
   * Durably replaces dir/file with text. Leaves no temp file behind, whether it fails or not; a
   * failure is a StateWriteError saying what the file holds.
   */
  write(dir: string, file: string, text: string): Promise<void>;
  /** Removes what a write cut short by a crash (SIGKILL, power loss) left in dir; run at open. */
  removeLeftovers?(dir: string, file: string): Promise<void>;
}

export interface WriterHooks {
  /** Runs before each step: what it throws fails the write at that step (tests inject faults). */
  readonly beforeStep?: (step: WriteStep) => void | Promise<void>;
}

// One write at a time per dir (the store's queue and lock), so one temp name is enough.
const tempOf = (dir: string, file: string): string => join(dir, `.${file}.tmp`);

export function createDurableWriter(hooks: WriterHooks = {}): StateWriter {
  const before = hooks.beforeStep ?? (() => undefined);
  const failed = (name: WriteStep, error: unknown): StateWriteError =>
    error instanceof StateWriteError
      ? error
      : new StateWriteError(name, WRITE_STEPS.indexOf(name) <= WRITE_STEPS.indexOf('rename') ? 'unchanged' : 'uncertain', error);
  /** Runs one step; a failure is a StateWriteError of that step. */
  const step = async <T>(name: WriteStep, run: () => Promise<T>): Promise<T> => {
    try {
      await before(name);
      return await run();
    } catch (error) {
      throw failed(name, error);
    }
  };
  /** Closes a handle whatever happens: a failed close step still releases the descriptor. */
  const close = async (name: WriteStep, handle: FileHandle): Promise<void> => {
    let failure: unknown;
    try {
      await before(name);
    } catch (error) {
      failure = error;
    }
    await handle.close().catch((error: unknown) => (failure ??= error));
    if (failure !== undefined) throw failed(name, failure);
  };
  return {
    async removeLeftovers(dir, file) {
      await rm(tempOf(dir, file), { force: true });
    },

    async write(dir, file, text) {
      const temp = tempOf(dir, file);
      try {
        const handle = await step('open-temp', async () => {
          // Removing the temp file first also makes a leftover harmless should removeLeftovers not run.
          await rm(temp, { force: true });
          return open(temp, 'wx', 0o600);
        });
        try {
          await step('write-temp', () => handle.writeFile(text, 'utf8'));
          await step('fsync-temp', () => handle.sync());
        } finally {
          await close('close-temp', handle);
        }
        await step('rename', () => rename(temp, join(dir, file)));
      } catch (error) {
        await rm(temp, { force: true }).catch(() => undefined);
        throw error;
      }
      const dirHandle = await step('open-dir', () => open(dir, 'r'));
      try {
        await step('fsync-dir', () => dirHandle.sync());
      } finally {
        await close('close-dir', dirHandle);
      }
    },
  };
}

export const durableWriter: StateWriter = createDurableWriter();
