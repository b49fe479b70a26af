// readTopology on every fixture host written as a sysfs tree, every missing file,
// the --cpu-pool override, and malformed files.
import { expect } from 'chai';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCpuList } from '../../src/cpuset/index.js';
import { readTopology, TopologyError } from '../../src/topology/index.js';
import type { Topology } from '../../src/topology/index.js';
import { fakeHost, tempSysfs } from '../fixtures/host.js';
import type { FakeHost } from '../fixtures/host.js';
import * as hosts from '../fixtures/hosts.js';

/** Writes `desc`, lets `edit` change the tree, reads it back and removes the tree. */
function readHost(desc: FakeHost, options: { cpuPool?: string } = {}, edit: (root: string) => void = () => {}): Topology {
  const tree = tempSysfs(desc);
  try {
    edit(tree.path);
    return readTopology(tree.path, options);
  } finally {
    tree.cleanup();
  }
}

const put = (root: string, path: string, text: string) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
};
function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}
/**
 * 2 nodes × 2 L3 domains × 2 cores × 2 threads, cpu i and i+8 siblings: node 0's domains are
 * 0-1,8-9 and 2-3,10-11. Cache files as EPYC_LIKE has them, in a tree a quarter of its size.
 */
const SMALL_L3 = fakeHost({ nodes: 2, coresPerNode: 4, threads: 2, l3PerNode: 2, pool: '1-7,9-15' });
/** A file of a CPU's cache directory, below the sysfs root. */
const cache = (cpu: number, index: number, file: string) => `devices/system/cpu/cpu${cpu}/cache/index${index}/${file}`;
const nodeCpus = (t: Topology) => t.nodes.map((n) => [n.id, n.cpus.toString()]);
const coreThreads = (t: Topology) => t.cores.map((c) => c.threads.toString());

describe('readTopology: fixture hosts', () => {
  const cache = new Map<FakeHost, Topology>();
  const read = (desc: FakeHost) => cache.get(desc) ?? cache.set(desc, readHost(desc)).get(desc)!;

  it('2 nodes × 8 cores × 2 threads, Intel numbering', () => {
    const t = read(hosts.TWO_NODE_INTEL);
    expect(t.pool.toString()).to.equal('1-15,17-31');
    expect(t.poolSource).to.equal('isolated');
    expect(t.online.toString()).to.equal('0-31');
    expect(t.numaAvailable).to.equal(true);
    expect(nodeCpus(t)).to.deep.equal([
      [0, '0-7,16-23'],
      [1, '8-15,24-31'],
    ]);
    expect(t.cores.map((c) => [c.id, c.threads.toString(), c.node])).to.deep.equal(
      Array.from({ length: 16 }, (_, i) => [i, `${i},${i + 16}`, i < 8 ? 0 : 1]),
    );
    expect(t.coreOf(21)?.id).to.equal(5);
    expect(t.nodeOf(21)).to.equal(0);
    expect(t.nodeOf(24)).to.equal(1);
  });

  it('4 nodes with AMD (adjacent) siblings', () => {
    const t = read(hosts.FOUR_NODE_AMD);
    expect(nodeCpus(t)).to.deep.equal([
      [0, '0-7'],
      [1, '8-15'],
      [2, '16-23'],
      [3, '24-31'],
    ]);
    expect(coreThreads(t)).to.deep.equal(Array.from({ length: 16 }, (_, c) => `${2 * c}-${2 * c + 1}`));
    expect(t.cores.map((c) => c.node)).to.deep.equal([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(t.coreOf(27)?.id).to.equal(26);
    expect(t.pool.toString()).to.equal('2-7,10-15,18-23,26-31');
  });

  it('SMT-4', () => {
    const t = read(hosts.SMT4);
    expect(coreThreads(t)).to.deep.equal(Array.from({ length: 8 }, (_, c) => `${c},${c + 8},${c + 16},${c + 24}`));
    expect(t.coreOf(27)?.id).to.equal(3);
    expect(t.coreOf(27)?.node).to.equal(0);
    expect(t.coreOf(28)?.node).to.equal(1);
  });

  it('a single node without SMT', () => {
    const t = read(hosts.SINGLE_NODE);
    expect(nodeCpus(t)).to.deep.equal([[0, '0-7']]);
    expect(coreThreads(t)).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(t.pool.toString()).to.equal('1-7');
  });

  it('a host booted without isolcpus has an empty pool', () => {
    const t = read(hosts.NO_ISOLATED);
    expect(t.pool.isEmpty()).to.equal(true);
    expect(t.poolSource).to.equal('isolated');
    expect(t.online.toString()).to.equal('0-15');
    expect(t.cores).to.have.length(8);
  });

  it('the sample host', () => {
    const t = read(hosts.SAMPLE);
    expect(t.pool.toString()).to.equal('2-15,18-31');
    expect([...t.hugepageSizes]).to.deep.equal([
      [0, [2048, 1048576]],
      [1, [2048, 1048576]],
    ]);
  });

  it('a frozen snapshot', () => {
    const t = read(hosts.SAMPLE);
    for (const value of [t, t.nodes, t.cores, t.nodes[0], t.cores[0], t.hugepageSizes.get(0)]) {
      expect(Object.isFrozen(value)).to.equal(true);
    }
    expect(() => (t.cores as unknown[]).push(1)).to.throw(TypeError);
  });

  it('nodeOf and coreOf answer -1 and undefined for CPUs the host does not have', () => {
    const t = read(hosts.SAMPLE);
    for (const cpu of [-1, 32, 1000, 1.5, Number.NaN]) {
      expect(t.nodeOf(cpu), String(cpu)).to.equal(-1);
      expect(t.coreOf(cpu), String(cpu)).to.equal(undefined);
    }
  });
});

describe('readTopology: missing files', () => {
  it('no isolated file: empty pool', () => {
    const t = readHost(fakeHost({ nodes: 1, coresPerNode: 4, threads: 2, noIsolated: true }));
    expect(t.pool.isEmpty()).to.equal(true);
    expect(t.poolSource).to.equal('isolated');
  });

  it('no online file: the union of the node cpulists', () => {
    // CPUs 6, 7, 14, 15 are offline, so the nodes do not list them: online is not "every CPU".
    const t = readHost(fakeHost({ nodes: 2, coresPerNode: 4, threads: 2, online: '0-5,8-13', noOnline: true, pool: '1-7,9-15' }));
    expect(t.online.toString()).to.equal('0-5,8-13');
    expect(nodeCpus(t)).to.deep.equal([
      [0, '0-3,8-11'],
      [1, '4-5,12-13'],
    ]);
    // Pool CPUs that are offline still belong to a core (their own), in no node.
    expect(t.coreOf(7)?.threads.toString()).to.equal('7');
    expect(t.coreOf(7)?.node).to.equal(-1);
    expect(t.nodeOf(7)).to.equal(-1);
  });

  it('no thread_siblings_list files: every CPU is a core by itself', () => {
    const t = readHost(fakeHost({ nodes: 2, coresPerNode: 4, threads: 2, noSiblings: true, pool: '2-15' }));
    expect(coreThreads(t)).to.deep.equal(Array.from({ length: 16 }, (_, i) => `${i}`));
    expect(t.cores.map((c) => c.node)).to.deep.equal([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('one CPU without a siblings file is still joined to a sibling that names it', () => {
    const t = readHost(hosts.TWO_NODE_INTEL, {}, (root) => {
      rmSync(join(root, 'devices/system/cpu/cpu3/topology/thread_siblings_list'));
      rmSync(join(root, 'devices/system/cpu/cpu4/topology/thread_siblings_list'));
      rmSync(join(root, 'devices/system/cpu/cpu20/topology/thread_siblings_list'));
    });
    expect(t.coreOf(3)?.threads.toString()).to.equal('3,19');
    expect(t.coreOf(4)?.threads.toString()).to.equal('4');
    expect(t.coreOf(20)?.threads.toString()).to.equal('20');
    expect(t.cores).to.have.length(17);
  });

  it('no node directories: NUMA unavailable, one node 0 holding online ∪ pool', () => {
    const t = readHost(hosts.NO_NUMA_DIRS);
    expect(t.numaAvailable).to.equal(false);
    expect(nodeCpus(t)).to.deep.equal([[0, '0-15']]);
    expect(t.cores.every((c) => c.node === 0)).to.equal(true);
    expect(coreThreads(t)).to.deep.equal(Array.from({ length: 8 }, (_, i) => `${i},${i + 8}`));
    expect([...t.hugepageSizes]).to.deep.equal([[0, []]]);

    const offline = readHost(fakeHost({ nodes: 1, coresPerNode: 4, threads: 2, noNumaDirs: true, online: '0-5', pool: '1-7' }));
    expect(nodeCpus(offline)).to.deep.equal([[0, '0-7']]);
    expect(offline.nodeOf(7)).to.equal(0);
  });

  it('a node directory tree without node* entries also means no NUMA', () => {
    const t = readHost(hosts.NO_NUMA_DIRS, {}, (root) => {
      put(root, 'devices/system/node/possible', '0\n');
      put(root, 'devices/system/node/online', '0\n');
    });
    expect(t.numaAvailable).to.equal(false);
  });

  it('no hugepages directory: the node has no hugepage sizes', () => {
    const t = readHost(hosts.HUGEPAGES_SOME_NODES);
    expect([...t.hugepageSizes]).to.deep.equal([
      [0, [2048, 1048576]],
      [1, []],
      [2, [2048]],
      [3, []],
    ]);
  });

  it('a node without CPUs (memory only, or no cpulist file) is a node with an empty cpulist', () => {
    const t = readHost(hosts.SINGLE_NODE, {}, (root) => {
      put(root, 'devices/system/node/node1/cpulist', '\n');
      put(root, 'devices/system/node/node2/meminfo', '');
    });
    expect(nodeCpus(t)).to.deep.equal([
      [0, '0-7'],
      [1, ''],
      [2, ''],
    ]);
  });
});

describe('readTopology: structure', () => {
  it('orders nodes by number, not by name, and keeps gaps in node ids', () => {
    const t = readHost(hosts.FOUR_NODE_AMD, {}, (root) =>
      renameSync(join(root, 'devices/system/node/node1'), join(root, 'devices/system/node/node10')),
    );
    expect(t.nodes.map((n) => n.id)).to.deep.equal([0, 2, 3, 10]);
    expect(t.nodeOf(9)).to.equal(10);
    expect(t.coreOf(9)?.node).to.equal(10);
  });

  it('merges sibling lists that disagree: a core is every CPU they link, its id the lowest', () => {
    const t = readHost(hosts.TWO_NODE_INTEL, {}, (root) => {
      put(root, 'devices/system/cpu/cpu16/topology/thread_siblings_list', '16-17\n');
      put(root, 'devices/system/cpu/cpu5/topology/thread_siblings_list', '5\n');
    });
    expect(t.coreOf(17)?.threads.toString()).to.equal('0-1,16-17');
    expect(t.coreOf(1)).to.equal(t.coreOf(16));
    expect(t.coreOf(1)?.id).to.equal(0);
    // cpu 5 names only itself, but cpu 21 names 5: still one core.
    expect(t.coreOf(5)?.threads.toString()).to.equal('5,21');
    const all = t.cores.reduce((n, c) => n + c.threads.size, 0);
    expect(all).to.equal(32);
  });

  it('ignores siblings that are neither online nor in the pool', () => {
    const t = readHost(fakeHost({ nodes: 1, coresPerNode: 4, threads: 1, pool: '1-3' }), {}, (root) =>
      put(root, 'devices/system/cpu/cpu1/topology/thread_siblings_list', '1,40\n'),
    );
    expect(t.coreOf(1)?.threads.toString()).to.equal('1');
    expect(t.coreOf(40)).to.equal(undefined);
  });

  it('pool CPUs that are offline belong to no node and are cores by themselves', () => {
    const t = readHost(fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, online: '0-29', pool: '2-15,18-31' }));
    expect(t.online.toString()).to.equal('0-29');
    expect(t.pool.toString()).to.equal('2-15,18-31');
    expect(t.nodeOf(30)).to.equal(-1);
    expect(t.coreOf(30)?.threads.toString()).to.equal('30');
    expect(t.coreOf(14)?.threads.toString()).to.equal('14');
    expect(t.cores.flatMap((c) => [...c.threads]).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 32 }, (_, i) => i));
  });
});

describe('readTopology: --cpu-pool', () => {
  it('replaces the isolated file as the pool', () => {
    const t = readHost(hosts.SAMPLE, { cpuPool: '4-7,20-23' });
    expect(t.pool.toString()).to.equal('4-7,20-23');
    expect(t.poolSource).to.equal('configured');
  });

  it('may name CPUs that are offline, and an empty pool', () => {
    const t = readHost(fakeHost({ nodes: 1, coresPerNode: 4, threads: 1 }), { cpuPool: '2-5' });
    expect(t.pool.toString()).to.equal('2-5');
    expect(t.online.toString()).to.equal('0-3');
    expect(coreThreads(t)).to.deep.equal(['0', '1', '2', '3', '4', '5']);
    expect(readHost(hosts.SAMPLE, { cpuPool: '' }).pool.isEmpty()).to.equal(true);
  });

  it('is used even when the isolated file is broken', () => {
    const t = readHost(hosts.SAMPLE, { cpuPool: '4' }, (root) => put(root, 'devices/system/cpu/isolated', '3-1\n'));
    expect(t.pool.toString()).to.equal('4');
  });

  it('a malformed --cpu-pool is a TopologyError naming the option', () => {
    expect(() => readHost(hosts.SAMPLE, { cpuPool: '4-2' }))
      .to.throw(TopologyError, /^--cpu-pool: invalid cpulist "4-2": reversed range/)
      .with.property('source', '--cpu-pool');
  });
});

describe('readTopology: malformed files', () => {
  // Cache files on a host that has them.
  const cases: [string, string, string, RegExp, FakeHost?][] = [
    ['isolated with a reversed range', 'devices/system/cpu/isolated', '3-1\n', /invalid cpulist "3-1": reversed range "3-1"/],
    ['online that is not a cpulist', 'devices/system/cpu/online', '0-31 cpus\n', /invalid cpulist "0-31 cpus"/],
    ['a node cpulist "abc"', 'devices/system/node/node1/cpulist', 'abc\n', /invalid cpulist "abc": bad item "abc"/],
    ['a siblings list "1,,2"', 'devices/system/cpu/cpu7/topology/thread_siblings_list', '1,,2\n', /empty item/],
    ['node cpulists that overlap', 'devices/system/node/node1/cpulist', '7-15,24-31\n', /CPUs also listed by another node: 7$/],
    ['a cache level that is not a number', cache(0, 3, 'level'), 'three\n', /expected a non-negative integer, found "three"/, SMALL_L3],
    ['a cache level of a CPU read after the first', cache(9, 3, 'level'), '3x\n', /found "3x"/, SMALL_L3],
    ['an L3 shared_cpu_list "2-3,10-11,"', cache(3, 3, 'shared_cpu_list'), '2-3,10-11,\n', /empty item/, SMALL_L3],
  ];
  for (const [name, path, text, detail, host = hosts.SAMPLE] of cases) {
    it(`${name}: TopologyError naming the file`, () => {
      let root = '';
      const error = thrownBy(() =>
        readHost(host, {}, (r) => {
          root = r;
          put(r, path, text);
        }),
      );
      expect(error).to.be.instanceOf(TopologyError);
      const { message, source } = error as TopologyError;
      expect(source).to.equal(join(root, path));
      expect(message.startsWith(`${join(root, path)}: `)).to.equal(true);
      expect(message).to.match(detail);
    });
  }

  it('a file that exists but cannot be read is an error, not a missing file', () => {
    expect(() =>
      readHost(hosts.SAMPLE, {}, (root) => {
        rmSync(join(root, 'devices/system/cpu/online'));
        mkdirSync(join(root, 'devices/system/cpu/online'));
      }),
    ).to.throw(TopologyError, /online: cannot be read \(EISDIR\)/);
  });
});

describe('readTopology: L3 cache domains', () => {
  const domains = (t: Topology) => t.nodes.map((n) => n.l3Domains.map((d) => d.toString()));
  it('groups each node by the shared_cpu_list of the index whose level is 3', () => {
    expect(domains(readHost(hosts.EPYC_LIKE))).to.deep.equal([
      ['0-3,32-35', '4-7,36-39', '8-11,40-43', '12-15,44-47'],
      ['16-19,48-51', '20-23,52-55', '24-27,56-59', '28-31,60-63'],
    ]);
  });

  it('finds level 3 at whatever index a CPU has it, also where it differs from the CPU before', () => {
    // The sample host given 2 L3 domains per node, the L3 at index5 (after a gap) except for
    // CPUs 5 and 21, which have it at index1 and an L2 at index5.
    const sampleDomains = ['0-3,16-19', '4-7,20-23', '8-11,24-27', '12-15,28-31'];
    const t = readHost(hosts.SAMPLE, {}, (root) => {
      for (const list of sampleDomains) {
        for (const cpu of parseCpuList(list)) {
          const l3 = cpu === 5 || cpu === 21 ? 1 : 5;
          put(root, cache(cpu, 0, 'level'), '1\n');
          put(root, cache(cpu, 0, 'shared_cpu_list'), `${cpu % 16},${(cpu % 16) + 16}\n`);
          put(root, cache(cpu, 6 - l3, 'level'), '2\n');
          put(root, cache(cpu, l3, 'level'), '3\n');
          put(root, cache(cpu, l3, 'shared_cpu_list'), `${list}\n`);
        }
      }
    });
    expect(domains(t)).to.deep.equal([sampleDomains.slice(0, 2), sampleDomains.slice(2)]);
  });

  it('without cache files: one domain of every CPU per node; CPUs without them form a domain of their own', () => {
    expect(domains(readHost(hosts.SAMPLE))).to.deep.equal([['0-7,16-23'], ['8-15,24-31']]);
    expect(domains(readHost(hosts.NO_NUMA_DIRS))).to.deep.equal([['0-15']]);
    const t = readHost(SMALL_L3, {}, (root) => {
      rmSync(join(root, 'devices/system/cpu/cpu1/cache'), { recursive: true });
      // No level-3 index, and a level-3 index without its shared_cpu_list, count as no cache files.
      rmSync(join(root, 'devices/system/cpu/cpu2/cache/index3'), { recursive: true });
      rmSync(join(root, cache(3, 3, 'shared_cpu_list')));
    });
    expect(domains(t)).to.deep.equal([
      ['0,8-9', '1-3', '10-11'],
      ['4-5,12-13', '6-7,14-15'],
    ]);
  });

  it('tolerant (onProblem): a broken cache file is reported and its CPU counts as having no cache files', () => {
    const tree = tempSysfs(SMALL_L3);
    try {
      put(tree.path, cache(3, 3, 'shared_cpu_list'), 'junk\n');
      put(tree.path, cache(12, 3, 'level'), '\n');
      const problems: TopologyError[] = [];
      const t = readTopology(tree.path, { onProblem: (problem) => problems.push(problem) });
      expect(problems.map((p) => p.source)).to.deep.equal([join(tree.path, cache(3, 3, 'shared_cpu_list')), join(tree.path, cache(12, 3, 'level'))]);
      expect(domains(t)).to.deep.equal([
        ['0-1,8-9', '2,10-11', '3'],
        ['4-5,13', '6-7,14-15', '12'],
      ]);
      expect(t.pool.toString(), 'the rest of the host is read').to.equal('1-7,9-15');
    } finally {
      tree.cleanup();
    }
  });
});
