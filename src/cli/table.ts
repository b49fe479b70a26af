// Plain-text tables and the small value formats they share. Pure: data in, text out.
import { parseCpuList } from '../cpuset/index.js';

/** Left-aligned columns two spaces apart, a header row first, no trailing spaces; ends in "\n". */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** A cpulist with its size, "2-3,18-19 (4)"; "-" for none. */
export function cpusWithCount(cpulist: string): string {
  return cpulist === '' ? '-' : `${cpulist} (${parseCpuList(cpulist).size})`;
}

/** A cpulist, or "-" for none. */
export function orDash(text: string): string {
  return text === '' ? '-' : text;
}

/** A hugepage size in kB as people say it: 2048 → "2 MiB", 1048576 → "1 GiB". */
export function formatSizeKb(sizeKb: number): string {
  if (sizeKb % (1024 * 1024) === 0) return `${sizeKb / (1024 * 1024)} GiB`;
  if (sizeKb % 1024 === 0) return `${sizeKb / 1024} MiB`;
  return `${sizeKb} kB`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
