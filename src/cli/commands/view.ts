// `status`, `topology`, `memory`: read-only calls shown as tables, or as raw JSON with --json.
import type { ErrorReason, ResultOf } from '../../../schema/index.js';
import { RpcError, type SocketClient } from '../client.js';
import type { ViewRequest } from '../program.js';
import { formatJson } from '../table.js';
import { formatMemory, formatStatus, formatTopology } from '../views.js';
import { withClient } from './session.js';

type Allocations = ResultOf<'list_allocations'>;

const UNCONFIGURED: ErrorReason = 'POOL_NOT_FOUND';

/** list_allocations of the general pool; undefined when the daemon has none configured. */
async function generalPool(client: SocketClient): Promise<Allocations | undefined> {
  try {
    const list = await client.call<Allocations>('list_allocations', { pool: 'general' });
    return list.cpu_pool.name === 'general' ? list : undefined;
  } catch (error) {
    if (error instanceof RpcError && (error.data as { reason?: unknown } | undefined)?.reason === UNCONFIGURED) return undefined;
    throw error;
  }
}

/** The pool named, or every configured pool. */
async function poolLists(client: SocketClient, pool: string | undefined): Promise<Allocations[]> {
  if (pool !== undefined) return [await client.call<Allocations>('list_allocations', { pool })];
  const [isolated, general] = await Promise.all([client.call<Allocations>('list_allocations'), generalPool(client)]);
  return general === undefined ? [isolated] : [isolated, general];
}

async function status(client: SocketClient, json: boolean, pool: string | undefined): Promise<string> {
  const [lists, topology] = await Promise.all([poolLists(client, pool), client.call<ResultOf<'get_topology'>>('get_topology')]);
  if (!json) return formatStatus(lists, topology);
  return formatJson({
    list_allocations: Object.fromEntries(lists.map((list) => [list.cpu_pool.name, list])),
    get_topology: topology,
  });
}

export async function view({ view, socket, json, pool }: ViewRequest): Promise<void> {
  const text = await withClient(socket, async (client): Promise<string> => {
    switch (view) {
      case 'status':
        return status(client, json, pool);
      case 'topology': {
        const topology = await client.call<ResultOf<'get_topology'>>('get_topology');
        return json ? formatJson(topology) : formatTopology(topology);
      }
      case 'memory': {
        const memory = await client.call<ResultOf<'get_memory_info'>>('get_memory_info');
        return json ? formatJson(memory) : formatMemory(memory);
      }
    }
  });
  process.stdout.write(text);
}
