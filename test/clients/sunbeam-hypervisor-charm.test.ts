// The sunbeam openstack-hypervisor charm's OVS-DPDK configure against a real daemon, speaking
// exactly as the charm does (see sunbeam-hypervisor-charm.ts): every reply must come in one
// recv(4096) and carry no error, configure after configure, with DPDK on and with DPDK off — the
// off path releases every node and size, also on a host without isolated CPUs or 1 GiB pages.
import { expect } from 'chai';
import { daemonsPerTest } from '../support/daemon.js';
import { NO_ISOLATED_NO_1G, SAMPLE } from '../fixtures/hosts.js';
import { PYTHON_SNAP_STATE } from '../fixtures/python-state.js';
import { configureContext } from './openstack-hypervisor-snap.js';
import { CONTROL_PLANE, DATAPATH, EpaError, HUGEPAGES, handleOvsDpdk, SunbeamEpaClient, type DpdkConfig } from './sunbeam-hypervisor-charm.js';

const DPDK_ON: DpdkConfig = { enabled: true, memoryMb: 2048, controlPlaneCores: 2, datapathCores: 2, dpdkNumaNodes: [0], numaNodes: 2 };
const DPDK_OFF: DpdkConfig = { ...DPDK_ON, enabled: false };
const DPDK_SERVICES = [CONTROL_PLANE, DATAPATH, HUGEPAGES];

describe('clients: the sunbeam openstack-hypervisor charm', () => {
  const start = daemonsPerTest();

  it('writes its requests with json.dumps separators and no newline', async () => {
    const d = await start({ host: SAMPLE });
    const client = new SunbeamEpaClient(d.socketPath);
    await client.allocateHugepages(HUGEPAGES, -1, 1048576, 1);
    await client.allocateCores(DATAPATH, -1, 1);
    expect(client.sent).to.deep.equal([
      '{"version": "1.0", "service_name": "ovs-dpdk-hugepages", "action": "allocate_hugepages", "hugepages_requested": -1, "size_kb": 1048576, "node_id": 1}',
      '{"version": "1.0", "service_name": "ovs-dpdk-datapath", "action": "allocate_numa_cores", "num_of_cores": -1, "numa_node": 1}',
    ]);
  });

  it('claims pages and cores on the DPDK node, clears the others, and gets the same on every configure', async () => {
    const d = await start({ host: SAMPLE });
    const client = new SunbeamEpaClient(d.socketPath);
    const first = await handleOvsDpdk(client, DPDK_ON);
    expect(first).to.deep.equal({
      'network.ovs-dpdk-enabled': true,
      'network.ovs-memory': '2048,0',
      controlPlaneCpus: [2, 18],
      datapathCpus: [3, 19],
    });
    for (let configure = 0; configure < 2; configure++) expect(await handleOvsDpdk(client, DPDK_ON)).to.deep.equal(first);
    const listed = await d.call('list_allocations');
    expect(listed.allocations.map((a) => [a.service_name, a.allocated_cores, a.is_explicit, a.hugepages])).to.deep.equal([
      [CONTROL_PLANE, '2,18', true, []],
      [DATAPATH, '3,19', true, []],
      [HUGEPAGES, '', false, [{ node_id: 0, size_kb: 1048576, count: 2 }]],
    ]);
  });

  it('takes its cores beside the hypervisor snap, whichever configures first', async () => {
    for (const hypervisorFirst of [true, false]) {
      const d = await start({ host: SAMPLE });
      const client = new SunbeamEpaClient(d.socketPath);
      const before = hypervisorFirst ? await configureContext(d.socketPath) : undefined;
      const dpdk = await handleOvsDpdk(client, DPDK_ON);
      const hypervisor = await configureContext(d.socketPath);
      const pinned = SunbeamEpaClient.parseCoreList(hypervisor.allocated_cores);
      if (before) {
        // Its default share is now floor(0.8 × 24) = 19: it keeps 19 of the CPUs it had.
        expect(SunbeamEpaClient.parseCoreList(before.allocated_cores)).to.include.members(pinned);
        expect(pinned).to.have.length(19);
      }
      // Nothing is held twice, and the DPDK cores stay the DPDK services' on the next configure.
      const held = (await d.call('list_allocations')).allocations.flatMap((a) => SunbeamEpaClient.parseCoreList(a.allocated_cores));
      expect(new Set(held).size, `hypervisor first: ${hypervisorFirst}`).to.equal(held.length);
      expect(pinned.filter((cpu) => [...(dpdk.controlPlaneCpus ?? []), ...(dpdk.datapathCpus ?? [])].includes(cpu))).to.deep.equal([]);
      expect(await handleOvsDpdk(client, DPDK_ON)).to.deep.equal(dpdk);
      expect([dpdk.controlPlaneCpus, dpdk.datapathCpus, hypervisor.allocated_cores]).to.deep.equal(
        hypervisorFirst ? [[5, 21], [6, 22], '2-3,8-15,18,24-31'] : [[2, 18], [3, 19], '4-5,8-15,20,24-31'],
      );
    }
  });

  it('releases every node and size when DPDK is turned off, configure after configure', async () => {
    const d = await start({ host: SAMPLE, stateFile: PYTHON_SNAP_STATE });
    const client = new SunbeamEpaClient(d.socketPath);
    for (let configure = 0; configure < 2; configure++) expect(await handleOvsDpdk(client, DPDK_OFF)).to.deep.equal({ 'network.ovs-dpdk-enabled': false });
    const left = (await d.call('list_allocations')).allocations.map((a) => a.service_name);
    expect(left.filter((name) => DPDK_SERVICES.includes(name))).to.deep.equal([]);
    expect(client.sent).to.have.length(12);
  });

  it('configures with DPDK off on a host with no isolated CPUs and no 1 GiB pages', async () => {
    const d = await start({ host: NO_ISOLATED_NO_1G });
    const client = new SunbeamEpaClient(d.socketPath);
    for (let configure = 0; configure < 3; configure++) expect(await handleOvsDpdk(client, DPDK_OFF)).to.deep.equal({ 'network.ovs-dpdk-enabled': false });
    expect((await d.call('list_allocations')).allocations).to.deep.equal([]);
  });

  it('fails the DPDK configure there with the Python sentence, and holds nothing', async () => {
    const d = await start({ host: NO_ISOLATED_NO_1G });
    const client = new SunbeamEpaClient(d.socketPath);
    let failure: unknown;
    await handleOvsDpdk(client, DPDK_ON).catch((error: unknown) => (failure = error));
    expect(failure).to.be.instanceOf(EpaError);
    expect((failure as Error).message).to.match(/^EPA request failed\. Error: Hugepage size 1048576 KB not found on node 0, request: /);
    let coresFailure: unknown;
    await handleOvsDpdk(client, { ...DPDK_ON, memoryMb: 0 }).catch((error: unknown) => (coresFailure = error));
    expect((coresFailure as Error).message).to.match(/^EPA request failed\. Error: No CPUs available, /);
    expect((await d.call('list_allocations')).allocations).to.deep.equal([]);
  });
});
