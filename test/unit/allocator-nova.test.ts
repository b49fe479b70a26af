// get_nova_config on the sample host (pool 2-15,18-31; cpu i and i+16 siblings; 512 × 2 MiB and
// 4 × 1 GiB free per node): the service's CPUs are Nova's dedicated set, the pool's free CPUs its
// shared set, and the other services' hugepage reservations, summed per node and size, what Nova
// must keep from its guests.
import { expect } from 'chai';
import { Ledger, novaConfig } from '../../src/allocator/index.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { after, cores, domainError, hugepages, machine, machineWith, numa } from './allocator-harness.js';

describe('allocator: get_nova_config', () => {
  const m = machine(SAMPLE);

  it("gives the service's CPUs, the pool's free CPUs and every other service's hugepages", () => {
    const ledger = after(m, [
      cores('nova', 4),
      numa('ovs', 1, 2),
      hugepages('ovs', 0, 2048, 64),
      hugepages('ovs', 1, 1048576, 2),
      hugepages('dpdk-app', 0, 2048, 16),
      hugepages('nova', 0, 2048, 8),
    ]);
    expect(novaConfig(m.host, ledger, { service_name: 'nova' })).to.deep.equal({
      service_name: 'nova',
      cpu_dedicated_set: '2-3,18-19',
      cpu_shared_set: '4-7,9-15,20-23,25-31',
      reserved_huge_pages: ['node:0,size:2048,count:80', 'node:1,size:1048576,count:2'],
    });
  });

  it('answers for a service that holds nothing: no dedicated CPUs, every reservation is another\'s', () => {
    const ledger = after(m, [hugepages('ovs', 0, 2048, 64)]);
    expect(novaConfig(m.host, ledger, { service_name: 'nova' })).to.deep.equal({
      service_name: 'nova',
      cpu_dedicated_set: '',
      cpu_shared_set: '2-15,18-31',
      reserved_huge_pages: ['node:0,size:2048,count:64'],
    });
    expect(novaConfig(m.host, Ledger.EMPTY, { service_name: 'nova' }).reserved_huge_pages).to.deep.equal([]);
  });

  it('names the pool the service is in; another pool is a conflict, an unknown one not found', () => {
    const g = machineWith(SAMPLE, { general: '0-1,16-17' });
    const ledger = after(g, [cores('nova', 2, { pool: 'general' })]);
    expect(novaConfig(g.host, ledger, { service_name: 'nova', pool: 'general' })).to.include({
      cpu_dedicated_set: '0,16',
      cpu_shared_set: '1,17',
    });
    domainError(() => novaConfig(g.host, ledger, { service_name: 'nova' }), 'POOL_CONFLICT');
    domainError(() => novaConfig(m.host, Ledger.EMPTY, { service_name: 'nova', pool: 'shared' }), 'POOL_NOT_FOUND');
  });
});
