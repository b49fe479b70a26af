// A client of the Python snap's short-lived explicitly_allocate_cores action (August 2025), as
// such clients still send it: json.dumps of {"version","service_name","action","cores_requested"}
// with the CPUs joined by commas, sendall, one recv(4096), json.loads; an `error` member raises,
// and so does a non-empty `cores_rejected` ("Unable to reserve cores").
import { expect } from 'chai';
import { SAMPLE } from '../fixtures/hosts.js';
import { daemonsPerTest } from '../support/daemon.js';
import { expectPythonError, expectPythonReply } from './python-replies.js';
import { PythonSocket, pythonJson, pythonLoads } from './python-socket.js';

async function explicitlyAllocate(socketPath: string, service: string, cores: readonly number[]): Promise<Record<string, unknown>> {
  const socket = await PythonSocket.connect(socketPath);
  try {
    const request = { version: '1.0', service_name: service, action: 'explicitly_allocate_cores', cores_requested: cores.join(',') };
    await socket.sendall(pythonJson(request));
    return pythonLoads(await socket.recv(4096)) as Record<string, unknown>;
  } finally {
    socket.close();
  }
}

describe('clients: explicitly_allocate_cores in the one-shot protocol', () => {
  const start = daemonsPerTest();

  it('reserves the CPUs it names, with every field of the Python reply and no rejected CPU', async () => {
    const d = await start({ host: SAMPLE });
    const reply = await explicitlyAllocate(d.socketPath, 'dpdk', [4, 5, 20, 21]);
    expectPythonReply('explicitly_allocate_cores', reply);
    expect(reply).to.deep.include({ cores_requested: '4,5,20,21', cores_allocated: '4-5,20-21', cores_rejected: '' });
    const listed = (await d.call('list_allocations')) as { allocations: { service_name: string; explicit_cores: string }[] };
    expect(listed.allocations.find((a) => a.service_name === 'dpdk')?.explicit_cores).to.equal('4-5,20-21');
  });

  it('is told which CPUs it cannot have, and gets the Python sentence when it can have none', async () => {
    const d = await start({ host: SAMPLE });
    await d.call('allocate_numa_cores', { service_name: 'ovs', numa_node: 1, num_of_cores: 2 });
    const partly = await explicitlyAllocate(d.socketPath, 'dpdk', [8, 9]);
    expect(partly).to.deep.include({ cores_allocated: '9', cores_rejected: '8' });
    const none = await explicitlyAllocate(d.socketPath, 'other', [0, 8]);
    expect(expectPythonError(none)).to.equal('Failed to allocate requested explicit cores; conflicts with existing explicit allocations: 0,8');
  });
});
