// readHugepageCounters: the counters of the pools the topology found (sizes are read once, with
// the topology), read fresh from the hugepages directory of each node.
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHugepageCounters, readTopology, TopologyError } from '../../src/topology/index.js';
import { tempSysfs, writeSysfs } from '../fixtures/host.js';
import type { TempSysfs } from '../fixtures/host.js';
import * as hosts from '../fixtures/hosts.js';

/** The counters of the pools of `nodes` (default: every node), sizes as the topology read them. */
function counters(root: string, nodes?: readonly number[]) {
  const sizes = readTopology(root).hugepageSizes;
  return readHugepageCounters(root, new Map([...sizes].filter(([node]) => nodes === undefined || nodes.includes(node))));
}

describe('readHugepageCounters', () => {
  let tree: TempSysfs;
  beforeEach(() => (tree = tempSysfs(hosts.HUGEPAGES_SOME_NODES)));
  afterEach(() => tree.cleanup());
  const pagesDir = (node: number, size: number) => join(tree.path, `devices/system/node/node${node}/hugepages/hugepages-${size}kB`);

  it('reads every pool, sorted by node then size; nodes without hugepages have none', () => {
    expect(counters(tree.path)).to.deep.equal([
      { node_id: 0, size_kb: 2048, total: 1024, free_kernel: 1000 },
      { node_id: 0, size_kb: 1048576, total: 8, free_kernel: 6 },
      { node_id: 2, size_kb: 2048, total: 256, free_kernel: 100 },
    ]);
  });

  it('reads only the nodes asked for; an unknown node has none', () => {
    expect(counters(tree.path, [2]).map((p) => [p.node_id, p.size_kb])).to.deep.equal([[2, 2048]]);

    expect(counters(tree.path, [1, 3, 7])).to.deep.equal([]);
    expect(counters(tree.path, [])).to.deep.equal([]);
  });

  it('sees counters change between calls', () => {
    writeSysfs(
      {
        ...hosts.HUGEPAGES_SOME_NODES,
        hugepages: hosts.HUGEPAGES_SOME_NODES.hugepages.map((p) => (p.node_id === 2 ? { ...p, total: 300, free_kernel: 0 } : p)),
      },
      tree.path,
    );
    expect(counters(tree.path, [2])[0]).to.include({ total: 300, free_kernel: 0 });
  });

  it('readHugepageCounters reads the pools the topology listed, fresh, without listing directories', () => {
    const sizes = readTopology(tree.path).hugepageSizes;
    expect(readHugepageCounters(tree.path, sizes)).to.deep.equal(counters(tree.path));
    writeFileSync(join(pagesDir(0, 2048), 'free_hugepages'), '7\n');
    expect(readHugepageCounters(tree.path, sizes)[0]).to.include({ node_id: 0, size_kb: 2048, free_kernel: 7 });
    // A directory appearing later is not seen until the topology is read again (SIGHUP).
    mkdirSync(pagesDir(2, 1048576));
    expect(readHugepageCounters(tree.path, sizes).map((p) => [p.node_id, p.size_kb])).to.deep.equal([
      [0, 2048],
      [0, 1048576],
      [2, 2048],
    ]);
  });

  it('ignores entries of the hugepages directory that are not pools', () => {
    writeFileSync(join(tree.path, 'devices/system/node/node2/hugepages/README'), 'x\n');
    mkdirSync(join(tree.path, 'devices/system/node/node2/hugepages/hugepages-junk'));
    expect(counters(tree.path, [2])).to.have.length(1);
  });

  it('a host without node directories has none', () => {
    const bare = tempSysfs(hosts.NO_NUMA_DIRS);
    try {
      expect(counters(bare.path)).to.deep.equal([]);
    } finally {
      bare.cleanup();
    }
  });

  const malformed: [string, string, RegExp][] = [
    ['x', 'nr_hugepages', /nr_hugepages: expected a non-negative integer, found "x"$/],
    ['-1', 'free_hugepages', /free_hugepages: expected a non-negative integer, found "-1"$/],
    ['', 'nr_hugepages', /nr_hugepages: expected a non-negative integer, found ""$/],
  ];
  for (const [text, counter, message] of malformed) {
    it(`${counter} containing ${JSON.stringify(text)} is a TopologyError naming the file`, () => {
      writeFileSync(join(pagesDir(0, 1048576), counter), `${text}\n`);
      expect(() => counters(tree.path))
        .to.throw(TopologyError, message)
        .with.property('source', join(pagesDir(0, 1048576), counter));
    });
  }

  it('reads nothing of surplus_hugepages, which nothing uses: a broken one does not matter', () => {
    writeFileSync(join(pagesDir(0, 1048576), 'surplus_hugepages'), 'not a number\n');
    expect(counters(tree.path, [0])).to.have.length(2);
  });

  it('a pool directory without its counters is a TopologyError naming the missing file', () => {
    rmSync(join(pagesDir(2, 2048), 'free_hugepages'));
    expect(() => counters(tree.path)).to.throw(TopologyError, /node2\/hugepages\/hugepages-2048kB\/free_hugepages: missing$/);
  });
});
