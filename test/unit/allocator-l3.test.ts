// The L3 step of placement, on the sample host split into two L3 domains per node: node 0 =
// 0-3,16-19 | 4-7,20-23 and node 1 = 8-11,24-27 | 12-15,28-31 (pool 2-15,18-31, so node 0's
// first domain has 4 free CPUs and its second 8).
import { expect } from 'chai';
import { Ledger, hostView } from '../../src/allocator/index.js';
import { parseCpuList } from '../../src/cpuset/index.js';
import type { Topology } from '../../src/topology/index.js';
import { topologyOf } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { after, cores, cpusOf, machine, numa, run, topology, type Machine } from './allocator-harness.js';

function withL3(topo: Topology, domains: Record<number, string[]>): Topology {
  return { ...topo, nodes: topo.nodes.map((node) => ({ ...node, l3Domains: (domains[node.id] ?? []).map((list) => parseCpuList(list)) })) };
}

const split: Machine = {
  host: hostView(withL3(topologyOf(SAMPLE), { 0: ['0-3,16-19', '4-7,20-23'], 1: ['8-11,24-27', '12-15,28-31'] })),
  hugepages: SAMPLE.hugepages,
};
const plain = machine(SAMPLE);

describe('allocator: L3 domains inside a node', () => {
  it('puts a request in the domain with the fewest free CPUs that fits', () => {
    expect(run(split, Ledger.EMPTY, cores('vm', 4)).result.allocated_cores).to.equal('2-3,18-19');
    // 6 does not fit the first domain (4 free): the second, where the plain host spans both.
    expect(run(split, Ledger.EMPTY, cores('vm', 6)).result.allocated_cores).to.equal('4-6,20-22');
    expect(run(plain, Ledger.EMPTY, cores('vm', 6)).result.allocated_cores).to.equal('2-4,18-20');
  });

  it('when no domain fits: whole domains with the most free first, then the best fit for the rest', () => {
    expect(run(split, Ledger.EMPTY, cores('vm', 10)).result.allocated_cores).to.equal('2,4-7,18,20-23');
  });

  it('grows a service in the domains it already uses first', () => {
    const ledger = after(split, [cores('vm', 2)]);
    expect(cpusOf(ledger, 'vm')).to.equal('2,18');
    expect(cpusOf(after(split, [cores('vm', 4)], ledger), 'vm')).to.equal('2-3,18-19');
  });

  it('applies to NUMA requests too', () => {
    const ledger = after(split, [numa('a', 1, 2)]);
    expect(cpusOf(ledger, 'a')).to.equal('8,24');
    // Node 1 now has 6 free in its first domain and 8 in its second: 8 fits only the second.
    expect(run(split, ledger, numa('b', 1, 8)).result.cores_allocated).to.equal('12-15,28-31');
  });

  it('lists each node’s domains in get_topology', () => {
    expect(topology(split, Ledger.EMPTY).numa_nodes.map((n) => n.l3_domains)).to.deep.equal([
      ['0-3,16-19', '4-7,20-23'],
      ['8-11,24-27', '12-15,28-31'],
    ]);
  });
});
