// The pure parts of the operator commands: the watch line, the nova.conf text, the figures status
// starts with, and how watch and nova-config are parsed.
import { expect } from 'chai';
import type { AllocationChangedParams, ResultOf } from '../../src/client/index.js';
import { formatChange, formatReservations } from '../../src/cli/changes.js';
import { formatNovaConfig } from '../../src/cli/nova-conf.js';
import { buildProgram, type Actions, type ViewRequest } from '../../src/cli/program.js';
import { formatStatus } from '../../src/cli/reports.js';
import { SAMPLE_POOL_FIELDS } from '../fixtures/results.js';

const AT = new Date('2026-12-02T10:00:00.000Z');

const CHANGE: AllocationChangedParams = {
  service_name: 'nova',
  pool: 'isolated',
  cores_before: '2-5',
  cores_after: '2-7',
  hugepages_before: [],
  hugepages_after: [{ node_id: 0, size_kb: 2048, count: 64 }],
  cause: 'request',
};

const lines = (...rows: string[]) => rows.map((row) => `${row}\n`).join('');

type Allocations = ResultOf<'list_allocations'>;
type Memory = ResultOf<'get_memory_info'>;

const ISOLATED: Allocations = {
  pool: 'isolated',
  ...SAMPLE_POOL_FIELDS,
  total_allocations: 1,
  total_allocated_cpus: 6,
  total_available_cpus: 28,
  remaining_available_cpus: 22,
  allocations: [],
};

const MEMORY: Memory = {
  service_name: '',
  numa_hugepages: {
    node1: {
      capacity: [
        { size: 2048, total: 512, free: 512, free_kernel: 512, reserved: 0 },
        { size: 1048576, total: 4, free: 2, free_kernel: 4, reserved: 2 },
      ],
      allocations: { ovs: { '1048576': 2 } },
    },
    node0: {
      capacity: [{ size: 2048, total: 512, free: 448, free_kernel: 448, reserved: 64 }],
      allocations: { ovs: { '2048': 64 } },
    },
  },
};

describe('cli operator commands: formats', () => {
  describe('watch lines', () => {
    it('show the time, service, pool and cause, then the CPUs and the hugepages before → after', () => {
      expect(formatChange(CHANGE, AT)).to.equal(
        '2026-12-02T10:00:00.000Z nova isolated request: cpus 2-5 → 2-7; hugepages none → node0 2048kB×64\n',
      );
    });

    it('say "none" for no CPUs and list several reservations in order', () => {
      const preempted: AllocationChangedParams = {
        ...CHANGE,
        service_name: 'ceph-osd',
        pool: 'general',
        cores_before: '0,16',
        cores_after: '',
        hugepages_before: [
          { node_id: 0, size_kb: 2048, count: 64 },
          { node_id: 1, size_kb: 1048576, count: 2 },
        ],
        hugepages_after: [{ node_id: 1, size_kb: 1048576, count: 2 }],
        cause: 'preempted',
      };
      expect(formatChange(preempted, AT)).to.equal(
        '2026-12-02T10:00:00.000Z ceph-osd general preempted: cpus 0,16 → none; hugepages node0 2048kB×64, node1 1048576kB×2 → node1 1048576kB×2\n',
      );
      expect(formatReservations([])).to.equal('none');
    });
  });

  describe('nova.conf', () => {
    it('puts the CPU sets in [compute] and one reserved_huge_pages line per entry in [DEFAULT]', () => {
      const config = {
        service_name: 'nova',
        cpu_dedicated_set: '2-5',
        cpu_shared_set: '6-15,18-31',
        reserved_huge_pages: ['node:0,size:2048,count:64', 'node:1,size:1048576,count:4'],
      };
      expect(formatNovaConfig(config, 'isolated')).to.equal(
        lines(
          '[compute]',
          'cpu_dedicated_set = 2-5',
          'cpu_shared_set = 6-15,18-31',
          '',
          '[DEFAULT]',
          'reserved_huge_pages = node:0,size:2048,count:64',
          'reserved_huge_pages = node:1,size:1048576,count:4',
        ),
      );
    });

    it('writes a comment in place of each option with nothing to set', () => {
      const empty = { service_name: 'nova', cpu_dedicated_set: '', cpu_shared_set: '', reserved_huge_pages: [] };
      expect(formatNovaConfig(empty, 'general')).to.equal(
        lines(
          '[compute]',
          '# cpu_dedicated_set: nova holds no CPUs of the pool general',
          '# cpu_shared_set: no CPU of the pool general is left free',
          '',
          '[DEFAULT]',
          '# reserved_huge_pages: no other service reserves hugepages',
        ),
      );
    });
  });

  /** The lines of `status` before its tables: a line per pool, then per node and hugepage size. */
  const statusFigures = (lists: Allocations[], memory: Memory, reserved = '') =>
    formatStatus(lists, { pool: '', online: '', reserved, numa_nodes: [] }, memory).split('\n\n')[0] + '\n';

  describe('status figures', () => {
    it('give each pool, then each node and size in order: reserved, free in the kernel, total, still reservable', () => {
      expect(statusFigures([ISOLATED], MEMORY)).to.equal(
        lines(
          'Pool isolated: 2-15,18-31 (the isolated list), 28 CPUs eligible, 6 allocated, 22 free, 0 unavailable, 1 service',
          'node0 2048 kB: 64 reserved, 448 free in the kernel, 512 total; 448 can still be reserved',
          'node1 2048 kB: 0 reserved, 512 free in the kernel, 512 total; 512 can still be reserved',
          'node1 1048576 kB: 2 reserved, 4 free in the kernel, 4 total; 2 can still be reserved',
        ),
      );
    });

    it('count unavailable CPUs, say why a pool hands out none, and show nodes without hugepages and sizes gone', () => {
      const broken: Allocations = {
        ...ISOLATED,
        cpu_pool: { ...ISOLATED.cpu_pool, eligible_cpus: '', unavailable_allocated_cpus: '2-3,18', unavailable_reason: 'node1/cpulist: invalid cpulist "junk"' },
        total_available_cpus: 0,
        total_allocated_cpus: 3,
        remaining_available_cpus: 0,
      };
      const memory: Memory = {
        service_name: '',
        numa_hugepages: {
          node0: { capacity: [], allocations: { ovs: { '2048': 64 } } },
          node1: { capacity: [], allocations: {} },
        },
      };
      expect(statusFigures([broken], memory)).to.equal(
        lines(
          'Pool isolated: 2-15,18-31 (the isolated list), 0 CPUs eligible, 3 allocated, 0 free, 3 unavailable, 1 service; held but unavailable: 2-3,18; hands out no CPU: node1/cpulist: invalid cpulist "junk"',
          'node0 2048 kB: 64 reserved; the node no longer offers this size',
          'node1: no hugepages',
        ),
      );
      expect(statusFigures([], { service_name: '', numa_hugepages: {} })).to.equal('hugepages: none on this host\n');
    });

    it('name the reserved (housekeeping) CPUs after the pools, only when there are some', () => {
      const reserved = { ...ISOLATED, total_available_cpus: 24, remaining_available_cpus: 18 };
      const memory: Memory = { service_name: '', numa_hugepages: {} };
      expect(statusFigures([reserved], memory, '2-3,18-19')).to.equal(
        lines(
          'Pool isolated: 2-15,18-31 (the isolated list), 24 CPUs eligible, 6 allocated, 18 free, 0 unavailable, 1 service',
          'Reserved 2-3,18-19 (4): housekeeping CPUs, never handed out',
          'hugepages: none on this host',
        ),
      );
      expect(statusFigures([reserved], memory)).to.not.contain('Reserved');
    });
  });

  describe('grammar', () => {
    /** What `args` asks of the view action. */
    async function viewOf(args: string[]): Promise<ViewRequest> {
      const saved = process.env.EPA_SOCKET;
      delete process.env.EPA_SOCKET;
      try {
        const reached: ViewRequest[] = [];
        const none = () => Promise.reject(new Error('not a view'));
        const actions: Actions = {
          serve: none,
          demo: none,
          call: none,
          schema: none,
          checkPool: none,
          view: (request) => {
            reached.push(request);
            return Promise.resolve();
          },
        };
        const program = buildProgram(actions, '9.9.9');
        const quiet = { writeOut: () => undefined, writeErr: () => undefined };
        for (const command of [program, ...program.commands]) command.configureOutput(quiet);
        await program.parseAsync(args, { from: 'user' });
        expect(reached).to.have.length(1);
        return reached[0]!;
      } finally {
        if (saved !== undefined) process.env.EPA_SOCKET = saved;
      }
    }

    it('passes watch its socket (before or after the command) and --json', async () => {
      expect(await viewOf(['watch', '--socket', '/s'])).to.deep.equal({ view: 'watch', socket: '/s', json: false });
      expect(await viewOf(['--socket', '/g', 'watch', '--json'])).to.deep.equal({ view: 'watch', socket: '/g', json: true });
    });

    it('passes nova-config its service, pool, socket and --json, and requires --service', async () => {
      expect(await viewOf(['nova-config', '--service', 'nova', '--socket', '/s'])).to.deep.equal({
        view: 'nova-config',
        service: 'nova',
        socket: '/s',
        json: false,
      });
      expect(await viewOf(['nova-config', '--service', 'nova', '--pool', 'general', '--json', '--socket', '/s'])).to.deep.equal({
        view: 'nova-config',
        service: 'nova',
        pool: 'general',
        socket: '/s',
        json: true,
      });
      const missing = await viewOf(['nova-config', '--socket', '/s']).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(missing).to.have.property('code', 'commander.missingMandatoryOptionValue');
    });
  });
});
