// readHugepagePools: counters read fresh from every node's hugepages directory.
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHugepageCounters, readHugepagePools, readTopology, TopologyError } from '../../src/topology/index.js';
import { tempSysfs, writeSysfs } from '../fixtures/host.js';
import type { TempSysfs } from '../fixtures/host.js';
import * as hosts from '../fixtures/hosts.js';

describe('readHugepagePools', () => {
  let tree: TempSysfs;
  beforeEach(() => (tree = tempSysfs(hosts.HUGEPAGES_SOME_NODES)));
  afterEach(() => tree.cleanup());
  const pagesDir = (node: number, size: number) => join(tree.path, `devices/system/node/node${node}/hugepages/hugepages-${size}kB`);

  it('reads every pool, sorted by node then size; nodes without hugepages have none', () => {
    expect(readHugepagePools(tree.path)).to.deep.equal([
      { node_id: 0, size_kb: 2048, total: 1024, free_kernel: 1000, surplus: 0 },
      { node_id: 0, size_kb: 1048576, total: 8, free_kernel: 6, surplus: 0 },
      { node_id: 2, size_kb: 2048, total: 256, free_kernel: 100, surplus: 4 },
    ]);
  });

  it('reads only the nodes asked for; an unknown node has none', () => {
    expect(readHugepagePools(tree.path, [2]).map((p) => [p.node_id, p.size_kb])).to.deep.equal([[2, 2048]]);
    expect(readHugepagePools(tree.path, [2, 0, 2]).map((p) => p.node_id)).to.deep.equal([0, 0, 2]);
    expect(readHugepagePools(tree.path, [1, 3, 7])).to.deep.equal([]);
    expect(readHugepagePools(tree.path, [])).to.deep.equal([]);
  });

  it('sees counters change between calls', () => {
    writeSysfs(
      {
        ...hosts.HUGEPAGES_SOME_NODES,
        hugepages: hosts.HUGEPAGES_SOME_NODES.hugepages.map((p) => (p.node_id === 2 ? { ...p, total: 300, free_kernel: 0 } : p)),
      },
      tree.path,
    );
    expect(readHugepagePools(tree.path, [2])[0]).to.include({ total: 300, free_kernel: 0, surplus: 4 });
  });

  it('readHugepageCounters reads the pools the topology listed, fresh, without listing directories', () => {
    const sizes = readTopology(tree.path).hugepageSizes;
    expect(readHugepageCounters(tree.path, sizes)).to.deep.equal(readHugepagePools(tree.path));
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
    expect(readHugepagePools(tree.path, [2])).to.have.length(1);
  });

  it('a host without node directories has none', () => {
    const bare = tempSysfs(hosts.NO_NUMA_DIRS);
    try {
      expect(readHugepagePools(bare.path)).to.deep.equal([]);
    } finally {
      bare.cleanup();
    }
  });

  const malformed: [string, string, RegExp][] = [
    ['x', 'nr_hugepages', /nr_hugepages: expected a non-negative integer, found "x"$/],
    ['-1', 'free_hugepages', /free_hugepages: expected a non-negative integer, found "-1"$/],
    ['', 'surplus_hugepages', /surplus_hugepages: expected a non-negative integer, found ""$/],
  ];
  for (const [text, counter, message] of malformed) {
    it(`${counter} containing ${JSON.stringify(text)} is a TopologyError naming the file`, () => {
      writeFileSync(join(pagesDir(0, 1048576), counter), `${text}\n`);
      expect(() => readHugepagePools(tree.path))
        .to.throw(TopologyError, message)
        .with.property('source', join(pagesDir(0, 1048576), counter));
    });
  }

  it('a pool directory without its counters is a TopologyError naming the missing file', () => {
    rmSync(join(pagesDir(2, 2048), 'free_hugepages'));
    expect(() => readHugepagePools(tree.path)).to.throw(TopologyError, /node2\/hugepages\/hugepages-2048kB\/free_hugepages: missing$/);
  });
});
