// The openstack-hypervisor snap's configure hook against a real daemon, speaking exactly as the
// snap does (see openstack-hypervisor-snap.ts): it must get its CPU pinning with no error, the
// same CPUs on every configure, on a fresh host and after an upgrade from the Python snap's state;
// on a host without isolated CPUs it must be able to go on without pinning.
import { expect } from 'chai';
import { daemonsPerTest } from '../support/daemon.js';
import { NO_ISOLATED_NO_1G, SAMPLE } from '../fixtures/hosts.js';
import { PYTHON_SNAP_STATE } from '../fixtures/python-state.js';
import { configureContext, cpuPercentFromSocket, SERVICE_NAME } from './openstack-hypervisor-snap.js';
import { pydanticJson } from './python-socket.js';

describe('clients: the openstack-hypervisor snap', () => {
  const start = daemonsPerTest();

  it('sends the request the issue quotes, byte for byte', () => {
    expect(pydanticJson({ version: '1.0', action: 'allocate_cores', service_name: SERVICE_NAME, num_of_cores: 0, numa_node: null })).to.equal(
      '{"version":"1.0","action":"allocate_cores","service_name":"openstack-hypervisor","num_of_cores":0,"numa_node":null}',
    );
  });

  it('gets its default share on the sample host, and the same CPUs on every configure', async () => {
    const d = await start({ host: SAMPLE });
    const first = await configureContext(d.socketPath);
    expect(first.warning).to.equal(undefined);
    // 28 pool CPUs, none held by others: floor(0.8 × 28) = 22; no node has 22, so node 1 whole
    // (16), then 3 whole cores of node 0.
    expect(first).to.deep.equal({ cpu_shared_set: '5-7,21-23', allocated_cores: '2-4,8-15,18-20,24-31' });
    for (let configure = 0; configure < 3; configure++) expect(await configureContext(d.socketPath)).to.deep.equal(first);
    const [entry] = (await d.call('list_allocations')).allocations;
    expect(entry).to.include({ service_name: SERVICE_NAME, allocated_cores: first.allocated_cores, is_explicit: false });
  });

  it('keeps its CPUs across the upgrade from the Python snap, beside the explicit OVS-DPDK cores', async () => {
    const d = await start({ host: SAMPLE, stateFile: PYTHON_SNAP_STATE });
    expect(await configureContext(d.socketPath)).to.deep.equal({ cpu_shared_set: '27-31', allocated_cores: '4-15,20-26' });
    const listed = await d.call('list_allocations');
    expect(listed.allocations.map((a) => [a.service_name, a.allocated_cores])).to.deep.equal([
      ['openstack-hypervisor', '4-15,20-26'],
      ['ovs-dpdk-control-plane', '2,18'],
      ['ovs-dpdk-datapath', '3,19'],
      ['ovs-dpdk-hugepages', ''],
    ]);
  });

  it('gets a percentage of the pool with the newer snap, validated by its model', async () => {
    const d = await start({ host: SAMPLE });
    // ceil(28 × 50%) = 14: node 1 is the only node with 14 free, 7 whole cores of it.
    expect(await cpuPercentFromSocket(d.socketPath, 50)).to.equal('8-14,24-30');
    expect(await cpuPercentFromSocket(d.socketPath, 50), 're-claim').to.equal('8-14,24-30');
  });

  it('goes on without CPU pinning on a host with no isolated CPUs, and nothing is held', async () => {
    const d = await start({ host: NO_ISOLATED_NO_1G });
    for (let configure = 0; configure < 2; configure++) {
      expect(await configureContext(d.socketPath)).to.deep.equal({
        cpu_shared_set: '',
        allocated_cores: '',
        warning: 'Failed to get CPU pinning info from EPA orchestrator: No CPUs available',
      });
    }
    expect((await d.call('list_allocations')).allocations).to.deep.equal([]);
  });
});
