// Per-ledger memo: a read computes its answer once per ledger value and reuses it until the next
// change makes a new ledger. Keyed weakly, so old ledgers and their answers are collected together.
import type { Ledger } from './ledger.js';

export function perLedger<K extends object, V>(compute: (ledger: Ledger, key: K) => V): (ledger: Ledger, key: K) => V {
  const cache = new WeakMap<Ledger, { key: K; value: V }>();
  return (ledger, key) => {
    const hit = cache.get(ledger);
    if (hit && hit.key === key) return hit.value;
    const value = compute(ledger, key);
    cache.set(ledger, { key, value });
    return value;
  };
}
