// `check-pool LIST`: whether a general pool may be configured (the snap's configure hook asks before
// snapd commits `cpu-pool`). It reads the host and the state file, never changes either, and
// refuses with "Invalid cpu-pool configuration: …" (exit 1). With --reserved-cpus it also refuses
// ("Invalid reserved-cpus configuration: …") a list that is not a cpulist, with which the daemon's
// pools would all hand out nothing.
import { join } from 'node:path';
import { generalPoolProblem, leftOutProblem } from '../../allocator/index.js';
import { CpuListError, parseCpuList, type CpuSet } from '../../cpuset/index.js';
import { generalPoolSetting } from '../../daemon/orchestrator.js';
import { loadState, STATE_FILE, StateFileError } from '../../state/index.js';
import { readPresent, readTopology, TopologyError } from '../../topology/index.js';
import { CliError } from '../errors.js';
import type { CheckPoolRequest } from '../program.js';

function refuse(reason: string): never {
  throw new CliError(`Invalid cpu-pool configuration: ${reason}`);
}

function checkReserved(text: string): void {
  try {
    parseCpuList(text);
  } catch (error) {
    if (error instanceof CpuListError) throw new CliError(`Invalid reserved-cpus configuration: ${JSON.stringify(text)} is not a cpulist: ${error.detail}`);
    throw error;
  }
}

export async function checkPool({ pool, sysfs, stateDir, cpuPool, reservedCpus }: CheckPoolRequest): Promise<void> {
  if (reservedCpus !== undefined) checkReserved(reservedCpus);
  let general: CpuSet | undefined;
  try {
    general = generalPoolSetting(pool);
  } catch (error) {
    if (error instanceof CpuListError) refuse(`${JSON.stringify(pool)} is not a cpulist or "isolated": ${error.detail}`);
    throw error;
  }
  try {
    if (general !== undefined) {
      const isolated = readTopology(sysfs, cpuPool === undefined ? {} : { cpuPool }).pool;
      const problem = generalPoolProblem(general, { isolated, present: readPresent(sysfs) });
      if (problem !== undefined) refuse(problem);
    }
    const problem = leftOutProblem(general, await loadState(join(stateDir, STATE_FILE)));
    if (problem !== undefined) refuse(problem);
  } catch (error) {
    if (error instanceof TopologyError || error instanceof StateFileError) refuse(`it cannot be checked: ${error.message}`);
    throw error;
  }
}
