// `status`, `topology`, `memory`: read-only calls shown as tables, or as raw JSON with --json.
import type { ErrorReason, ResultOf } from '../../../schema/index.js';
import { EpaError, type EpaClient } from '../../client/index.js';
import type { TableRequest } from '../program.js';
import { formatJson } from '../table.js';
import { formatMemory, formatStatus, formatTopology } from '../reports.js';
import { withClient } from './session.js';

type Allocations = ResultOf<'list_allocations'>;

const UNCONFIGURED: ErrorReason = 'POOL_NOT_FOUND';

/** list_allocations of the general pool; undefined when the daemon has none configured. */
async function generalPool(client: EpaClient): Promise<Allocations | undefined> {
  try {
    const list = await client.list_allocations({ pool: 'general' });
    return list.cpu_pool.name === 'general' ? list : undefined;
  } catch (error) {
    if (error instanceof EpaError && error.reason === UNCONFIGURED) return undefined;
    throw error;
  }
}

/** The pool named, or every configured pool. */
async function poolLists(client: EpaClient, pool: string | undefined): Promise<Allocations[]> {
  if (pool !== undefined) return [await client.list_allocations({ pool })];
  const [isolated, general] = await Promise.all([client.list_allocations(), generalPool(client)]);
  return general === undefined ? [isolated] : [isolated, general];
}

async function status(client: EpaClient, json: boolean, pool: string | undefined): Promise<string> {
  const [lists, topology, memory] = await Promise.all([poolLists(client, pool), client.get_topology(), client.get_memory_info()]);
  if (!json) return formatStatus(lists, topology, memory);
  return formatJson({
    list_allocations: Object.fromEntries(lists.map((list) => [list.cpu_pool.name, list])),
    get_topology: topology,
    get_memory_info: memory,
  });
}

export async function view({ view, socket, json, pool }: TableRequest): Promise<void> {
  const text = await withClient(socket, async (client): Promise<string> => {
    switch (view) {
      case 'status':
        return status(client, json, pool);
      case 'topology': {
        const topology = await client.get_topology();
        return json ? formatJson(topology) : formatTopology(topology);
      }
      case 'memory': {
        const memory = await client.get_memory_info();
        return json ? formatJson(memory) : formatMemory(memory);
      }
    }
  });
  process.stdout.write(text);
}
