// A real daemon, in this process, serving the bundled sample host from a temp dir of its own (sysfs
// tree, state dir, socket) for as long as `use` runs; everything is removed afterwards.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { SAMPLE_HOST, tempSysfs } from '../../src/topology/fake/index.js';
import { TRANSPORT_DEFAULTS } from '../../src/transport/index.js';

export async function withSampleDaemon<T>(use: (socketPath: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'epa-docs-'));
  const sysfs = tempSysfs(SAMPLE_HOST);
  try {
    const config = { ...TRANSPORT_DEFAULTS, socket: join(dir, 'epa.sock'), stateDir: join(dir, 'state'), sysfs: sysfs.path };
    const daemon = await startDaemon(config, silentLogger());
    try {
      return await use(daemon.socketPath);
    } finally {
      await daemon.stop();
    }
  } finally {
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}
