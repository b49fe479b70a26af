// `demo`: the bundled sample host written as a sysfs tree in a temp dir, served with a temp state
// dir, and instructions to try it. Ctrl-C stops it and removes the temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { TRANSPORT_DEFAULTS } from '../../transport/index.js';
import { startDaemon } from '../../daemon/daemon.js';
import { createLogger } from '../../daemon/logger.js';
import { SAMPLE_HOST, writeSysfs } from '../../topology/fake/index.js';
import { CliError, messageOf } from '../errors.js';
import { demoText, describeHost, shellQuote } from '../messages.js';
import type { DemoRequest } from '../program.js';
import { runUntilSignalled } from './lifecycle.js';

/** This program as the user can type it from where they are: ./bin/epa-orchestrator from the repo. */
function invocation(): string {
  const script = process.argv[1] ?? 'epa-orchestrator';
  const fromHere = relative(process.cwd(), script);
  const shown = fromHere !== '' && !fromHere.startsWith('..') && !isAbsolute(fromHere) ? `./${fromHere}` : script;
  return shellQuote(shown);
}

export async function demo({ socket, writeSample }: DemoRequest): Promise<void> {
  if (writeSample !== undefined) {
    writeSysfs(SAMPLE_HOST, writeSample);
    return;
  }
  const tempDir = mkdtempSync(join(tmpdir(), 'epa-demo-'));
  const removeTemp = () => rmSync(tempDir, { recursive: true, force: true });
  const sysfs = join(tempDir, 'sysfs');
  const stateDir = join(tempDir, 'state');
  const socketPath = socket ?? join(tempDir, 'epa.sock');
  writeSysfs(SAMPLE_HOST, sysfs);
  const logger = createLogger({ level: 'info', format: 'text' });
  const start = async () => {
    const daemon = await startDaemon({ ...TRANSPORT_DEFAULTS, socket: socketPath, stateDir, sysfs }, logger).catch((error: unknown) => {
      removeTemp();
      throw new CliError(`cannot start the demo: ${messageOf(error)}`);
    });
    process.stdout.write(demoText({ program: invocation(), socket: socketPath, sysfs, stateDir, tempDir, host: describeHost(SAMPLE_HOST) }));
    return daemon;
  };
  await runUntilSignalled(start, logger, removeTemp);
}
