import { expect } from 'chai';
import { CpuSet } from '../../src/cpuset/index.js';
import { Ledger } from '../../src/allocator/index.js';
import { HUGEPAGES_SOME_NODES, NO_NUMA_DIRS, SAMPLE } from '../fixtures/hosts.js';
import { after, domainError, hugepages, list, machine, memory, run } from './allocator-harness.js';

const sample = machine(SAMPLE);
const some = machine(HUGEPAGES_SOME_NODES);

/** The capacity line of (node, size) in get_memory_info. */
function capacity(info: ReturnType<typeof memory>, node: number, size: number) {
  return info.numa_hugepages[`node${node}`]?.capacity.find((c) => c.size === size);
}

/** A ledger where `service` already holds a reservation, possibly over what the kernel now has. */
function reserving(service: string, node_id: number, size_kb: number, count: number): Ledger {
  const record = { cpus: CpuSet.EMPTY, explicit: CpuSet.EMPTY, policy: 'legacy', threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY, pool: 'isolated' } as const;
  return Ledger.fromRecords([[service, { ...record, hugepages: [{ node_id, size_kb, count }] }]]);
}

describe('allocator: allocate_hugepages', () => {
  it('records a reservation and answers with the request echoed', () => {
    const { next, result } = run(sample, Ledger.EMPTY, hugepages('vm', 0, 2048, 8));
    expect(result).to.deep.include({
      service_name: 'vm',
      hugepages_requested: 8,
      allocation_successful: true,
      node_id: 0,
      size_kb: 2048,
    });
    expect(capacity(memory(sample, next), 0, 2048)).to.deep.equal({
      size: 2048,
      total: 512,
      free: 504,
      free_kernel: 512,
      reserved: 8,
    });
  });

  it('replaces the reservation of the same (node, size) rather than adding to it', () => {
    const grown = after(sample, [hugepages('vm', 0, 2048, 8), hugepages('vm', 0, 2048, 10)]);
    expect(capacity(memory(sample, grown), 0, 2048)?.reserved).to.equal(10);
    const shrunk = after(sample, [hugepages('vm', 0, 2048, 4)], grown);
    expect(capacity(memory(sample, shrunk), 0, 2048)?.reserved).to.equal(4);
    expect(list(sample, shrunk).allocations[0]?.hugepages).to.deep.equal([{ node_id: 0, size_kb: 2048, count: 4 }]);
  });

  it('keeps reservations of other nodes and sizes apart, sorted by node then size', () => {
    const ledger = after(sample, [hugepages('vm', 1, 2048, 2), hugepages('vm', 0, 1048576, 1), hugepages('vm', 0, 2048, 3)]);
    expect(list(sample, ledger).allocations[0]?.hugepages).to.deep.equal([
      { node_id: 0, size_kb: 2048, count: 3 },
      { node_id: 0, size_kb: 1048576, count: 1 },
      { node_id: 1, size_kb: 2048, count: 2 },
    ]);
  });

  it('refuses an increase over free with the exact message, requested being the increase', () => {
    const ledger = after(sample, [hugepages('other', 0, 2048, 507)]);
    const err = domainError(
      () => run(sample, ledger, hugepages('vm', 0, 2048, 10)),
      'INSUFFICIENT_HUGEPAGES',
    );
    expect(err.code).to.equal(-32006);
    expect(err.message).to.equal('NUMA node 0 size 2048 KB only has 5 free hugepages, requested additional 10');
    expect(err.data).to.deep.include({ requested: 10, available: 5 });

    const holding = after(sample, [hugepages('vm', 0, 2048, 3), hugepages('other', 0, 2048, 504)]);
    const grow = domainError(
      () => run(sample, holding, hugepages('vm', 0, 2048, 15)),
      'INSUFFICIENT_HUGEPAGES',
    );
    expect(grow.message).to.equal('NUMA node 0 size 2048 KB only has 5 free hugepages, requested additional 12');
    expect(run(sample, holding, hugepages('vm', 0, 2048, 8)).result.allocation_successful).to.equal(true);
  });

  it('free is bounded by the kernel free count as well as by total − reserved', () => {
    // node 2: total 256, free_kernel 100: the kernel count is the bound.
    const err = domainError(() => after(some, [hugepages('a', 2, 2048, 101)]), 'INSUFFICIENT_HUGEPAGES');
    expect(err.message).to.equal('NUMA node 2 size 2048 KB only has 100 free hugepages, requested additional 101');
    const kernelBound = after(some, [hugepages('a', 2, 2048, 100)]);
    expect(capacity(memory(some, kernelBound), 2, 2048)).to.deep.include({ free: 100, free_kernel: 100, reserved: 100 });
    // node 0: total 1024, free_kernel 1000: after 1000 reserved, total − reserved = 24 is the bound.
    const totalBound = after(some, [hugepages('a', 0, 2048, 1000)]);
    expect(capacity(memory(some, totalBound), 0, 2048)?.free).to.equal(24);
    const over = domainError(() => after(some, [hugepages('b', 0, 2048, 25)], totalBound), 'INSUFFICIENT_HUGEPAGES');
    expect(over.message).to.equal('NUMA node 0 size 2048 KB only has 24 free hugepages, requested additional 25');
    expect(capacity(memory(some, after(some, [hugepages('b', 0, 2048, 24)], totalBound)), 0, 2048)?.free).to.equal(0);
  });

  it('never reports negative free when reservations exceed the pool, and shrinking still succeeds', () => {
    const over = reserving('a', 2, 2048, 300);
    expect(capacity(memory(some, over), 2, 2048)).to.deep.include({ total: 256, free: 0, free_kernel: 100, reserved: 300 });
    const shrunk = after(some, [hugepages('a', 2, 2048, 200)], over);
    expect(capacity(memory(some, shrunk), 2, 2048)?.reserved).to.equal(200);
  });

  it('-1 removes the reservation, or says there was none; both succeed', () => {
    const ledger = after(sample, [hugepages('vm', 0, 2048, 8)]);
    const removed = run(sample, ledger, hugepages('vm', 0, 2048, -1));
    expect(removed.result).to.deep.include({
      hugepages_requested: -1,
      allocation_successful: true,
      message: 'Removed recorded hugepage allocation',
    });
    expect(capacity(memory(sample, removed.next), 0, 2048)?.reserved).to.equal(0);
    expect(removed.next.get('vm')).to.equal(undefined);
    const again = run(sample, removed.next, hugepages('vm', 0, 2048, -1));
    expect(again.result.message).to.equal('No existing record to remove');
  });

  it('-1 removes a recorded reservation even when its node has since disappeared', () => {
    const gone = reserving('vm', 3, 2048, 8);
    const { next, result } = run(sample, gone, hugepages('vm', 3, 2048, -1));
    expect(result.message).to.equal('Removed recorded hugepage allocation');
    expect(next.get('vm')).to.equal(undefined);
  });

  it('-1 without a record succeeds whatever the node and size: nothing to remove is not an error', () => {
    for (const [node, size] of [
      [0, 1048576],
      [3, 2048],
      [0, 4096],
    ] as const) {
      const { next, result } = run(some, Ledger.EMPTY, hugepages('vm', node, size, -1));
      expect(result, `node ${node} size ${size}`).to.include({ message: 'No existing record to remove', allocation_successful: true });
      expect(next).to.equal(Ledger.EMPTY);
    }
  });

  it('an unknown node answers NUMA_NODE_NOT_FOUND with the hugepage wording', () => {
    const err = domainError(
      () => run(sample, Ledger.EMPTY, hugepages('vm', 3, 2048, 1)),
      'NUMA_NODE_NOT_FOUND',
    );
    expect(err.code).to.equal(-32003);
    expect(err.message).to.equal('NUMA node 3 not found');
  });

  it('a size the node has no pool of answers HUGEPAGE_SIZE_NOT_FOUND', () => {
    const err = domainError(
      () => run(sample, Ledger.EMPTY, hugepages('vm', 0, 4096, 1)),
      'HUGEPAGE_SIZE_NOT_FOUND',
    );
    expect(err.code).to.equal(-32005);
    expect(err.message).to.equal('Hugepage size 4096 KB not found on node 0');
    const bare = domainError(
      () => run(some, Ledger.EMPTY, hugepages('vm', 1, 2048, 1)),
      'HUGEPAGE_SIZE_NOT_FOUND',
    );
    expect(bare.message).to.equal('Hugepage size 2048 KB not found on node 1');
  });
});

describe('allocator: get_memory_info', () => {
  it('lists every node, nodes without hugepages as empty, capacity sorted by size', () => {
    const ledger = after(some, [hugepages('vm', 0, 1048576, 4), hugepages('vm', 0, 2048, 16), hugepages('ovs', 2, 2048, 8)]);
    expect(memory(some, ledger, 'vm')).to.deep.equal({
      service_name: 'vm',
      numa_hugepages: {
        node0: {
          capacity: [
            { size: 2048, total: 1024, free: 1000, free_kernel: 1000, reserved: 16 },
            { size: 1048576, total: 8, free: 4, free_kernel: 6, reserved: 4 },
          ],
          allocations: { vm: { '2048': 16, '1048576': 4 } },
        },
        node1: { capacity: [], allocations: {} },
        node2: {
          capacity: [{ size: 2048, total: 256, free: 100, free_kernel: 100, reserved: 8 }],
          allocations: { ovs: { '2048': 8 } },
        },
        node3: { capacity: [], allocations: {} },
      },
    });
  });

  it('echoes "" when no service_name is given', () => {
    expect(memory(sample, Ledger.EMPTY).service_name).to.equal('');
  });

  it('shows node 0 without capacity on a host without NUMA directories', () => {
    const info = memory(machine(NO_NUMA_DIRS), Ledger.EMPTY);
    expect(info.numa_hugepages).to.deep.equal({ node0: { capacity: [], allocations: {} } });
  });
});
