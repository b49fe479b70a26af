// The one memo module: a value per tuple of key objects, computed once, frozen, kept while the keys live.
import { expect } from 'chai';
import { Memo, deepFreeze } from '../../src/memo/index.js';

describe('Memo', () => {
  it('computes a value once per tuple of keys, in order', () => {
    const memo = new Memo<[object, object], { n: number }>();
    const [a, b] = [{}, {}];
    let computed = 0;
    const first = memo.get([a, b], () => ({ n: ++computed }));
    expect(memo.get([a, b], () => ({ n: ++computed }))).to.equal(first);
    expect(memo.get([b, a], () => ({ n: ++computed })).n, 'another order is another tuple').to.equal(2);
    expect(memo.get([a, {}], () => ({ n: ++computed })).n).to.equal(3);
    expect(computed).to.equal(3);
  });

  it('freezes what it keeps, all the way down, so no caller can change the next one\'s answer', () => {
    const memo = new Memo<[object], { list: { cpus: string }[] }>();
    const value = memo.get([{}], () => ({ list: [{ cpus: '0-3' }] }));
    expect(Object.isFrozen(value) && Object.isFrozen(value.list) && Object.isFrozen(value.list[0])).to.equal(true);
    expect(() => (value.list[0]!.cpus = '4')).to.throw(TypeError);
  });

  it('deepFreeze leaves what is already frozen, and primitives, alone', () => {
    const inner = Object.freeze({ a: 1 });
    expect(deepFreeze({ inner }).inner).to.equal(inner);
    expect(deepFreeze('text')).to.equal('text');
  });
});
