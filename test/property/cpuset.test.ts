// Every CpuSet operation against a plain Set<number> model. fast-check prints the seed and the
// shrunk counterexample of a failure.
import { expect } from 'chai';
import fc from 'fast-check';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';

// Small ids collide often (interesting for union/intersect); a few reach past several words.
const cpuId = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 9000 }));
const cpuArray = fc.array(cpuId, { maxLength: 60 });
const sorted = (values: Iterable<number>) => [...values].sort((a, b) => a - b);
const model = (cpus: number[]) => new Set(cpus);
const set = (cpus: number[]) => CpuSet.from(cpus);

function same(actual: CpuSet, expected: Set<number>): void {
  expect([...actual]).to.deep.equal(sorted(expected));
  expect(actual.size).to.equal(expected.size);
  expect(actual.equals(CpuSet.from(expected))).to.equal(true);
}

describe('CpuSet matches a Set<number> model', () => {
  it('iterates in increasing order, once per CPU; size; isEmpty', () => {
    fc.assert(
      fc.property(cpuArray, (a) => {
        same(set(a), model(a));
        expect(set(a).isEmpty()).to.equal(a.length === 0);
        expect(set(a).toArray()).to.deep.equal(sorted(model(a)));
      }),
    );
  });

  it('has', () => {
    fc.assert(
      fc.property(cpuArray, fc.integer({ min: -5, max: 9100 }), (a, probe) => {
        expect(set(a).has(probe)).to.equal(model(a).has(probe));
        for (const cpu of a) expect(set(a).has(cpu)).to.equal(true);
      }),
    );
  });

  it('shifted moves every CPU by d and drops those below 0', () => {
    fc.assert(
      fc.property(cpuArray, fc.integer({ min: -9100, max: 9100 }), (a, d) => {
        const moved = [...model(a)].map((cpu) => cpu + d).filter((cpu) => cpu >= 0);
        same(set(a).shifted(d), new Set(moved));
      }),
    );
  });

  it('union, intersect, difference', () => {
    fc.assert(
      fc.property(cpuArray, cpuArray, (a, b) => {
        const [ma, mb] = [model(a), model(b)];
        same(set(a).union(set(b)), new Set([...ma, ...mb]));
        same(set(a).intersect(set(b)), new Set([...ma].filter((x) => mb.has(x))));
        same(set(a).difference(set(b)), new Set([...ma].filter((x) => !mb.has(x))));
      }),
    );
  });

  it('equals, isSubsetOf, intersects', () => {
    fc.assert(
      fc.property(cpuArray, cpuArray, (a, b) => {
        const [ma, mb] = [model(a), model(b)];
        const subset = [...ma].every((x) => mb.has(x));
        expect(set(a).isSubsetOf(set(b))).to.equal(subset);
        expect(set(a).equals(set(b))).to.equal(subset && ma.size === mb.size);
        expect(set(a).intersects(set(b))).to.equal([...ma].some((x) => mb.has(x)));
      }),
    );
  });

  it('equals and isSubsetOf hold for sets built by different operations', () => {
    fc.assert(
      fc.property(cpuArray, cpuArray, (a, b) => {
        const ab = set(a).union(set(b));
        expect(ab.difference(set(b)).union(set(b)).equals(ab)).to.equal(true);
        expect(set(a).intersect(set(b)).isSubsetOf(set(a))).to.equal(true);
        expect(set(a).isSubsetOf(ab)).to.equal(true);
      }),
    );
  });

  it('first, next, last', () => {
    fc.assert(
      fc.property(cpuArray, fc.integer({ min: 0, max: 9100 }), (a, from) => {
        const items = sorted(model(a));
        expect(set(a).first()).to.equal(items[0] ?? -1);
        expect(set(a).last()).to.equal(items.at(-1) ?? -1);
        expect(set(a).next(from)).to.equal(items.find((x) => x >= from) ?? -1);
      }),
    );
  });

  it('parse(format(s)) = s, and the format is canonical', () => {
    fc.assert(
      fc.property(cpuArray, (a) => {
        const text = set(a).toString();
        expect(parseCpuList(text).equals(set(a))).to.equal(true);
        expect(parseCpuList(`${text}\n`).toString()).to.equal(text);
        // Canonical: increasing, and a range only for runs of 2 or more that are not split.
        const ranges = text === '' ? [] : text.split(',').map((item) => item.split('-').map(Number));
        let previous = -2;
        for (const [lo, hi = lo] of ranges) {
          expect(lo).to.be.greaterThan(previous + 1);
          expect(hi).to.be.greaterThan(lo! - 1);
          previous = hi!;
        }
      }),
    );
  });

  it('a cpulist with ranges parses to the model of its expansion', () => {
    const range = fc.tuple(cpuId, fc.integer({ min: 0, max: 40 })).map(([lo, len]) => [lo, lo + len] as const);
    fc.assert(
      fc.property(fc.array(range, { minLength: 1, maxLength: 10 }), (ranges) => {
        const text = ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
        const expected = new Set(ranges.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)));
        same(parseCpuList(text), expected);
      }),
    );
  });
});
