import { expect } from 'chai';
import { Ajv } from 'ajv';
import {
  DOMAIN_ERRORS,
  DomainError,
  DomainErrorData,
  DomainErrors,
  ErrorObject,
  InvalidParamsData,
  JSONRPC_ERRORS,
  METHOD_NAMES,
  METHODS,
  isMethodName,
  validateParams,
  validateResult,
} from '../../schema/index.js';
import type { MethodName, ValidationIssue } from '../../schema/index.js';
import { SAMPLE_POOL_FIELDS } from '../fixtures/results.js';

function issues(method: MethodName, params: unknown): ValidationIssue[] {
  const outcome = validateParams(method, params);
  if (outcome.ok) throw new Error(`${method} accepted ${JSON.stringify(params)}`);
  return outcome.errors;
}

/** The distinct paths named, in order: one field may fail several rules. */
function paths(method: MethodName, params: unknown): string[] {
  return [...new Set(issues(method, params).map((issue) => issue.path))];
}

describe('schema: method table', () => {
  it('has exactly the methods of the API', () => {
    expect([...METHOD_NAMES].sort()).to.deep.equal([
      'allocate_cores',
      'allocate_cores_percent',
      'allocate_hugepages',
      'allocate_numa_cores',
      'explicitly_allocate_cores',
      'get_memory_info',
      'get_nova_config',
      'get_topology',
      'list_allocations',
      'release_service',
      'subscribe',
      'unsubscribe',
    ]);
  });

  it('defines every declared name, in the declared order', () => {
    expect(METHODS.map((m) => m.name)).to.deep.equal([...METHOD_NAMES]);
  });

  it('does not resolve names inherited from Object', () => {
    expect(isMethodName('toString')).to.equal(false);
    expect(isMethodName('__proto__')).to.equal(false);
    expect(isMethodName('allocate_cores')).to.equal(true);
  });
});

describe('schema: params', () => {
  const valid: [MethodName, unknown][] = [
    ['allocate_cores', { service_name: 'openstack-hypervisor', num_of_cores: 4 }],
    ['allocate_cores', { service_name: 'svc', num_of_cores: 0 }],
    ['allocate_cores', { service_name: 'svc', num_of_cores: -1 }],
    ['allocate_cores_percent', { service_name: 'svc', percent: 50 }],
    ['allocate_cores_percent', { service_name: 'svc', percent: 100 }],
    ['allocate_cores_percent', { service_name: 'svc', percent: 0 }],
    ['allocate_cores_percent', { service_name: 'svc', percent: -1 }],
    ['allocate_numa_cores', { service_name: 'ovs', numa_node: 1, num_of_cores: 5 }],
    ['allocate_numa_cores', { service_name: 'ovs', numa_node: 0, num_of_cores: -1 }],
    ['list_allocations', {}],
    ['list_allocations', { service_name: 'older-client', anything: [1, 2] }],
    ['get_memory_info', {}],
    ['get_memory_info', { service_name: 'ovs' }],
    ['allocate_hugepages', { service_name: 'ovs', node_id: 0, size_kb: 2048, hugepages_requested: 8 }],
    ['allocate_hugepages', { service_name: 'ovs', node_id: 1, size_kb: 1048576, hugepages_requested: -1 }],
    ['release_service', { service_name: 'ovs' }],
    ['get_topology', {}],
  ];
  for (const [method, params] of valid) {
    it(`${method} accepts ${JSON.stringify(params)} unchanged`, () => {
      const copy = structuredClone(params);
      expect(validateParams(method, params)).to.deep.equal({ ok: true, value: copy });
    });
  }

  const invalid: [MethodName, unknown, string][] = [
    ['allocate_cores', { service_name: 'svc', num_of_cores: '4' }, '/num_of_cores'],
    ['allocate_cores', { service_name: 'svc', num_of_cores: 1.5 }, '/num_of_cores'],
    ['allocate_cores', { service_name: 'svc', num_of_cores: -2 }, '/num_of_cores'],
    ['allocate_cores', { service_name: 'svc', num_of_cores: null }, '/num_of_cores'],
    ['allocate_cores', { service_name: 7, num_of_cores: 1 }, '/service_name'],
    ['allocate_cores_percent', { service_name: 'svc', percent: 101 }, '/percent'],
    ['allocate_cores_percent', { service_name: 'svc', percent: -2 }, '/percent'],
    ['allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: 0 }, '/num_of_cores'],
    ['allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: -2 }, '/num_of_cores'],
    ['allocate_numa_cores', { service_name: 'svc', numa_node: -1, num_of_cores: 1 }, '/numa_node'],
    ['allocate_numa_cores', { service_name: 'svc', numa_node: '1', num_of_cores: 1 }, '/numa_node'],
    ['allocate_hugepages', { service_name: 'svc', node_id: 0, size_kb: 2048, hugepages_requested: 0 }, '/hugepages_requested'],
    ['allocate_hugepages', { service_name: 'svc', node_id: 0, size_kb: 0, hugepages_requested: 1 }, '/size_kb'],
    ['allocate_hugepages', { service_name: 'svc', node_id: -1, size_kb: 2048, hugepages_requested: 1 }, '/node_id'],
    ['get_memory_info', { service_name: '' }, '/service_name'],
  ];
  for (const [method, params, path] of invalid) {
    it(`${method} rejects ${JSON.stringify(params)} at ${path}`, () => {
      expect(paths(method, params)).to.deep.equal([path]);
    });
  }

  it('names a missing field', () => {
    expect(issues('allocate_cores', { service_name: 'svc' })).to.deep.equal([
      { path: '/num_of_cores', message: 'is required' },
    ]);
    expect(paths('allocate_hugepages', { service_name: 'svc' })).to.have.members([
      '/node_id',
      '/size_kb',
      '/hugepages_requested',
    ]);
  });

  it('names an unknown extra field', () => {
    expect(issues('allocate_cores', { service_name: 'svc', num_of_cores: 1, numa: 0 })).to.deep.equal([
      { path: '/numa', message: 'is not a known parameter' },
    ]);
    expect(paths('get_topology', { verbose: true })).to.deep.equal(['/verbose']);
    expect(paths('release_service', { service_name: 'svc', 'a/b~c': 1 })).to.deep.equal(['/a~1b~0c']);
  });

  it('reports a "1 or more, or -1" field once, with a readable message', () => {
    expect(issues('allocate_numa_cores', { service_name: 'svc', numa_node: 0, num_of_cores: 0 })).to.deep.equal([
      { path: '/num_of_cores', message: 'must be an integer >= 1, or -1 to release' },
    ]);
  });

  it('reports every problem of a request at once', () => {
    expect(paths('allocate_cores', { service_name: '', num_of_cores: 'x', extra: 1 })).to.have.members([
      '/service_name',
      '/num_of_cores',
      '/extra',
    ]);
  });

  it('rejects params that are not an object', () => {
    for (const params of [[], ['svc', 1], 'svc', null, 3]) {
      expect(paths('allocate_cores', params)).to.deep.equal(['']);
    }
  });

  describe('service_name', () => {
    const bad = ['', 'a'.repeat(129), '.hidden', '-dash', 'two words', 'a/b', 'tab\t', 'é'];
    for (const name of bad) {
      it(`rejects ${JSON.stringify(name.length > 20 ? `${name.slice(0, 5)}…(${name.length})` : name)}`, () => {
        expect(paths('release_service', { service_name: name })).to.deep.equal(['/service_name']);
      });
    }

    const good = ['a', 'a'.repeat(128), 'openstack-hypervisor', 'ceph-osd.12@host:1+x', 'under_score', '0'];
    for (const name of good) {
      it(`accepts ${JSON.stringify(name.length > 20 ? `${name.slice(0, 5)}…(${name.length})` : name)}`, () => {
        expect(validateParams('release_service', { service_name: name }).ok).to.equal(true);
      });
    }
  });

  it('gives -32602 data in the documented shape', () => {
    const ajv = new Ajv({ strict: true });
    const errors = issues('allocate_cores', { num_of_cores: 'x', y: 1 });
    expect(ajv.validate(InvalidParamsData, { errors })).to.equal(true);
  });

  it('refuses a method it does not know', () => {
    expect(() => validateParams('nope' as MethodName, {})).to.throw(/nope/);
  });
});

describe('schema: results', () => {
  const examples: [MethodName, Record<string, unknown>][] = [
    [
      'allocate_cores',
      {
        service_name: 'svc',
        num_of_cores: 4,
        cores_allocated: 4,
        allocated_cores: '2-3,18-19',
        shared_cpus: '4-15,20-31',
        total_available_cpus: 28,
        remaining_available_cpus: 24,
        preemption_policy: 'legacy',
        pool: 'isolated',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
      },
    ],
    [
      'allocate_cores_percent',
      {
        service_name: 'svc',
        cores_allocated_count: 3,
        allocated_cores: '2-4',
        total_available_cpus: 28,
        // isolate: one thread of each of 3 whole cores; their siblings are held idle, so not remaining.
        remaining_available_cpus: 22,
        preemption_policy: 'non-preemptive',
        pool: 'general',
        cpu_thread_policy: 'isolate',
        isolated_siblings: '18-20',
      },
    ],
    [
      'allocate_numa_cores',
      {
        service_name: 'svc',
        numa_node: 1,
        num_of_cores: 2,
        cores_allocated: '8,24',
        total_available_cpus: 28,
        remaining_available_cpus: 26,
        preempted: [{ service_name: 'other', cores: '8' }],
        preemption_policy: 'legacy',
        pool: 'isolated',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
      },
    ],
    [
      'explicitly_allocate_cores',
      {
        service_name: 'osd',
        cores_requested: '3-4,19',
        cores_allocated: '3,19',
        cores_rejected: '4',
        total_available_cpus: 28,
        remaining_available_cpus: 22,
        preempted: [{ service_name: 'vm', cores: '3,19' }],
        preemption_policy: 'legacy',
        pool: 'isolated',
        cpu_thread_policy: 'prefer',
        isolated_siblings: '',
      },
    ],
    [
      'list_allocations',
      {
        pool: 'isolated',
        total_allocations: 2,
        total_allocated_cpus: 4,
        total_available_cpus: 28,
        remaining_available_cpus: 24,
        allocations: [
          {
            service_name: 'a',
            allocated_cores: '2-3,18-19',
            cores_count: 4,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [0],
            hugepages: [],
            stale_cores: '',
            preemption_policy: 'legacy',
            pool: 'isolated',
            cpu_thread_policy: 'prefer',
            isolated_siblings: '',
          },
          {
            service_name: 'b',
            allocated_cores: '',
            cores_count: 0,
            is_explicit: false,
            explicit_cores: '',
            numa_nodes: [],
            hugepages: [{ node_id: 0, size_kb: 2048, count: 8 }],
            stale_cores: '',
            preemption_policy: null,
            pool: 'isolated',
            cpu_thread_policy: null,
            isolated_siblings: '',
          },
        ],
        ...SAMPLE_POOL_FIELDS,
      },
    ],
    [
      'get_memory_info',
      {
        service_name: '',
        numa_hugepages: {
          node0: {
            capacity: [{ size: 2048, total: 16, free: 8, free_kernel: 16, reserved: 8 }],
            allocations: { ovs: { '2048': 8 } },
          },
          node1: { capacity: [], allocations: {} },
        },
      },
    ],
    [
      'allocate_hugepages',
      {
        service_name: 'ovs',
        hugepages_requested: -1,
        allocation_successful: true,
        message: 'No existing record to remove',
        node_id: 0,
        size_kb: 2048,
      },
    ],
    [
      'release_service',
      {
        service_name: 'ovs',
        released_cores: '2-3',
        released_hugepages: [{ node_id: 0, size_kb: 2048, count: 8 }],
        total_available_cpus: 28,
        remaining_available_cpus: 28,
      },
    ],
    [
      'get_topology',
      {
        pool: '2-15,18-31',
        online: '0-31',
        reserved: '4-7,20-23',
        numa_nodes: [
          {
            node_id: 0,
            cpus: '0-7,16-23',
            pool_cpus: '2-7,18-23',
            free_cpus: '2-3,18-19',
            cores: ['2,18', '3,19'],
            hugepage_sizes_kb: [2048, 1048576],
            l3_domains: ['0-3,16-19', '4-7,20-23'],
          },
        ],
      },
    ],
  ];

  for (const [method, result] of examples) {
    it(`${method}: accepts the documented shape, with extra fields`, () => {
      expect(validateResult(method, result).ok).to.equal(true);
      expect(validateResult(method, { ...result, field_from_a_later_version: 'x' }).ok).to.equal(true);
    });

    it(`${method}: requires every listed field`, () => {
      for (const field of Object.keys(result)) {
        const rest = { ...result };
        delete rest[field];
        const outcome = validateResult(method, rest);
        expect(outcome.ok, field).to.equal(false);
        if (!outcome.ok) expect(outcome.errors).to.deep.include({ path: `/${field}`, message: 'is required' });
      }
    });
  }

  it('rejects a cpulist that is not in the kernel format', () => {
    for (const cores of ['0-3,', ' 1', '1,,2', 'a', '1-', '-1']) {
      const outcome = validateResult('release_service', {
        service_name: 'svc',
        released_cores: cores,
        released_hugepages: [],
        total_available_cpus: 28,
        remaining_available_cpus: 28,
      });
      expect(outcome.ok, cores).to.equal(false);
    }
  });

  it('rejects a list entry without stale_cores', () => {
    const entry = {
      service_name: 'a',
      allocated_cores: '2',
      cores_count: 1,
      is_explicit: true,
      explicit_cores: '2',
      numa_nodes: [0],
      hugepages: [],
      preemption_policy: 'legacy',
      pool: 'isolated',
      cpu_thread_policy: 'prefer',
      isolated_siblings: '',
    };
    const outcome = validateResult('list_allocations', {
      pool: 'isolated',
      total_allocations: 1,
      total_allocated_cpus: 1,
      total_available_cpus: 4,
      remaining_available_cpus: 3,
      allocations: [entry],
      supported_cpu_features: ['non-preemptive-allocations', 'cpu-pools'],
      cpu_pool: { name: 'isolated', source: 'isolated', configured_cpus: '0-3', eligible_cpus: '0-3', unavailable_allocated_cpus: '', unavailable_reason: null },
    });
    expect(outcome.ok).to.equal(false);
    if (!outcome.ok) expect(outcome.errors).to.deep.equal([{ path: '/allocations/0/stale_cores', message: 'is required' }]);
  });
});

describe('schema: errors', () => {
  it('declares the standard JSON-RPC codes', () => {
    expect(Object.values(JSONRPC_ERRORS).map((e) => e.code)).to.deep.equal([-32700, -32600, -32601, -32602, -32603]);
  });

  it('declares the domain codes of the API', () => {
    expect(Object.fromEntries(Object.entries(DOMAIN_ERRORS).map(([reason, e]) => [reason, e.code]))).to.deep.equal({
      NO_ISOLATED_CPUS: -32001,
      INSUFFICIENT_CPUS: -32002,
      NUMA_NODE_NOT_FOUND: -32003,
      NUMA_TOPOLOGY_UNAVAILABLE: -32004,
      HUGEPAGE_SIZE_NOT_FOUND: -32005,
      INSUFFICIENT_HUGEPAGES: -32006,
      POLICY_CONFLICT: -32007,
      CPUS_UNAVAILABLE: -32008,
      POOL_NOT_FOUND: -32009,
      STATE_WRITE_FAILED: -32010,
      POOL_CONFLICT: -32011,
    });
  });

  const sentences: [DomainError, number, string, Record<string, unknown>][] = [
    [DomainErrors.noIsolatedCpus(), -32001, 'No CPUs available', { reason: 'NO_ISOLATED_CPUS' }],
    [
      DomainErrors.insufficientCpus(5, 3),
      -32002,
      'Insufficient CPUs available. Requested: 5, Available: 3',
      { reason: 'INSUFFICIENT_CPUS', requested: 5, available: 3 },
    ],
    [
      DomainErrors.insufficientNumaCpus(1, 5, 3, 'isolated'),
      -32002,
      'NUMA node 1 only has 3 isolated CPUs, but 5 were requested',
      { reason: 'INSUFFICIENT_CPUS', requested: 5, available: 3, numa_node: 1 },
    ],
    [
      DomainErrors.insufficientNumaCpus(0, 4, 2, 'general'),
      -32002,
      'NUMA node 0 only has 2 general CPUs, but 4 were requested',
      { reason: 'INSUFFICIENT_CPUS', requested: 4, available: 2, numa_node: 0 },
    ],
    [
      DomainErrors.numaNodeNotFound(7),
      -32003,
      'NUMA node 7 does not exist',
      { reason: 'NUMA_NODE_NOT_FOUND', numa_node: 7 },
    ],
    [
      DomainErrors.hugepageNodeNotFound(3),
      -32003,
      'NUMA node 3 not found',
      { reason: 'NUMA_NODE_NOT_FOUND', node_id: 3 },
    ],
    [
      DomainErrors.numaTopologyUnavailable(),
      -32004,
      'NUMA topology is not available on this host',
      { reason: 'NUMA_TOPOLOGY_UNAVAILABLE' },
    ],
    [
      DomainErrors.hugepageSizeNotFound(0, 4096),
      -32005,
      'Hugepage size 4096 KB not found on node 0',
      { reason: 'HUGEPAGE_SIZE_NOT_FOUND', node_id: 0, size_kb: 4096 },
    ],
    [
      DomainErrors.insufficientHugepages(0, 2048, 10, 5),
      -32006,
      'NUMA node 0 size 2048 KB only has 5 free hugepages, requested additional 10',
      { reason: 'INSUFFICIENT_HUGEPAGES', requested: 10, available: 5, node_id: 0, size_kb: 2048 },
    ],
    [
      DomainErrors.policyConflict(),
      -32007,
      'Fully release protected claims before selecting legacy policy',
      { reason: 'POLICY_CONFLICT' },
    ],
    [
      DomainErrors.cpusUnavailable('4-5'),
      -32008,
      'CPUs 4-5 of this protected allocation are no longer available; release them first',
      { reason: 'CPUS_UNAVAILABLE', cpus: '4-5' },
    ],
    [
      DomainErrors.poolNotFound('general'),
      -32009,
      'CPU pool general does not exist or is not configured',
      { reason: 'POOL_NOT_FOUND', pool: 'general' },
    ],
    [
      DomainErrors.stateWriteFailed('ENOSPC', 'unchanged'),
      -32010,
      'The change could not be saved (ENOSPC); nothing was changed',
      { reason: 'STATE_WRITE_FAILED', disk_state: 'unchanged' },
    ],
    [
      DomainErrors.stateWriteFailed('EIO', 'uncertain'),
      -32010,
      'The change could not be saved (EIO), and the state file may still hold it until it can be written again; changes are refused meanwhile',
      { reason: 'STATE_WRITE_FAILED', disk_state: 'uncertain' },
    ],
    [
      DomainErrors.poolConflict('general'),
      -32011,
      'The service holds CPUs in pool general; release that allocation in its pool first',
      { reason: 'POOL_CONFLICT', pool: 'general' },
    ],
  ];

  const ajv = new Ajv({ strict: true });
  const isErrorObject = ajv.compile(ErrorObject);
  const isDomainData = ajv.compile(DomainErrorData);

  for (const [error, code, message, data] of sentences) {
    it(`${error.reason}: "${message}"`, () => {
      expect(error).to.be.instanceOf(Error);
      expect(error).to.be.instanceOf(DomainError);
      expect(error.message).to.equal(message);
      expect(error.code).to.equal(code);
      expect(JSON.parse(JSON.stringify(error))).to.deep.equal({ code, message, data });
      expect(isErrorObject(error.toJSON())).to.equal(true);
      expect(isDomainData(error.data)).to.equal(true);
    });
  }

  it('has a factory for every reason', () => {
    expect(new Set(sentences.map(([error]) => error.reason))).to.have.keys(Object.keys(DOMAIN_ERRORS));
  });
});
