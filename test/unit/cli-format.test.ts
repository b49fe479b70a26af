import { expect } from 'chai';
import type { ResultOf } from '../../schema/index.js';
import { connectFailure, demoText, describeHost, formatRpcError, shellQuote } from '../../src/cli/messages.js';
import { cpusWithCount, formatSizeKb, renderTable } from '../../src/cli/table.js';
import { formatMemory, formatStatus, formatTopology } from '../../src/cli/reports.js';
import { SAMPLE_HOST } from '../../src/topology/fake/index.js';
import { SAMPLE_POOL_FIELDS } from '../fixtures/results.js';

// Results as the daemon answers them on the sample host after: nova allocate_cores 4,
// ovs allocate_numa_cores node 1 × 2, ovs allocate_hugepages node 0 2 MiB × 64.
const TOPOLOGY: ResultOf<'get_topology'> = {
  pool: '2-15,18-31',
  online: '0-31',
  reserved: '',
  numa_nodes: [
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
      free_cpus: '9-15,25-31',
      cores: ['8,24', '9,25', '10,26', '11,27', '12,28', '13,29', '14,30', '15,31'],
      hugepage_sizes_kb: [2048, 1048576],
      l3_domains: ['8-15,24-31'],
    },
  ],
};

const ALLOCATIONS: ResultOf<'list_allocations'> = {
  pool: 'isolated',
  ...SAMPLE_POOL_FIELDS,
  total_allocations: 2,
  total_allocated_cpus: 6,
  total_available_cpus: 28,
  remaining_available_cpus: 22,
  allocations: [
    {
      service_name: 'nova',
      pool: 'isolated',
      preemption_policy: 'legacy',
      cpu_thread_policy: 'prefer',
      isolated_siblings: '',
      allocated_cores: '2-3,18-19',
      cores_count: 4,
      is_explicit: false,
      explicit_cores: '',
      numa_nodes: [0],
      hugepages: [],
      stale_cores: '',
    },
    {
      service_name: 'ovs',
      pool: 'isolated',
      preemption_policy: 'non-preemptive',
      cpu_thread_policy: 'require',
      isolated_siblings: '',
      allocated_cores: '8,24',
      cores_count: 2,
      is_explicit: true,
      explicit_cores: '8,24',
      numa_nodes: [1],
      hugepages: [{ node_id: 0, size_kb: 2048, count: 64 }],
      stale_cores: '',
    },
  ],
};

const MEMORY: ResultOf<'get_memory_info'> = {
  service_name: '',
  numa_hugepages: {
    node1: {
      capacity: [
        { size: 2048, total: 512, free: 512, free_kernel: 512, reserved: 0 },
        { size: 1048576, total: 4, free: 4, free_kernel: 4, reserved: 0 },
      ],
      allocations: {},
    },
    node0: {
      capacity: [
        { size: 2048, total: 512, free: 448, free_kernel: 512, reserved: 64 },
        { size: 1048576, total: 4, free: 4, free_kernel: 4, reserved: 0 },
      ],
      allocations: { ovs: { '2048': 64 } },
    },
  },
};

const lines = (...rows: string[]) => rows.map((row) => `${row}\n`).join('');

describe('cli formatting', () => {
  describe('renderTable', () => {
    it('pads columns to their widest cell, two spaces apart, without trailing spaces', () => {
      expect(renderTable(['A', 'LONGER', 'C'], [['xyz', '1', ''], ['', '22', 'end']])).to.equal(
        lines('A    LONGER  C', 'xyz  1', '     22      end'),
      );
    });

    it('prints only the header when there are no rows', () => {
      expect(renderTable(['ONE', 'TWO'], [])).to.equal('ONE  TWO\n');
    });
  });

  it('shows a cpulist with its size, and "-" for none', () => {
    expect(cpusWithCount('2-3,18-19')).to.equal('2-3,18-19 (4)');
    expect(cpusWithCount('')).to.equal('-');
  });

  it('names hugepage sizes in the largest whole binary unit', () => {
    expect([4, 64, 2048, 32768, 1048576, 16777216].map(formatSizeKb)).to.deep.equal([
      '4 kB',
      '64 kB',
      '2 MiB',
      '32 MiB',
      '1 GiB',
      '16 GiB',
    ]);
  });

  const NO_HUGEPAGES: ResultOf<'get_memory_info'> = { service_name: '', numa_hugepages: {} };

  describe('status', () => {
    it('shows the pool, each node with its free CPUs and holders, then each service', () => {
      expect(formatStatus([ALLOCATIONS], TOPOLOGY, NO_HUGEPAGES)).to.equal(
        lines(
          'Pool isolated: 2-15,18-31 (the isolated list), 28 CPUs eligible, 6 allocated, 22 free, 0 unavailable, 2 services',
          'hugepages: none on this host',
          '',
          'NODE  POOL             FREE             SERVICE  CPUS',
          '0     2-7,18-23 (12)   4-7,20-23 (8)    nova     2-3,18-19 (4)',
          '1     8-15,24-31 (16)  9-15,25-31 (14)  ovs      8,24 (2)',
          '',
          'SERVICE  POOL      POLICY          THREADS  CPUS           EXPLICIT  IDLE  NODES  HUGEPAGES             STALE',
          'nova     isolated  legacy          prefer   2-3,18-19 (4)  -         -     0      -                     -',
          'ovs      isolated  non-preemptive  require  8,24 (2)       8,24      -     1      64 x 2 MiB on node 0  -',
        ),
      );
    });

    it('lists a service on every node it holds CPUs on, and several services of one node', () => {
      const allocations: ResultOf<'list_allocations'> = {
        ...ALLOCATIONS,
        allocations: [
          { ...ALLOCATIONS.allocations[0]!, allocated_cores: '2,8', cores_count: 2, numa_nodes: [0, 1] },
          { ...ALLOCATIONS.allocations[1]!, service_name: 'ovs', allocated_cores: '3,19', explicit_cores: '', numa_nodes: [0] },
        ],
      };
      const nodeRows = formatStatus([allocations], TOPOLOGY, NO_HUGEPAGES).split('\n').slice(4, 7);
      expect(nodeRows).to.deep.equal([
        '0     2-7,18-23 (12)   4-7,20-23 (8)    nova     2 (1)',
        `${' '.repeat(40)}ovs      3,19 (2)`,
        '1     8-15,24-31 (16)  9-15,25-31 (14)  nova     8 (1)',
      ]);
    });

    it('adds the general pool: its summary, and its services among the others by name', () => {
      const general: ResultOf<'list_allocations'> = {
        ...ALLOCATIONS,
        cpu_pool: {
          name: 'general',
          source: 'configured',
          configured_cpus: '0-1,16-17',
          eligible_cpus: '0-1,16-17',
          unavailable_allocated_cpus: '',
          unavailable_reason: null,
        },
        total_allocations: 1,
        total_allocated_cpus: 2,
        total_available_cpus: 4,
        remaining_available_cpus: 2,
        allocations: [
          { ...ALLOCATIONS.allocations[0]!, service_name: 'ceph-osd', pool: 'general', allocated_cores: '0,16', cores_count: 2 },
        ],
      };
      const text = formatStatus([ALLOCATIONS, general], TOPOLOGY, NO_HUGEPAGES).split('\n');
      expect(text.slice(0, 2)).to.deep.equal([
        'Pool isolated: 2-15,18-31 (the isolated list), 28 CPUs eligible, 6 allocated, 22 free, 0 unavailable, 2 services',
        'Pool general: 0-1,16-17 (configured), 4 CPUs eligible, 2 allocated, 2 free, 0 unavailable, 1 service',
      ]);
      expect(text[5]).to.equal('0     2-7,18-23 (12)   4-7,20-23 (8)    ceph-osd  0,16 (2)');
      expect(text.slice(3).filter((line) => /^[a-z]/.test(line)).map((line) => line.split(' ')[0])).to.deep.equal([
        'ceph-osd',
        'nova',
        'ovs',
      ]);
    });

    it('shows the thread policy and the threads an isolate policy holds idle', () => {
      const isolated: ResultOf<'list_allocations'> = {
        ...ALLOCATIONS,
        total_allocations: 1,
        allocations: [{ ...ALLOCATIONS.allocations[0]!, cpu_thread_policy: 'isolate', allocated_cores: '2-3', cores_count: 2, isolated_siblings: '18-19' }],
      };
      const text = formatStatus([isolated], TOPOLOGY, NO_HUGEPAGES);
      expect(text).to.match(/^nova +isolated +legacy +isolate +2-3 \(2\) +- +18-19 +0 +- +-$/m);
      expect(text).to.match(/, 6 allocated, 2 held idle, 22 free, /);
    });

    it('shows stale and unavailable CPUs, and says so when nothing is allocated or NUMA is unavailable', () => {
      const stale: ResultOf<'list_allocations'> = {
        ...ALLOCATIONS,
        cpu_pool: { ...ALLOCATIONS.cpu_pool, unavailable_allocated_cpus: '0' },
        total_allocations: 1,
        allocations: [{ ...ALLOCATIONS.allocations[0]!, allocated_cores: '0,2', stale_cores: '0' }],
      };
      const text = formatStatus([stale], TOPOLOGY, NO_HUGEPAGES);
      expect(text).to.match(/, 1 unavailable, 1 service; held but unavailable: 0\n/);
      expect(text).to.match(/^nova +isolated +legacy +prefer +0,2 \(2\) +- +- +0 +- +0$/m);
      const empty = { ...ALLOCATIONS, total_allocations: 0, total_allocated_cpus: 0, remaining_available_cpus: 28, allocations: [] };
      expect(formatStatus([empty], { ...TOPOLOGY, numa_nodes: [] }, NO_HUGEPAGES)).to.equal(
        lines(
          'Pool isolated: 2-15,18-31 (the isolated list), 28 CPUs eligible, 0 allocated, 28 free, 0 unavailable, 0 services',
          'hugepages: none on this host',
          '',
          'No NUMA topology: every CPU counts as node 0.',
          '',
          'No allocations.',
        ),
      );
    });
  });

  it('shows the topology per node, then the pool threads of each core and the L3 domains', () => {
    expect(formatTopology(TOPOLOGY)).to.equal(
      lines(
        'Pool 2-15,18-31 (28), online 0-31 (32)',
        '',
        'NODE  CPUS             POOL             FREE             CORES  HUGEPAGE SIZES',
        '0     0-7,16-23 (16)   2-7,18-23 (12)   4-7,20-23 (8)    6      2 MiB, 1 GiB',
        '1     8-15,24-31 (16)  8-15,24-31 (16)  9-15,25-31 (14)  8      2 MiB, 1 GiB',
        '',
        'Pool threads of each physical core:',
        '  node 0: 2,18  3,19  4,20  5,21  6,22  7,23',
        '  node 1: 8,24  9,25  10,26  11,27  12,28  13,29  14,30  15,31',
        '',
        'L3 cache domains (CPUs sharing an L3 cache):',
        '  node 0: 0-7,16-23',
        '  node 1: 8-15,24-31',
      ),
    );
  });

  it('shows the reserved CPUs under the pool, and every L3 domain of a node', () => {
    const text = formatTopology({
      ...TOPOLOGY,
      reserved: '2-3,18-19',
      numa_nodes: TOPOLOGY.numa_nodes.map((node) => ({ ...node, l3_domains: node.node_id === 0 ? ['0-3,16-19', '4-7,20-23'] : [] })),
    }).split('\n');
    expect(text.slice(0, 2)).to.deep.equal(['Pool 2-15,18-31 (28), online 0-31 (32)', 'Reserved 2-3,18-19 (4): housekeeping CPUs, never handed out']);
    expect(text.slice(-4)).to.deep.equal(['L3 cache domains (CPUs sharing an L3 cache):', '  node 0: 0-3,16-19  4-7,20-23', '  node 1: -', '']);
  });

  describe('memory', () => {
    it('shows one row per node and size, nodes in numeric order, with who reserved what', () => {
      expect(formatMemory(MEMORY)).to.equal(
        lines(
          'Hugepages per NUMA node; FREE is what can still be reserved: min(free in the kernel, total - reserved).',
          '',
          'NODE  SIZE   TOTAL  RESERVED  FREE  KERNEL FREE  RESERVED BY',
          '0     2 MiB  512    64        448   512          ovs 64',
          '0     1 GiB  4      0         4     4            -',
          '1     2 MiB  512    0         512   512          -',
          '1     1 GiB  4      0         4     4            -',
        ),
      );
    });

    it('orders node10 after node2, marks a node without hugepages, and keeps a reservation of a vanished size', () => {
      const memory: ResultOf<'get_memory_info'> = {
        service_name: '',
        numa_hugepages: {
          node10: { capacity: [], allocations: {} },
          node2: { capacity: [], allocations: { nova: { '2048': 8 }, ovs: { '2048': 2 } } },
        },
      };
      expect(formatMemory(memory).split('\n').slice(3)).to.deep.equal([
        '2     2 MiB  -      10        -     -            nova 8, ovs 2',
        '10    none   -      -         -     -            -',
        '',
      ]);
    });
  });

  describe('messages', () => {
    it('shows an error answer with its code, message and data', () => {
      expect(formatRpcError({ code: -32003, message: 'NUMA node 7 does not exist', data: { reason: 'NUMA_NODE_NOT_FOUND' } })).to.equal(
        'error -32003: NUMA node 7 does not exist\ndata: {\n  "reason": "NUMA_NODE_NOT_FOUND"\n}',
      );
      expect(formatRpcError({ code: -32601, message: 'Method not found' })).to.equal('error -32601: Method not found');
    });

    it('says what to do when the socket is missing, refuses or is forbidden', () => {
      const failure = (code: string) => connectFailure('/run/x.sock', code, `cannot connect to /run/x.sock: ${code}`);
      expect(failure('ENOENT')).to.match(/^no daemon socket at \/run\/x\.sock: is the daemon running\?/);
      expect(failure('ECONNREFUSED')).to.match(/^nothing answers on \/run\/x\.sock: the daemon is not running/);
      expect(failure('EACCES')).to.match(/^permission denied on \/run\/x\.sock/);
      expect(failure('EMFILE')).to.equal('cannot connect to /run/x.sock: EMFILE');
    });

    it('quotes words for a POSIX shell only when they need it', () => {
      expect(shellQuote('/tmp/epa-demo-1/epa.sock')).to.equal('/tmp/epa-demo-1/epa.sock');
      expect(shellQuote('{"a":1}')).to.equal(`'{"a":1}'`);
      expect(shellQuote("it's here")).to.equal(`'it'\\''s here'`);
    });

    it('describes the sample host and prints demo commands that name its socket', () => {
      expect(describeHost(SAMPLE_HOST)).to.equal(
        '2 NUMA nodes (node 0 = 0-7,16-23, node 1 = 8-15,24-31), pool 2-15,18-31, ' +
          'free hugepages node 0: 512 x 2 MiB, 4 x 1 GiB; node 1: 512 x 2 MiB, 4 x 1 GiB',
      );
      const text = demoText({
        program: './bin/epa-orchestrator',
        socket: '/tmp/demo dir/epa.sock',
        sysfs: '/tmp/demo dir/sysfs',
        stateDir: '/tmp/demo dir/state',
        tempDir: '/tmp/demo dir',
        host: 'a host',
      });
      expect(text).to.contain(
        `\n  ./bin/epa-orchestrator call allocate_cores '{"service_name":"nova","num_of_cores":4}' --socket '/tmp/demo dir/epa.sock'\n`,
      );
      expect(text).to.contain(
        `\n  echo '{"jsonrpc":"2.0","id":1,"method":"list_allocations","params":{}}' | socat - UNIX-CONNECT:'/tmp/demo dir/epa.sock'\n`,
      );
      expect(text.match(/ call /g)).to.have.length(3);
    });
  });
});
