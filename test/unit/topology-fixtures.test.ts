// The host description: CPU numbering, the tree it writes, and that building a topology in memory
// (topologyOf) gives exactly what the daemon reads from the written tree.
import { expect } from 'chai';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CpuSet } from '../../src/cpuset/index.js';
import { readHugepageCounters, readTopology } from '../../src/topology/index.js';
import { fakeHost, plainTopology, tempSysfs, topologyOf, writeSysfs } from '../fixtures/host.js';
import type { FakeHost, TempSysfs } from '../fixtures/host.js';
import * as hosts from '../fixtures/hosts.js';

const coresOf = (desc: FakeHost) => topologyOf(desc).cores.map((c) => c.threads.toString());
const nodesOf = (desc: FakeHost) => desc.nodes?.map((n) => n.cpus.toString());

describe('host description: CPU numbering', () => {
  it('Intel: thread t of core c is cpu c + t·C (cpu i and i+16 siblings on 2 × 8 × 2)', () => {
    expect(nodesOf(hosts.TWO_NODE_INTEL)).to.deep.equal(['0-7,16-23', '8-15,24-31']);
    expect(coresOf(hosts.TWO_NODE_INTEL)).to.deep.equal(Array.from({ length: 16 }, (_, i) => `${i},${i + 16}`));
  });

  it('AMD: core c has the adjacent cpus c·T … c·T + T − 1', () => {
    expect(nodesOf(hosts.FOUR_NODE_AMD)).to.deep.equal(['0-7', '8-15', '16-23', '24-31']);
    expect(coresOf(hosts.FOUR_NODE_AMD)).to.deep.equal(Array.from({ length: 16 }, (_, c) => `${2 * c}-${2 * c + 1}`));
    const amd4 = fakeHost({ nodes: 1, coresPerNode: 2, threads: 4, siblings: 'amd' });
    expect(coresOf(amd4)).to.deep.equal(['0-3', '4-7']);
  });

  it('SMT-4 with Intel numbering: cpus c, c+8, c+16, c+24', () => {
    expect(nodesOf(hosts.SMT4)).to.deep.equal(['0-3,8-11,16-19,24-27', '4-7,12-15,20-23,28-31']);
    expect(coresOf(hosts.SMT4)).to.deep.equal(Array.from({ length: 8 }, (_, c) => `${c},${c + 8},${c + 16},${c + 24}`));
  });

  it('no SMT: every cpu is its own core', () => {
    expect(coresOf(hosts.SINGLE_NODE)).to.deep.equal(['0', '1', '2', '3', '4', '5', '6', '7']);
  });

  it('offline CPUs are left out of node cpulists and sibling lists, as the kernel shows them', () => {
    const desc = fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, online: '0-13,16-31' });
    expect(nodesOf(desc)).to.deep.equal(['0-7,16-23', '8-13,24-31']);
    expect(desc.siblings.get(30)?.toString()).to.equal('30');
    expect(desc.siblings.has(14)).to.equal(false);
  });

  it('the pool defaults to nothing isolated', () => {
    expect(fakeHost({ nodes: 1, coresPerNode: 2, threads: 1 }).isolated?.toString()).to.equal('');
  });

  it('rejects descriptions that cannot be a host', () => {
    expect(() => fakeHost({ nodes: 0, coresPerNode: 8, threads: 1 })).to.throw(RangeError, /nodes/);
    expect(() => fakeHost({ nodes: 1, coresPerNode: 8, threads: 1.5 })).to.throw(RangeError, /threads/);
    const page = { sizeKb: 2048, total: 1, free: 1 };
    expect(() => fakeHost({ nodes: 2, coresPerNode: 1, threads: 1, hugepages: [{ node: 2, ...page }] })).to.throw(RangeError, /node 2/);
    expect(() => fakeHost({ nodes: 1, coresPerNode: 1, threads: 1, noNumaDirs: true, hugepages: [{ node: 0, ...page }] })).to.throw(
      RangeError,
      /node directories/,
    );
    expect(() => fakeHost({ nodes: 1, coresPerNode: 1, threads: 1, hugepages: [{ node: 0, ...page }, { node: 0, ...page }] })).to.throw(
      RangeError,
      /twice/,
    );
    expect(() => fakeHost({ nodes: 1, coresPerNode: 6, threads: 1, l3PerNode: 4 })).to.throw(RangeError, /6 cores per node do not split into 4 L3 domains/);
    expect(() => fakeHost({ nodes: 1, coresPerNode: 6, threads: 1, l3PerNode: 0 })).to.throw(RangeError, /l3PerNode/);
  });

  it("L3 domains: each node's cores split evenly, every thread of a core in its core's domain", () => {
    const l3 = (desc: FakeHost) => topologyOf(desc).nodes.map((n) => n.l3Domains.map((d) => d.toString()));
    expect(l3(hosts.EPYC_LIKE)).to.deep.equal([
      ['0-3,32-35', '4-7,36-39', '8-11,40-43', '12-15,44-47'],
      ['16-19,48-51', '20-23,52-55', '24-27,56-59', '28-31,60-63'],
    ]);
    expect(l3(fakeHost({ nodes: 2, coresPerNode: 4, threads: 2, siblings: 'amd', l3PerNode: 2 }))).to.deep.equal([
      ['0-3', '4-7'],
      ['8-11', '12-15'],
    ]);
    // Offline CPUs have no cache directories and are left out of the lists, as the kernel does.
    const offline = fakeHost({ nodes: 1, coresPerNode: 4, threads: 2, l3PerNode: 2, online: '0-5' });
    expect(l3(offline)).to.deep.equal([['0-1,4-5', '2-3']]);
    expect([...offline.caches.keys()]).to.deep.equal([0, 4, 1, 5, 2, 3]);
    // Without l3PerNode: no cache directories, one domain per node.
    expect(hosts.SAMPLE.caches.size).to.equal(0);
    expect(l3(hosts.SAMPLE)).to.deep.equal([['0-7,16-23'], ['8-15,24-31']]);
  });
});

describe('host description: the written tree', () => {
  let tree: TempSysfs;
  before(() => (tree = tempSysfs(hosts.SAMPLE)));
  after(() => tree.cleanup());
  const file = (path: string) => readFileSync(join(tree.path, path), 'utf8');

  it('has the kernel layout and trailing newlines', () => {
    expect(file('devices/system/cpu/isolated')).to.equal('2-15,18-31\n');
    expect(file('devices/system/cpu/online')).to.equal('0-31\n');
    expect(file('devices/system/cpu/cpu3/topology/thread_siblings_list')).to.equal('3,19\n');
    expect(file('devices/system/node/node1/cpulist')).to.equal('8-15,24-31\n');
    const pages = 'devices/system/node/node1/hugepages/hugepages-1048576kB';
    expect([file(`${pages}/nr_hugepages`), file(`${pages}/free_hugepages`)]).to.deep.equal(['4\n', '4\n']);
    expect(existsSync(join(tree.path, 'devices/system/cpu/cpu3/cache')), 'the sample host has no cache files').to.equal(false);
  });

  it('writes the cache directories of a host with L3 domains as the kernel lays them out', () => {
    const epyc = tempSysfs(hosts.EPYC_LIKE);
    try {
      const dir = (cpu: number, index: number) => join(epyc.path, `devices/system/cpu/cpu${cpu}/cache/index${index}`);
      const index = (cpu: number, i: number) =>
        ['level', 'type', 'shared_cpu_list'].map((name) => readFileSync(join(dir(cpu, i), name), 'utf8'));
      expect([0, 1, 2, 3].map((i) => index(37, i))).to.deep.equal([
        ['1\n', 'Data\n', '5,37\n'],
        ['1\n', 'Instruction\n', '5,37\n'],
        ['2\n', 'Unified\n', '5,37\n'],
        ['3\n', 'Unified\n', '4-7,36-39\n'],
      ]);
      expect(existsSync(dir(37, 4))).to.equal(false);
      expect(index(63, 3)[2]).to.equal('28-31,60-63\n');
    } finally {
      epyc.cleanup();
    }
  });

  it('rewriting updates the counters in place', () => {
    const changed: FakeHost = {
      ...hosts.SAMPLE,
      hugepages: hosts.SAMPLE.hugepages.map((p) => (p.node_id === 0 && p.size_kb === 2048 ? { ...p, free_kernel: 100 } : p)),
    };
    writeSysfs(changed, tree.path);
    expect(file('devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages')).to.equal('100\n');
    expect(readHugepageCounters(tree.path, readTopology(tree.path).hugepageSizes)[0]?.free_kernel).to.equal(100);
    writeSysfs(hosts.SAMPLE, tree.path);
  });

  it('leaves out what the description says is missing', () => {
    const bare = tempSysfs(fakeHost({ nodes: 1, coresPerNode: 2, threads: 2, noNumaDirs: true, noIsolated: true, noOnline: true, noSiblings: true }));
    try {
      for (const path of ['devices/system/node', 'devices/system/cpu/isolated', 'devices/system/cpu/online', 'devices/system/cpu/cpu0']) {
        expect(existsSync(join(bare.path, path)), path).to.equal(false);
      }
    } finally {
      bare.cleanup();
    }
    const some = tempSysfs(hosts.HUGEPAGES_SOME_NODES);
    try {
      expect(existsSync(join(some.path, 'devices/system/node/node0/hugepages'))).to.equal(true);
      expect(existsSync(join(some.path, 'devices/system/node/node1/hugepages'))).to.equal(false);
    } finally {
      some.cleanup();
    }
  });
});

describe('topologyOf(desc) equals reading the written tree', () => {
  const variants: [string, FakeHost, { cpuPool?: string }?][] = [
    ...Object.entries(hosts).map(([name, desc]) => [name, desc] as [string, FakeHost]),
    ['SAMPLE with --cpu-pool', hosts.SAMPLE, { cpuPool: '4-7,20-23' }],
    ['no isolated file', fakeHost({ nodes: 2, coresPerNode: 2, threads: 2, noIsolated: true })],
    ['no online file, some CPUs offline', fakeHost({ nodes: 2, coresPerNode: 4, threads: 2, online: '0-5,8-13', noOnline: true, pool: '1-7' })],
    ['no siblings files', fakeHost({ nodes: 2, coresPerNode: 4, threads: 2, noSiblings: true, pool: '2-15' })],
    ['offline pool CPUs', fakeHost({ nodes: 2, coresPerNode: 8, threads: 2, online: '0-29', pool: '2-15,18-31' })],
    ['no NUMA, offline pool CPUs', fakeHost({ nodes: 1, coresPerNode: 4, threads: 2, noNumaDirs: true, online: '0-5', pool: '1-7' })],
    ['AMD SMT-4 on 3 nodes', fakeHost({ nodes: 3, coresPerNode: 2, threads: 4, siblings: 'amd', pool: '4-23' })],
    ['L3 domains, some CPUs offline', fakeHost({ nodes: 2, coresPerNode: 4, threads: 2, l3PerNode: 2, online: '0-5,8-13', pool: '1-7,9-15' })],
    ['L3 domains without NUMA directories', fakeHost({ nodes: 1, coresPerNode: 4, threads: 2, l3PerNode: 2, noNumaDirs: true, pool: '1-7' })],
  ];
  for (const [name, desc, options] of variants) {
    it(name, () => {
      const tree = tempSysfs(desc);
      try {
        expect(plainTopology(readTopology(tree.path, options))).to.deep.equal(plainTopology(topologyOf(desc, options)));
        expect(readHugepageCounters(tree.path, readTopology(tree.path).hugepageSizes)).to.deep.equal(desc.hugepages);
      } finally {
        tree.cleanup();
      }
    });
  }
});

describe('the sample host', () => {
  const topology = topologyOf(hosts.SAMPLE);

  it('is the sample host of the demo and the docs', () => {
    expect(topology.pool.toString()).to.equal('2-15,18-31');
    expect(topology.nodes.map((n) => n.cpus.toString())).to.deep.equal(['0-7,16-23', '8-15,24-31']);
    expect(topology.coreOf(2)?.threads.toString()).to.equal('2,18');
    expect(topology.nodes.map((n) => n.cpus.intersect(topology.pool).size)).to.deep.equal([12, 16]);
    expect([...topology.hugepageSizes]).to.deep.equal([
      [0, [2048, 1048576]],
      [1, [2048, 1048576]],
    ]);
    expect(hosts.SAMPLE.hugepages.map((p) => [p.node_id, p.size_kb, p.total, p.free_kernel])).to.deep.equal([
      [0, 2048, 512, 512],
      [0, 1048576, 4, 4],
      [1, 2048, 512, 512],
      [1, 1048576, 4, 4],
    ]);
  });

  it('builds a large host in memory quickly (8192 CPUs)', () => {
    const big = topologyOf(fakeHost({ nodes: 4, coresPerNode: 1024, threads: 2, pool: '0-8191' }));
    expect(big.cores).to.have.length(4096);
    expect(big.coreOf(8191)?.threads.equals(CpuSet.of(4095, 8191))).to.equal(true);
    expect(big.nodeOf(8191)).to.equal(3);
  });
});
