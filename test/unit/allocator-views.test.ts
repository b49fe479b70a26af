import { expect } from 'chai';
import { CpuSet, parseCpuList } from '../../src/cpuset/index.js';
import { Ledger } from '../../src/allocator/index.js';
import { fakeHost } from '../fixtures/host.js';
import { EPYC_LIKE, NO_NUMA_DIRS, SAMPLE } from '../fixtures/hosts.js';
import {
  after,
  cores,
  cpusOf,
  domainError,
  hugepages,
  list,
  machine,
  machineWith,
  numa,
  release,
  run,
  topology,
} from './allocator-harness.js';
import { SAMPLE_POOL_FIELDS } from '../fixtures/results.js';

const sample = machine(SAMPLE);

describe('allocator: release_service', () => {
  it('releases every CPU and hugepage reservation and reports them', () => {
    const ledger = after(sample, [cores('vm', 4), numa('vm', 1, 2), hugepages('vm', 1, 2048, 4), hugepages('vm', 0, 1048576, 1)]);
    const { next, result } = run(sample, ledger, release('vm'));
    expect(result).to.deep.include({
      service_name: 'vm',
      released_cores: '2-3,8,18-19,24',
      released_hugepages: [
        { node_id: 0, size_kb: 1048576, count: 1 },
        { node_id: 1, size_kb: 2048, count: 4 },
      ],
    });
    expect(next.get('vm')).to.equal(undefined);
    expect(list(sample, next).allocations).to.deep.equal([]);
  });

  it('releasing an unknown service succeeds with nothing released', () => {
    const ledger = after(sample, [cores('other', 2)]);
    const { next, result } = run(sample, ledger, release('ghost'));
    expect(result).to.deep.include({ released_cores: '', released_hugepages: [] });
    expect(list(sample, next)).to.deep.equal(list(sample, ledger));
  });

  it("leaves other services' CPUs where they are", () => {
    const ledger = after(sample, [cores('a', 4), numa('b', 1, 4), cores('c', 2)]);
    const next = after(sample, [release('a')], ledger);
    expect(cpusOf(next, 'b')).to.equal(cpusOf(ledger, 'b'));
    expect(cpusOf(next, 'c')).to.equal(cpusOf(ledger, 'c'));
  });
});

describe('allocator: list_allocations', () => {
  it('lists every service sorted by name with its CPUs, explicit CPUs, nodes and hugepages', () => {
    const ledger = after(sample, [
      cores('ovs', 2),
      numa('nova', 1, 2),
      cores('nova', 4),
      numa('nova', 0, 2),
      hugepages('ceph', 1, 2048, 64),
    ]);
    expect(list(sample, ledger)).to.deep.equal({
      pool: 'isolated',
      total_allocations: 3,
      total_allocated_cpus: 8,
      total_available_cpus: 28,
      remaining_available_cpus: 20,
      allocations: [
        {
          service_name: 'ceph',
          allocated_cores: '',
          cores_count: 0,
          is_explicit: false,
          explicit_cores: '',
          numa_nodes: [],
          hugepages: [{ node_id: 1, size_kb: 2048, count: 64 }],
          stale_cores: '',
          preemption_policy: null,
          cpu_thread_policy: null,
          isolated_siblings: '',
          pool: 'isolated',
        },
        {
          service_name: 'nova',
          allocated_cores: '3,8-9,19,24-25',
          cores_count: 6,
          is_explicit: true,
          explicit_cores: '3,19',
          numa_nodes: [0, 1],
          hugepages: [],
          stale_cores: '',
          preemption_policy: 'legacy',
          cpu_thread_policy: 'prefer',
          isolated_siblings: '',
          pool: 'isolated',
        },
        {
          service_name: 'ovs',
          allocated_cores: '2,18',
          cores_count: 2,
          is_explicit: false,
          explicit_cores: '',
          numa_nodes: [0],
          hugepages: [],
          stale_cores: '',
          preemption_policy: 'legacy',
          cpu_thread_policy: 'prefer',
          isolated_siblings: '',
          pool: 'isolated',
        },
      ],
      ...SAMPLE_POOL_FIELDS,
    });
  });

  it('keeps every record right across many services and many changes', () => {
    const big = machine(fakeHost({ nodes: 2, coresPerNode: 64, threads: 1, pool: '0-127' }));
    const names = Array.from({ length: 100 }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
    let ledger = after(big, names.map((name) => cores(name, 1)));
    ledger = after(big, names.filter((_, i) => i % 2 === 0).map(release), ledger);
    const view = list(big, ledger);
    expect(view.total_allocations).to.equal(50);
    expect(view.total_allocated_cpus).to.equal(50);
    expect(view.remaining_available_cpus).to.equal(78);
    expect(view.allocations.map((a) => a.service_name)).to.deep.equal(names.filter((_, i) => i % 2 === 1));
    expect(view.allocations.map((a) => a.allocated_cores).join(',')).to.equal(
      Array.from({ length: 50 }, (_, i) => String(2 * i + 1)).join(','),
    );
  });

  it('is empty on an empty ledger', () => {
    expect(list(sample, Ledger.EMPTY)).to.deep.equal({
      pool: 'isolated',
      total_allocations: 0,
      total_allocated_cpus: 0,
      total_available_cpus: 28,
      remaining_available_cpus: 28,
      allocations: [],
      ...SAMPLE_POOL_FIELDS,
    });
  });
});

describe('allocator: CPUs that left the pool (stale)', () => {
  // The ledger was written under pool 2-15,18-31; the host now isolates only 4-15,20-31.
  const shrunk = machine(SAMPLE, '4-15,20-31');
  const record = (cpus: string) => ({
    cpus: parseCpuList(cpus),
    explicit: CpuSet.EMPTY,
    policy: 'legacy' as const, threadPolicy: 'prefer' as const, siblings: CpuSet.EMPTY,
    pool: 'isolated' as const,
    hugepages: [],
  });
  const ledger = Ledger.fromRecords([
    ['old', record('2-4,18-20')],
    ['pinned', { ...record('8,24'), explicit: parseCpuList('8,24') }],
  ]);

  it('stay with their owner and are listed in stale_cores; totals count the pool only', () => {
    const view = list(shrunk, ledger);
    expect(view.allocations[0]).to.deep.include({ service_name: 'old', allocated_cores: '2-4,18-20', stale_cores: '2-3,18-19' });
    expect(view.allocations[1]).to.deep.include({ service_name: 'pinned', stale_cores: '' });
    expect(view).to.deep.include({ total_allocated_cpus: 8, total_available_cpus: 24, remaining_available_cpus: 20 });
  });

  it('are never handed to another service, by any method', () => {
    const all = run(shrunk, ledger, cores('new', 20));
    expect(all.result.allocated_cores).to.equal('5-7,9-15,21-23,25-31');
    const err = domainError(() => run(shrunk, ledger, cores('new', 21)), 'INSUFFICIENT_CPUS');
    expect(err.data).to.deep.include({ requested: 21, available: 20 });
    const node0 = run(shrunk, ledger, numa('new', 0, 8));
    expect(node0.result.cores_allocated).to.equal('4-7,20-23');
    expect(node0.result.preempted).to.deep.equal([{ service_name: 'old', cores: '4,20' }]);
    expect(cpusOf(node0.next, 'old')).to.equal('2-3,18-19');
    domainError(
      () => run(shrunk, ledger, numa('new', 0, 9)),
      'INSUFFICIENT_CPUS',
    );
  });

  it("survive other services' changes and releases", () => {
    const next = after(shrunk, [cores('new', 4), numa('new', 1, 2), release('new'), release('pinned')], ledger);
    expect(cpusOf(next, 'old')).to.equal('2-4,18-20');
  });

  it("are dropped by their owner's own re-request (a legacy service)", () => {
    const { next, result } = run(shrunk, ledger, cores('old', 6));
    expect(result.allocated_cores).to.equal('4-6,20-22');
    expect(list(shrunk, next).allocations[0]?.stale_cores).to.equal('');
  });

  it('are released with the service', () => {
    const { result } = run(shrunk, ledger, release('old'));
    expect(result.released_cores).to.equal('2-4,18-20');
  });
});

describe('allocator: get_topology', () => {
  it('shows the pool, online CPUs and per node its CPUs, pool CPUs, free CPUs, cores, hugepage sizes and L3 domains', () => {
    const view = topology(sample, after(sample, [cores('vm', 4)]));
    expect(view.pool).to.equal('2-15,18-31');
    expect(view.online).to.equal('0-31');
    expect(view.reserved).to.equal('');
    expect(view.numa_nodes).to.deep.equal([
      {
        node_id: 0,
        cpus: '0-7,16-23',
        pool_cpus: '2-7,18-23',
        free_cpus: '4-7,20-23',
        cores: ['2,18', '3,19', '4,20', '5,21', '6,22', '7,23'],
        hugepage_sizes_kb: [2048, 1048576],
        l3_domains: ['0-7,16-23'],
      },
      {
        node_id: 1,
        cpus: '8-15,24-31',
        pool_cpus: '8-15,24-31',
        free_cpus: '8-15,24-31',
        cores: ['8,24', '9,25', '10,26', '11,27', '12,28', '13,29', '14,30', '15,31'],
        hugepage_sizes_kb: [2048, 1048576],
        l3_domains: ['8-15,24-31'],
      },
    ]);
  });

  it('names the reserved CPUs, leaves them out of the free ones, and lists every CPU of each L3 domain', () => {
    const epyc = machineWith(EPYC_LIKE, { reserved: '1,33' });
    const view = topology(epyc, Ledger.EMPTY);
    expect(view.reserved).to.equal('1,33');
    expect(view.numa_nodes[0]).to.deep.include({
      pool_cpus: '1-15,33-47',
      free_cpus: '2-15,34-47',
      l3_domains: ['0-3,32-35', '4-7,36-39', '8-11,40-43', '12-15,44-47'],
    });
  });

  it('shows one node 0 of every CPU on a host without NUMA directories', () => {
    const view = topology(machine(NO_NUMA_DIRS), Ledger.EMPTY);
    expect(view.numa_nodes).to.have.length(1);
    expect(view.numa_nodes[0]).to.deep.include({ node_id: 0, cpus: '0-15', pool_cpus: '1-7,9-15', hugepage_sizes_kb: [] });
  });
});
