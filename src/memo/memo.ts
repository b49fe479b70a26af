// Values computed once and kept as long as what they were computed from. The keys are the objects a
// value depends on — a ledger, a host view, a service record, a result — named at every lookup;
// they are immutable, so a change makes new keys and a kept value is never stale. Values are frozen
// (deeply), so no caller can change what the next caller gets.

/**
 * Freezes value and every plain object and array it holds. Instances of classes (a CpuSet, whose
 * size is cached on first use) keep their own immutability and are left as they are.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return value;
  for (const member of Object.values(value)) deepFreeze(member);
  return Object.freeze(value);
}

interface Node<V> {
  value?: { readonly v: V };
  next?: WeakMap<object, Node<V>>;
}

export class Memo<K extends readonly object[], V> {
  readonly #root: WeakMap<object, Node<V>> = new WeakMap();

  /** The value for these keys: computed (and frozen) the first time, kept while the keys live. */
  get(keys: K, compute: () => V): V {
    let level = this.#root;
    let node: Node<V> | undefined;
    for (const key of keys) {
      node = level.get(key);
      if (node === undefined) {
        node = {};
        level.set(key, node);
      }
      level = node.next ??= new WeakMap();
    }
    if (node === undefined) throw new Error('a memo needs at least one key');
    node.value ??= { v: deepFreeze(compute()) };
    return node.value.v;
  }
}
