// Reading one sysfs file or directory. A missing file is a value (null), because each missing
// file has a meaning (docs/architecture.md, reading the host); anything unreadable or malformed
// is a TopologyError naming it.
import { readdirSync, readFileSync } from 'node:fs';
import { CpuListError, parseCpuList } from '../cpuset/index.js';
import type { CpuSet } from '../cpuset/index.js';
import { TopologyError } from './errors.js';

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unreadable(path: string, error: unknown): TopologyError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new TopologyError(path, `cannot be read (${code})`);
}

/** The file's text, or null when it does not exist. */
export function readOptional(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return null;
    throw unreadable(path, error);
  }
}

/** The entry names of a directory, or null when it does not exist. */
export function listOptional(path: string): string[] | null {
  try {
    return readdirSync(path);
  } catch (error) {
    if (isMissing(error)) return null;
    throw unreadable(path, error);
  }
}

/** Parses a cpulist read from `source`, naming it when the text is malformed. */
export function cpuListFrom(source: string, text: string): CpuSet {
  try {
    return parseCpuList(text);
  } catch (error) {
    if (error instanceof CpuListError) {
      throw new TopologyError(source, `invalid cpulist ${JSON.stringify(text.trim())}: ${error.detail}`);
    }
    throw error;
  }
}

/** A cpulist file, or null when it does not exist. */
export function readCpuListFile(path: string): CpuSet | null {
  const text = readOptional(path);
  return text === null ? null : cpuListFrom(path, text);
}

const COUNT = /^\d+$/;

/** A file holding a non-negative integer (a counter, a cache level), or null when it does not exist. */
export function readOptionalCountFile(path: string): number | null {
  const text = readOptional(path);
  if (text === null) return null;
  const body = text.trim();
  const value = Number(body);
  if (!COUNT.test(body) || !Number.isSafeInteger(value)) {
    throw new TopologyError(path, `expected a non-negative integer, found ${JSON.stringify(body)}`);
  }
  return value;
}

/** A counter file (a non-negative integer); it must exist. */
export function readCountFile(path: string): number {
  const value = readOptionalCountFile(path);
  if (value === null) throw new TopologyError(path, 'missing');
  return value;
}
