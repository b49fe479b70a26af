// get_nova_config: what Nova's nova.conf needs of the service that runs it. Its CPUs are the
// dedicated set, the pool's free CPUs the shared set, and every other service's hugepage
// reservations are what Nova must keep from its guests (OVS-DPDK's, typically).
import type { GetNovaConfigParams, GetNovaConfigResult } from '../../schema/index.js';
import { claim } from './cores.js';
import type { HostView } from './host-view.js';
import type { Ledger } from './ledger.js';

export function novaConfig(host: HostView, ledger: Ledger, p: GetNovaConfigParams): GetNovaConfigResult {
  const { pool, record } = claim(host, ledger, p.service_name, p.pool);
  const own = (node: number, size: number) =>
    record.hugepages.find((h) => h.node_id === node && h.size_kb === size)?.count ?? 0;
  return {
    service_name: p.service_name,
    cpu_dedicated_set: record.cpus.toString(),
    cpu_shared_set: pool.eligible.difference(ledger.owned).toString(),
    reserved_huge_pages: ledger
      .reservations()
      .map((h) => ({ ...h, count: h.count - own(h.node_id, h.size_kb) }))
      .filter((h) => h.count > 0)
      .map((h) => `node:${h.node_id},size:${h.size_kb},count:${h.count}`),
  };
}
