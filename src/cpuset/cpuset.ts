// An immutable set of CPU ids stored as a bitmap of 32-bit words. Every operation works a word
// at a time, so set algebra over a 4096-CPU host costs 128 word operations, not 4096.

/** CPU ids are 0 ≤ id < MAX_CPUS; the kernel's NR_CPUS tops out at 8192, so this leaves room. */
export const MAX_CPUS = 65_536;

function popcount32(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Index (0–31) of the lowest set bit of a non-zero word. */
function lowestBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/** Drops trailing zero words so that equal sets have equal word arrays. */
function trimmed(words: Uint32Array): Uint32Array {
  let end = words.length;
  while (end > 0 && words[end - 1] === 0) end--;
  return end === words.length ? words : words.slice(0, end);
}

export class CpuSet implements Iterable<number> {
  static readonly EMPTY = new CpuSet(new Uint32Array(0));

  private cachedSize = -1;

  private constructor(private readonly words: Uint32Array) {}

  static of(...cpus: number[]): CpuSet {
    return CpuSet.from(cpus);
  }

  static from(cpus: Iterable<number>): CpuSet {
    const list = [...cpus];
    if (list.length === 0) return CpuSet.EMPTY;
    let max = 0;
    for (const cpu of list) {
      checkCpu(cpu);
      if (cpu > max) max = cpu;
    }
    const words = new Uint32Array((max >>> 5) + 1);
    for (const cpu of list) words[cpu >>> 5]! |= 1 << (cpu & 31);
    return new CpuSet(words);
  }

  /** The CPUs lo..hi inclusive; empty when hi < lo. */
  static range(lo: number, hi: number): CpuSet {
    if (hi < lo) return CpuSet.EMPTY;
    checkCpu(lo);
    checkCpu(hi);
    const words = new Uint32Array((hi >>> 5) + 1);
    for (let w = lo >>> 5; w <= hi >>> 5; w++) {
      const from = w === lo >>> 5 ? lo & 31 : 0;
      const to = w === hi >>> 5 ? hi & 31 : 31;
      const width = to - from + 1;
      words[w] = (width === 32 ? 0xffffffff : ((1 << width) - 1) << from) >>> 0;
    }
    return new CpuSet(words);
  }

  get size(): number {
    if (this.cachedSize < 0) {
      let n = 0;
      for (const word of this.words) n += popcount32(word);
      this.cachedSize = n;
    }
    return this.cachedSize;
  }

  /** Every constructor keeps the words trimmed (no trailing zero word), so empty means no words. */
  isEmpty(): boolean {
    return this.words.length === 0;
  }

  has(cpu: number): boolean {
    // `>>>` and `&` would wrap 1.5, Infinity or 2^32 + 1 onto a real CPU, so only ids in range count.
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.words.length << 5) return false;
    return ((this.words[cpu >>> 5]! >>> (cpu & 31)) & 1) === 1;
  }

  /** Every CPU moved by d (cpu + d), those that would fall below 0 dropped: a word operation. */
  shifted(d: number): CpuSet {
    if (!Number.isInteger(d)) throw new RangeError(`shift ${d} is not an integer`);
    if (d === 0 || this.words.length === 0) return this;
    const by = Math.abs(d);
    const ws = by >>> 5;
    const bs = by & 31;
    const words = this.words;
    if (d > 0) {
      checkCpu(this.last() + d);
      const out = new Uint32Array(words.length + ws + 1);
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        out[i + ws]! |= w << bs;
        if (bs > 0) out[i + ws + 1]! |= w >>> (32 - bs);
      }
      return new CpuSet(trimmed(out));
    }
    if (ws >= words.length) return CpuSet.EMPTY;
    const out = new Uint32Array(words.length - ws);
    for (let i = ws; i < words.length; i++) {
      const w = words[i]!;
      out[i - ws]! |= w >>> bs;
      if (bs > 0 && i - ws - 1 >= 0) out[i - ws - 1]! |= w << (32 - bs);
    }
    return new CpuSet(trimmed(out));
  }

  union(other: CpuSet): CpuSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const [long, short] = this.words.length >= other.words.length ? [this.words, other.words] : [other.words, this.words];
    const words = long.slice();
    for (let i = 0; i < short.length; i++) words[i]! |= short[i]!;
    return new CpuSet(words);
  }

  intersect(other: CpuSet): CpuSet {
    const n = Math.min(this.words.length, other.words.length);
    const words = new Uint32Array(n);
    for (let i = 0; i < n; i++) words[i] = this.words[i]! & other.words[i]!;
    return new CpuSet(trimmed(words));
  }

  difference(other: CpuSet): CpuSet {
    if (other.isEmpty()) return this;
    const words = this.words.slice();
    const n = Math.min(words.length, other.words.length);
    for (let i = 0; i < n; i++) words[i]! &= ~other.words[i]!;
    return new CpuSet(trimmed(words));
  }

  intersects(other: CpuSet): boolean {
    const n = Math.min(this.words.length, other.words.length);
    for (let i = 0; i < n; i++) if ((this.words[i]! & other.words[i]!) !== 0) return true;
    return false;
  }

  isSubsetOf(other: CpuSet): boolean {
    for (let i = 0; i < this.words.length; i++) {
      if ((this.words[i]! & ~(other.words[i] ?? 0)) !== 0) return false;
    }
    return true;
  }

  equals(other: CpuSet): boolean {
    const a = trimmed(this.words);
    const b = trimmed(other.words);
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** The lowest CPU in the set, or -1 when empty. */
  first(): number {
    return this.next(0);
  }

  /** The lowest CPU ≥ from in the set, or -1 when there is none. */
  next(from: number): number {
    // Past the last word (checked before `>>>` can wrap a huge `from`) there is nothing.
    if (!(from < this.words.length << 5)) return -1;
    from = from < 0 ? 0 : Math.ceil(from);
    let w = from >>> 5;
    if (w >= this.words.length) return -1;
    let word = (this.words[w]! >>> (from & 31)) << (from & 31);
    for (;;) {
      if (word !== 0) return (w << 5) + lowestBit(word);
      if (++w >= this.words.length) return -1;
      word = this.words[w]!;
    }
  }

  /** The highest CPU in the set, or -1 when empty. */
  last(): number {
    for (let w = this.words.length - 1; w >= 0; w--) {
      const word = this.words[w]!;
      if (word !== 0) return (w << 5) + 31 - Math.clz32(word);
    }
    return -1;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let w = 0; w < this.words.length; w++) {
      let word = this.words[w]!;
      while (word !== 0) {
        const bit = word & -word;
        yield (w << 5) + lowestBit(bit);
        word ^= bit;
      }
    }
  }

  toArray(): number[] {
    return [...this];
  }

  /** The canonical kernel cpulist: sorted, ranges for runs of two or more, "" when empty. */
  toString(): string {
    const parts: string[] = [];
    let start = this.first();
    while (start >= 0) {
      let end = start;
      while (this.has(end + 1)) end++;
      parts.push(end === start ? `${start}` : `${start}-${end}`);
      start = this.next(end + 1);
    }
    return parts.join(',');
  }

  toJSON(): string {
    return this.toString();
  }
}

function checkCpu(cpu: number): void {
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= MAX_CPUS) {
    throw new RangeError(`CPU id ${cpu} is not an integer in 0..${MAX_CPUS - 1}`);
  }
}
