// `nova-config --service NAME [--pool POOL]`: get_nova_config printed as nova.conf lines, or as
// the raw result with --json.
import type { NovaConfigRequest } from '../program.js';
import { formatNovaConfig } from '../nova-conf.js';
import { formatJson } from '../table.js';
import { withClient } from './session.js';

/** The pool the daemon takes when a request names none. */
const DEFAULT_POOL = 'isolated';

export async function novaConfig({ socket, json, service, pool }: NovaConfigRequest): Promise<void> {
  const config = await withClient(socket, (client) =>
    client.get_nova_config({ service_name: service, ...(pool === undefined ? {} : { pool }) }),
  );
  process.stdout.write(json ? formatJson(config) : formatNovaConfig(config, pool ?? DEFAULT_POOL));
}
