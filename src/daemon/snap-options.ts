// Inside the snap the configuration comes from snap options (`snap set epa-orchestrator
// cpu-pool=8-11,24-27`), read once at start with `snapctl get -d`. A flag or EPA_* variable given
// explicitly wins over an option.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DaemonConfig } from './config.js';

/** Each snap option and the config field it sets. */
export const SNAP_OPTIONS = {
  'cpu-pool': 'generalPool',
  'metrics-file': 'metricsFile',
  'metrics-listen': 'metricsListen',
  'reserved-cpus': 'reservedCpus',
} as const satisfies Record<string, keyof DaemonConfig>;

export type SnapOption = keyof typeof SNAP_OPTIONS;

/** Runs a program and gives its standard output (execFile's contract, which tests stand in for). */
export type RunProgram = (file: string, args: readonly string[]) => Promise<{ readonly stdout: string }>;

const execFileAsync = promisify(execFile);
const runProgram: RunProgram = (file, args) => execFileAsync(file, args);

/** The options set, as text (snapd may hand a single CPU over as a number). */
export async function readSnapOptions(run: RunProgram = runProgram): Promise<Partial<Record<SnapOption, string>>> {
  let stdout: string;
  try {
    ({ stdout } = await run('snapctl', ['get', '-d', ...Object.keys(SNAP_OPTIONS)]));
  } catch (error) {
    const { code, stderr } = error as { code?: unknown; stderr?: unknown };
    const said = typeof stderr === 'string' && stderr.trim() !== '' ? `: ${stderr.trim().split('\n').join(' ')}` : '';
    throw new Error(`snapctl failed (${String(code)})${said}`);
  }
  const document = JSON.parse(stdout) as unknown;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new Error(`snapctl get -d answered ${JSON.stringify(stdout.trim())}, not a JSON object`);
  }
  const options: Partial<Record<SnapOption, string>> = {};
  for (const name of Object.keys(SNAP_OPTIONS) as SnapOption[]) {
    const value = (document as Record<string, unknown>)[name];
    if (typeof value === 'string' || typeof value === 'number') options[name] = String(value);
    else if (value !== undefined && value !== null) throw new Error(`snap option ${name} must be text, not ${JSON.stringify(value)}`);
  }
  return options;
}

/** The config with the snap's options filled in where no flag or variable set the field. */
export function withSnapOptions(config: DaemonConfig, options: Partial<Record<SnapOption, string>>): DaemonConfig {
  const filled: Record<string, unknown> = { ...config };
  for (const [name, field] of Object.entries(SNAP_OPTIONS)) {
    const value = options[name as SnapOption];
    if (value !== undefined && filled[field] === undefined) filled[field] = value;
  }
  return filled as unknown as DaemonConfig;
}
