// The sunbeam openstack-hypervisor charm, as it talks to the daemon (src/epa_client.py and the
// OVS-DPDK part of src/charm.py): json.dumps(request) with its default ", " / ": " separators and
// no newline, one recv(4096) with no timeout, json.loads, and a truthy `error` raises. Core lists
// are read from `cores_allocated`. On every configure it claims or clears, node by node, 1 GiB
// pages for OVS-DPDK and the cores of its control plane and datapath.
import { PythonSocket, pythonJson, pythonLoads } from './python-socket.js';

export const HUGEPAGES = 'ovs-dpdk-hugepages';
export const CONTROL_PLANE = 'ovs-dpdk-control-plane';
export const DATAPATH = 'ovs-dpdk-datapath';
const ONE_GIB_KB = 1024 * 1024;

/** EPAError: the daemon answered with an error. */
export class EpaError extends Error {}

export class SunbeamEpaClient {
  /** Every request sent, in order, as the charm wrote it. */
  readonly sent: string[] = [];

  constructor(private readonly socketPath: string) {}

  async #send(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const text = pythonJson(request);
    this.sent.push(text);
    const socket = await PythonSocket.connect(this.socketPath);
    let reply: Buffer;
    try {
      await socket.sendall(text);
      reply = await socket.recv(4096);
    } finally {
      socket.close();
    }
    const parsed = pythonLoads(reply) as Record<string, unknown>;
    if (parsed.error) throw new EpaError(`EPA request failed. Error: ${typeof parsed.error === 'string' ? parsed.error : JSON.stringify(parsed.error)}, request: ${text}`);
    return parsed;
  }

  /** "" → [], "1-4,9" → [1, 2, 3, 4, 9], as _parse_epa_core_list reads them. */
  static parseCoreList(text: string): number[] {
    return text
      .split(',')
      .filter((part) => part !== '')
      .flatMap((part) => {
        const [start, end] = part.split('-').map(Number) as [number, number | undefined];
        return end === undefined ? [start] : Array.from({ length: end - start + 1 }, (_, i) => start + i);
      });
  }

  /** allocate_cores(service, count, numa_node): with a node it is allocate_numa_cores. */
  async allocateCores(serviceName: string, coreCount: number, numaNode?: number): Promise<number[]> {
    const request: Record<string, unknown> = { version: '1.0', service_name: serviceName, action: 'allocate_cores', num_of_cores: coreCount };
    if (numaNode !== undefined) {
      request.numa_node = numaNode;
      request.action = 'allocate_numa_cores';
    }
    const response = await this.#send(request);
    return SunbeamEpaClient.parseCoreList(response.cores_allocated as string);
  }

  async allocateHugepages(serviceName: string, hugepagesRequested: number, sizeKb: number, numaNode: number): Promise<void> {
    await this.#send({
      version: '1.0',
      service_name: serviceName,
      action: 'allocate_hugepages',
      hugepages_requested: hugepagesRequested,
      size_kb: sizeKb,
      node_id: numaNode,
    });
  }
}

export interface DpdkConfig {
  readonly enabled: boolean;
  /** dpdk-memory (MB); 0 asks for no hugepages. */
  readonly memoryMb: number;
  readonly controlPlaneCores: number;
  readonly datapathCores: number;
  /** The nodes of the DPDK ports. */
  readonly dpdkNumaNodes: readonly number[];
  /** How many NUMA nodes the host has. */
  readonly numaNodes: number;
}

/** The snap settings the charm derives from its EPA answers. */
export interface DpdkSettings {
  readonly 'network.ovs-dpdk-enabled': boolean;
  readonly 'network.ovs-memory'?: string;
  readonly controlPlaneCpus?: readonly number[];
  readonly datapathCpus?: readonly number[];
}

/** _allocate_dpdk_cores(): the share of each DPDK node, and a release on every other node. */
async function allocateDpdkCores(client: SunbeamEpaClient, name: string, count: number, config: DpdkConfig): Promise<number[]> {
  const perNode = Math.floor(count / config.dpdkNumaNodes.length);
  const cores: number[] = [];
  for (let node = 0; node < config.numaNodes; node++) {
    if (config.dpdkNumaNodes.includes(node)) cores.push(...(await client.allocateCores(name, perNode, node)));
    else await client.allocateCores(name, -1, node);
  }
  return cores;
}

/** _handle_ovs_dpdk(): what one configure hook asks of the daemon. */
export async function handleOvsDpdk(client: SunbeamEpaClient, config: DpdkConfig): Promise<DpdkSettings> {
  if (!config.enabled) {
    // _clear_dpdk_allocations()
    for (let node = 0; node < config.numaNodes; node++) {
      await client.allocateHugepages(HUGEPAGES, -1, ONE_GIB_KB, node);
      await client.allocateCores(CONTROL_PLANE, -1, node);
      await client.allocateCores(DATAPATH, -1, node);
    }
    return { 'network.ovs-dpdk-enabled': false };
  }
  let memory: string | undefined;
  if (config.memoryMb) {
    const perNodeMb = Math.floor(config.memoryMb / config.dpdkNumaNodes.length);
    const perNode: string[] = [];
    for (let node = 0; node < config.numaNodes; node++) {
      if (config.dpdkNumaNodes.includes(node)) {
        await client.allocateHugepages(HUGEPAGES, Math.floor(perNodeMb / 1024), ONE_GIB_KB, node);
        perNode.push(String(perNodeMb));
      } else {
        await client.allocateHugepages(HUGEPAGES, -1, ONE_GIB_KB, node);
        perNode.push('0');
      }
    }
    memory = perNode.join(',');
  }
  const cores = async (name: string, count: number): Promise<number[] | undefined> => {
    if (count) return allocateDpdkCores(client, name, count, config);
    for (let node = 0; node < config.numaNodes; node++) await client.allocateCores(name, -1, node);
    return undefined;
  };
  const controlPlaneCpus = await cores(CONTROL_PLANE, config.controlPlaneCores);
  const datapathCpus = await cores(DATAPATH, config.datapathCores);
  return {
    'network.ovs-dpdk-enabled': true,
    ...(memory === undefined ? {} : { 'network.ovs-memory': memory }),
    ...(controlPlaneCpus === undefined ? {} : { controlPlaneCpus }),
    ...(datapathCpus === undefined ? {} : { datapathCpus }),
  };
}
