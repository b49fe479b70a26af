import { expect } from 'chai';
import { CpuListError, CpuSet, MAX_CPUS, parseCpuList } from '../../src/cpuset/index.js';

describe('parseCpuList', () => {
  it('reads single CPUs and ranges', () => {
    expect(parseCpuList('0-3,8,10-11').toArray()).to.deep.equal([0, 1, 2, 3, 8, 10, 11]);
  });

  it('reads a one-CPU range and unsorted, overlapping items', () => {
    expect(parseCpuList('5-5').toArray()).to.deep.equal([5]);
    expect(parseCpuList('8,0-2,1-3').toArray()).to.deep.equal([0, 1, 2, 3, 8]);
  });

  it('tolerates surrounding whitespace and the kernel trailing newline', () => {
    expect(parseCpuList('0-3,8\n').toString()).to.equal('0-3,8');
    expect(parseCpuList('  2,4 \t\n').toString()).to.equal('2,4');
  });

  it('reads the empty set from "", a bare newline or blanks', () => {
    for (const text of ['', '\n', '   ']) expect(parseCpuList(text).isEmpty(), JSON.stringify(text)).to.equal(true);
  });

  const bad: [string, RegExp][] = [
    ['3-1', /reversed range "3-1"/],
    ['a', /bad item "a"/],
    ['1,,2', /empty item/],
    ['-4', /bad item "-4"/],
    ['1-2-3', /bad item "1-2-3"/],
    ['0-3,', /empty item/],
    [',1', /empty item/],
    ['1 2', /bad item "1 2"/],
    ['0x10', /bad item "0x10"/],
    ['1.5', /bad item "1.5"/],
    [`${MAX_CPUS}`, /above the limit/],
    [`0-${MAX_CPUS}`, /above the limit/],
  ];
  for (const [text, detail] of bad) {
    it(`rejects ${JSON.stringify(text)}, quoting the input`, () => {
      expect(() => parseCpuList(text))
        .to.throw(CpuListError, detail)
        .with.property('message')
        .that.includes(JSON.stringify(text));
    });
  }

  it('reads the highest CPU id allowed', () => {
    expect(parseCpuList(`${MAX_CPUS - 1}`).toArray()).to.deep.equal([MAX_CPUS - 1]);
  });
});

describe('CpuSet canonical format', () => {
  const cases: [number[], string][] = [
    [[], ''],
    [[0], '0'],
    [[0, 1], '0-1'],
    [[0, 2], '0,2'],
    [[0, 1, 2, 3, 8, 10, 11], '0-3,8,10-11'],
    [[31, 32], '31-32'],
    [[30, 31, 32, 33, 63, 64, 95], '30-33,63-64,95'],
  ];
  for (const [cpus, text] of cases) {
    it(`prints [${cpus.join(',')}] as ${JSON.stringify(text)}`, () => {
      const set = CpuSet.from(cpus);
      expect(set.toString()).to.equal(text);
      expect(JSON.stringify({ cpus: set })).to.equal(JSON.stringify({ cpus: text }));
    });
  }

  it('prints the canonical form of non-canonical input', () => {
    expect(parseCpuList('11,10,8,3,2,1,0,2-3').toString()).to.equal('0-3,8,10-11');
  });
});

describe('CpuSet construction', () => {
  it('range is inclusive and empty when reversed', () => {
    expect(CpuSet.range(3, 6).toString()).to.equal('3-6');
    expect(CpuSet.range(0, 31).size).to.equal(32);
    expect(CpuSet.range(1, 32).toString()).to.equal('1-32');
    expect(CpuSet.range(6, 3).isEmpty()).to.equal(true);
  });

  it('rejects ids that are not integers in range', () => {
    for (const cpu of [-1, 1.5, MAX_CPUS, Number.NaN]) {
      expect(() => CpuSet.of(cpu), String(cpu)).to.throw(RangeError);
    }
    expect(() => CpuSet.range(0, MAX_CPUS)).to.throw(RangeError);
  });

  it('equal sets are equal whatever built them', () => {
    const a = CpuSet.range(0, 100).difference(CpuSet.range(50, 100));
    expect(a.equals(CpuSet.range(0, 49))).to.equal(true);
    expect(CpuSet.range(0, 100).intersect(CpuSet.of(200)).equals(CpuSet.EMPTY)).to.equal(true);
  });
});

describe('CpuSet first / next / last / lowest', () => {
  const set = parseCpuList('3,5-6,31-33,100');

  it('first and last', () => {
    expect(set.first()).to.equal(3);
    expect(set.last()).to.equal(100);
    expect(CpuSet.EMPTY.first()).to.equal(-1);
    expect(CpuSet.EMPTY.last()).to.equal(-1);
  });

  it('next(from) is the lowest CPU ≥ from, -1 past the end', () => {
    expect(set.next(0)).to.equal(3);
    expect(set.next(3)).to.equal(3);
    expect(set.next(4)).to.equal(5);
    expect(set.next(7)).to.equal(31);
    expect(set.next(32)).to.equal(32);
    expect(set.next(34)).to.equal(100);
    expect(set.next(101)).to.equal(-1);
    expect(set.next(-5)).to.equal(3);
    expect(set.next(1_000_000)).to.equal(-1);
  });

  it('iterates in increasing order across word boundaries', () => {
    expect([...set]).to.deep.equal([3, 5, 6, 31, 32, 33, 100]);
  });
});

describe('CpuSet with more than 8192 CPUs', () => {
  const big = CpuSet.range(0, 9999);

  it('counts, tests and prints every CPU', () => {
    expect(big.size).to.equal(10_000);
    expect(big.has(9999)).to.equal(true);
    expect(big.has(10_000)).to.equal(false);
    expect(big.toString()).to.equal('0-9999');
    expect(parseCpuList('0-9999\n').equals(big)).to.equal(true);
  });

  it('does set algebra at the top end', () => {
    const odd = CpuSet.from(Array.from({ length: 5000 }, (_, i) => 2 * i + 1));
    expect(big.difference(odd).size).to.equal(5000);
    expect(big.difference(odd).last()).to.equal(9998);
    expect(odd.isSubsetOf(big)).to.equal(true);
    expect(big.isSubsetOf(odd)).to.equal(false);
    expect(big.intersect(CpuSet.of(8191, 8192, 12_000)).toString()).to.equal('8191-8192');
    expect(odd.next(8192)).to.equal(8193);
    expect(parseCpuList(odd.toString()).equals(odd)).to.equal(true);
  });

  it('handles the highest CPU id', () => {
    const top = CpuSet.of(0, MAX_CPUS - 1);
    expect(top.last()).to.equal(MAX_CPUS - 1);
    expect(top.next(1)).to.equal(MAX_CPUS - 1);
    expect(top.toString()).to.equal(`0,${MAX_CPUS - 1}`);
  });
});

describe('CpuSet membership edge cases', () => {
  const set = CpuSet.of(0, 1, 5);

  it('has() is false for ids that are not CPUs', () => {
    for (const cpu of [-1, 1.5, 2 ** 32 + 1, 2 ** 32 + 5, Number.NaN, Infinity]) {
      expect(set.has(cpu), String(cpu)).to.equal(false);
    }
  });

  it('next() never answers below `from`, however large or fractional', () => {
    expect(set.next(1.5)).to.equal(5);
    expect(set.next(2 ** 32)).to.equal(-1);
    expect(set.next(2 ** 32 + 5)).to.equal(-1);
    expect(set.next(Infinity)).to.equal(-1);
    expect(set.next(Number.NaN)).to.equal(-1);
  });

});
