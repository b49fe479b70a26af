// Replacing the state file so that a crash at any moment leaves either the old file or the new one,
// and a write reported done survives power loss: temp file in the same dir, fsync, rename over the
// file, fsync the dir (the rename is only durable once the dir is).
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface StateWriter {
  /** Durably replaces dir/file with text. Leaves no temp file behind, whether it fails or not. */
  write(dir: string, file: string, text: string): Promise<void>;
  /** Removes what a write cut short by a crash (SIGKILL, power loss) left in dir; run at open. */
  removeLeftovers?(dir: string, file: string): Promise<void>;
}

// One write at a time per dir (the store's queue and lock), so one temp name is enough.
const tempOf = (dir: string, file: string): string => join(dir, `.${file}.tmp`);

export const durableWriter: StateWriter = {
  async removeLeftovers(dir, file) {
    await rm(tempOf(dir, file), { force: true });
  },

  async write(dir, file, text) {
    // Removing the temp file first also makes a leftover harmless should removeLeftovers not run.
    const temp = tempOf(dir, file);
    try {
      await rm(temp, { force: true });
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, join(dir, file));
    } catch (error) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw error;
    }
    const dirHandle = await open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  },
};
