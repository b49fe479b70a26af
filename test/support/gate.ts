// Preloaded with `node --import` in front of bin/epa-orchestrator: loads the daemon's code, then
// holds the process until its parent writes a line on stdin. The crash tests keep such a warm
// spare ready, so a restart after SIGKILL costs the daemon's start, not loading its modules
// (about a CPU-second each). The program that then runs is the unchanged `serve` command.
import { once } from 'node:events';

await Promise.all([import('../../src/cli/program.js'), import('../../src/cli/commands/serve.js')]);
process.stdout.write('warm\n');
await once(process.stdin, 'data');
process.stdin.destroy();
