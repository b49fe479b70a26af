// The ceph-osd charm (2026) against a real daemon, speaking exactly as the charm does (see
// ceph-osd-charm.ts): it reads every reply until EOF with a 30 s timeout, so each one must be
// followed by the close; it checks the capability, claims protected CPUs in the general pool it
// configured, sees its policy confirmed, claims again on the next configure, and releases on every
// node when its OSDs go.
import { expect } from 'chai';
import { daemonsPerTest } from '../support/daemon.js';
import { NO_ISOLATED_NO_1G, SAMPLE } from '../fixtures/hosts.js';
import { PYTHON_SNAP_GENERAL_POOL, PYTHON_SNAP_STATE } from '../fixtures/python-state.js';
import {
  allocationsByService,
  CephEpaClient,
  claimOsds,
  eligibleCpus,
  EpaRequestError,
  NON_PREEMPTIVE,
  releaseOsds,
  serviceNameFor,
} from './ceph-osd-charm.js';
import { expectPythonReply } from './python-replies.js';

describe('clients: the ceph-osd charm', () => {
  const start = daemonsPerTest();

  for (const [name, host, generalPool, numaNodes] of [
    ['the sample host', SAMPLE, '0-1,16-17', 2],
    ['a host with no isolated CPUs and no 1 GiB pages', NO_ISOLATED_NO_1G, '0-1,8-9', 2],
  ] as const) {
    it(`claims, claims again and releases its OSDs' CPUs on ${name}`, async () => {
      const d = await start({ host, config: { generalPool } });
      const client = new CephEpaClient(d.socketPath, 'general');
      const listing = await client.listAllocations();
      expectPythonReply('list_allocations', listing);
      expect(CephEpaClient.supportsNonPreemptive(listing)).to.equal(true);
      expect(listing).to.deep.include({ pool: 'general', cpu_pool: { ...(listing.cpu_pool as object), source: 'configured' } });
      const eligible = eligibleCpus(listing);
      expect(eligible).to.have.length(4);

      const claims = [
        { osd: 0, numaNode: 0, cores: 2 },
        { osd: 1, numaNode: 0, cores: 2 },
      ];
      const first = await claimOsds(client, claims);
      const granted = [...first.values()].flat();
      expect(granted.sort((a, b) => a - b)).to.deep.equal([...eligible].sort((a, b) => a - b));
      expect(await claimOsds(client, claims), 'the same CPUs on the next configure').to.deep.equal(first);

      const owned = allocationsByService(await client.listAllocations());
      expect([...owned.keys()]).to.deep.equal([serviceNameFor(0), serviceNameFor(1)]);
      for (const entry of owned.values()) expect(entry.policy).to.equal(NON_PREEMPTIVE);

      await releaseOsds(client, [0, 1], numaNodes);
      expect(allocationsByService(await client.listAllocations()).size).to.equal(0);
      expect((await d.call('list_allocations', { pool: 'general' })).allocations).to.deep.equal([]);
    });
  }

  it('gets its protected CPUs back after the upgrade from the Python snap, and nobody can take them', async () => {
    const d = await start({ host: SAMPLE, stateFile: PYTHON_SNAP_STATE, config: { generalPool: PYTHON_SNAP_GENERAL_POOL } });
    const client = new CephEpaClient(d.socketPath, 'general');
    const granted = await claimOsds(client, [{ osd: 0, numaNode: 0, cores: 2 }]);
    expect(granted.get(0)).to.deep.equal([1, 17]);
    // Another OSD's request for more than is left is refused; the claim stands.
    let refused: unknown;
    await client.allocateNumaCores(serviceNameFor(7), 0, 4).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(EpaRequestError);
    expect((refused as Error).message).to.equal('NUMA node 0 only has 2 general CPUs, but 4 were requested');
    expect(allocationsByService(await client.listAllocations()).get(serviceNameFor(0))).to.deep.equal({ cores: [1, 17], policy: NON_PREEMPTIVE });
  });

  it('is told the daemon cannot claim in a pool that is not configured', async () => {
    const d = await start({ host: SAMPLE });
    const client = new CephEpaClient(d.socketPath, 'general');
    let refused: unknown;
    await client.listAllocations().catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(EpaRequestError);
    expect((refused as Error).message).to.equal('CPU pool general does not exist or is not configured');
  });
});
