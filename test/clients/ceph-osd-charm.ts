// The ceph-osd charm (2026), as it talks to the daemon (hooks/epa_client.py): the payload plus
// "version":"1.0" as json.dumps writes it, a 30 s socket timeout, sendall, then recv(65536) until
// EOF — so the daemon must close the connection after its reply — json.loads, and an `error`
// member raises. It checks `supported_cpu_features` before relying on protected claims, claims
// every CPU `non-preemptive` in the `general` pool it configured, and checks that the daemon
// confirms the policy in each reply.
import { PythonSocket, pythonJson, pythonLoads, recvUntilEof } from './python-socket.js';

export const CHARM_SERVICE = 'ceph-osd-charm';
export const NON_PREEMPTIVE = 'non-preemptive';
const FEATURE_NON_PREEMPTIVE = 'non-preemptive-allocations';
const TIMEOUT_MS = 30_000;

export class EpaUnavailable extends Error {}
export class EpaRequestError extends Error {}
export class EpaUnsupported extends Error {}

export const serviceNameFor = (osdId: number): string => `ceph-osd.${osdId}`;

/** "" → [], "1-4,9" → [1, 2, 3, 4, 9], as host_topology.parse_cpu_list reads them. */
export function parseCpuList(text: string): number[] {
  return text
    .split(',')
    .filter((part) => part.trim() !== '')
    .flatMap((part) => {
      const [start, end] = part.split('-').map(Number) as [number, number | undefined];
      return end === undefined ? [start] : Array.from({ length: end - start + 1 }, (_, i) => start + i);
    });
}

export class CephEpaClient {
  constructor(
    private readonly socketPath: string,
    /** The pool the charm configured and claims from ("general"), named on every request. */
    private readonly pool: string,
  ) {}

  async #request(payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const body = { ...payload, pool: this.pool, version: '1.0' };
    let raw: Buffer;
    let socket: PythonSocket | undefined;
    try {
      socket = await PythonSocket.connect(this.socketPath, TIMEOUT_MS);
      await socket.sendall(pythonJson(body));
      raw = await recvUntilEof(socket, 65536);
    } catch (error) {
      throw new EpaUnavailable(`EPA orchestrator socket ${this.socketPath} unavailable: ${(error as Error).message}`);
    } finally {
      socket?.close();
    }
    if (raw.length === 0) throw new EpaUnavailable('EPA orchestrator returned an empty response');
    const response = pythonLoads(raw) as Record<string, unknown>;
    if ('error' in response) throw new EpaRequestError(String(response.error));
    return response;
  }

  listAllocations(): Promise<Record<string, unknown>> {
    return this.#request({ action: 'list_allocations', service_name: CHARM_SERVICE });
  }

  /** Older daemons ignore unknown fields, so only the advertised capability counts. */
  static supportsNonPreemptive(listing: Record<string, unknown>): boolean {
    return ((listing.supported_cpu_features as unknown[] | undefined) ?? []).includes(FEATURE_NON_PREEMPTIVE);
  }

  static #checkPolicy(response: Record<string, unknown>): Record<string, unknown> {
    if (response.preemption_policy !== NON_PREEMPTIVE) {
      throw new EpaUnsupported(`EPA orchestrator did not confirm the ${NON_PREEMPTIVE} policy (got ${JSON.stringify(response.preemption_policy)})`);
    }
    return response;
  }

  async allocateNumaCores(service: string, numaNode: number, count: number): Promise<number[]> {
    const response = CephEpaClient.#checkPolicy(
      await this.#request({ action: 'allocate_numa_cores', service_name: service, numa_node: numaNode, num_of_cores: count, preemption_policy: NON_PREEMPTIVE }),
    );
    return parseCpuList((response.cores_allocated as string | undefined) ?? '');
  }

  async allocateCores(service: string, count: number): Promise<number[]> {
    const response = CephEpaClient.#checkPolicy(
      await this.#request({ action: 'allocate_cores', service_name: service, num_of_cores: count, preemption_policy: NON_PREEMPTIVE }),
    );
    return parseCpuList((response.allocated_cores as string | undefined) ?? '');
  }

  async releaseNumaNode(service: string, numaNode: number): Promise<void> {
    await this.#request({ action: 'allocate_numa_cores', service_name: service, numa_node: numaNode, num_of_cores: -1 });
  }

  async release(service: string): Promise<void> {
    await this.#request({ action: 'allocate_cores', service_name: service, num_of_cores: -1 });
  }
}

/** The CPUs the daemon may grant, per a list_allocations reply (cpu_pool.eligible_cpus). */
export function eligibleCpus(listing: Record<string, unknown>): number[] {
  return parseCpuList(((listing.cpu_pool as Record<string, unknown> | undefined)?.eligible_cpus as string | undefined) ?? '');
}

/** Each listed service with its CPUs and policy, as allocations_by_service reads the listing. */
export function allocationsByService(listing: Record<string, unknown>): Map<string, { cores: number[]; policy: unknown }> {
  const entries = (listing.allocations as Record<string, unknown>[] | undefined) ?? [];
  return new Map(
    entries
      .filter((entry) => typeof entry.service_name === 'string' && entry.service_name !== '')
      .map((entry) => [entry.service_name as string, { cores: parseCpuList((entry.allocated_cores as string) || ''), policy: entry.preemption_policy }]),
  );
}

export interface OsdClaim {
  readonly osd: number;
  readonly numaNode: number;
  readonly cores: number;
}

/** One configure of the charm: wait for the daemon, check the capability, claim each OSD's CPUs. */
export async function claimOsds(client: CephEpaClient, claims: readonly OsdClaim[]): Promise<Map<number, number[]>> {
  const listing = await client.listAllocations();
  if (!CephEpaClient.supportsNonPreemptive(listing)) throw new EpaUnsupported('the EPA orchestrator does not offer non-preemptive allocations');
  const granted = new Map<number, number[]>();
  for (const claim of claims) granted.set(claim.osd, await client.allocateNumaCores(serviceNameFor(claim.osd), claim.numaNode, claim.cores));
  return granted;
}

/** Removing the OSDs: their CPUs on every node, then every claim of each. */
export async function releaseOsds(client: CephEpaClient, osds: readonly number[], numaNodes: number): Promise<void> {
  for (const osd of osds) {
    for (let node = 0; node < numaNodes; node++) await client.releaseNumaNode(serviceNameFor(osd), node);
    await client.release(serviceNameFor(osd));
  }
}
