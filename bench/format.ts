// Number formats shared by the tables and the target lines.

export const int = (v: number): string => Math.round(v).toLocaleString('en-US');

/** Microseconds to 3 significant figures (at least whole ones). */
export function micros(v: number): string {
  if (v < 10) return v.toFixed(2);
  if (v < 100) return v.toFixed(1);
  return int(v);
}

export const nodes = (n: number): string => `${n} node${n === 1 ? '' : 's'}`;
