// What `nova-config` prints: get_nova_config as nova.conf options. Pure: the result in, text out.
import type { ResultOf } from '../client/index.js';

type NovaConfig = ResultOf<'get_nova_config'>;

/**
 * nova.conf text, ending in "\n": `[compute]` with cpu_dedicated_set and cpu_shared_set, then
 * `[DEFAULT]` with one reserved_huge_pages line per entry (an oslo.config MultiStrOpt). An option
 * with nothing to set is left out and a comment in its place says why: Nova takes an empty value
 * as unset anyway, and an `option =` line with nothing after it reads like a mistake. `pool` is
 * the pool the CPUs come from, named in those comments.
 */
export function formatNovaConfig(config: NovaConfig, pool: string): string {
  const compute = [
    config.cpu_dedicated_set === ''
      ? `# cpu_dedicated_set: ${config.service_name} holds no CPUs of the pool ${pool}`
      : `cpu_dedicated_set = ${config.cpu_dedicated_set}`,
    config.cpu_shared_set === ''
      ? `# cpu_shared_set: no CPU of the pool ${pool} is left free`
      : `cpu_shared_set = ${config.cpu_shared_set}`,
  ];
  const reserved =
    config.reserved_huge_pages.length === 0
      ? [`# reserved_huge_pages: no other service reserves hugepages`]
      : config.reserved_huge_pages.map((entry) => `reserved_huge_pages = ${entry}`);
  return ['[compute]', ...compute, '', '[DEFAULT]', ...reserved, ''].join('\n');
}
