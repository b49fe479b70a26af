// The calls whose real replies are the examples of docs/api.md. SESSION runs in this order, each
// call answered before the next is sent, once per protocol on a fresh daemon serving the sample
// host, so both protocols show the same CPUs. A method's first call is its example; its later
// calls show how it fails (they change nothing).
import type { MethodName } from '../../schema/index.js';

export const DISCOVER = 'rpc.discover';

export interface Call {
  readonly method: MethodName | typeof DISCOVER;
  readonly params: Readonly<Record<string, unknown>>;
  /** What the call shows, above its example. */
  readonly caption: string;
}

export const SESSION: readonly Call[] = [
  {
    method: 'allocate_cores',
    params: { service_name: 'nova', num_of_cores: 4 },
    caption: 'nova asks for 4 CPUs on the empty host.',
  },
  {
    method: 'allocate_cores',
    params: { service_name: 'nova', num_of_cores: 40 },
    caption: 'More CPUs than are free.',
  },
  {
    method: 'allocate_cores_percent',
    params: { service_name: 'ceph-osd', percent: 25 },
    caption: 'ceph-osd asks for a quarter of the pool, rounded up.',
  },
  {
    method: 'allocate_cores_percent',
    params: { service_name: 'ceph-osd', percent: 150 },
    caption: 'A percent out of range: invalid params.',
  },
  {
    method: 'allocate_numa_cores',
    params: { service_name: 'ovs', numa_node: 1, num_of_cores: 2 },
    caption: 'ovs asks for 2 explicit CPUs of node 1.',
  },
  {
    method: 'allocate_numa_cores',
    params: { service_name: 'ovs', numa_node: 7, num_of_cores: 2 },
    caption: 'A node the host does not have.',
  },
  {
    method: 'explicitly_allocate_cores',
    params: { service_name: 'pmd', cores_requested: '8,12-13', cpu_thread_policy: 'isolate' },
    caption:
      'pmd names its CPUs, each alone on its core: 8 is held explicitly by ovs and is rejected; 12 and 13 are given, and their siblings 28 and 29 held idle for pmd.',
  },
  {
    method: 'explicitly_allocate_cores',
    params: { service_name: 'pmd2', cores_requested: '0-1' },
    caption: 'CPUs out of the pool: none can be given.',
  },
  {
    method: 'allocate_hugepages',
    params: { service_name: 'ovs', node_id: 0, size_kb: 2048, hugepages_requested: 64 },
    caption: 'ovs reserves 64 pages of 2 MiB on node 0.',
  },
  {
    method: 'allocate_hugepages',
    params: { service_name: 'ovs', node_id: 0, size_kb: 1048576, hugepages_requested: 8 },
    caption: 'More 1 GiB pages than node 0 has free.',
  },
  {
    method: 'list_allocations',
    params: {},
    caption: 'Every service of the default pool, after the calls above.',
  },
  {
    method: 'list_allocations',
    params: { pool: 'general' },
    caption: 'A pool this host does not configure.',
  },
  {
    method: 'get_memory_info',
    params: {},
    caption: 'Hugepages per node, with the reservation of ovs.',
  },
  {
    method: 'get_nova_config',
    params: { service_name: 'nova' },
    caption: "What nova.conf needs for nova: its CPUs as the dedicated set, the CPUs nobody holds as the shared set, and the hugepages ovs reserved.",
  },
  {
    method: 'get_nova_config',
    params: { service_name: 'nova', pool: 'general' },
    caption: 'A pool this host does not configure.',
  },
  {
    method: 'get_topology',
    params: {},
    caption: 'The sample host, with the CPUs still free.',
  },
  {
    method: 'release_service',
    params: { service_name: 'ovs' },
    caption: 'ovs releases its CPUs and its hugepage reservation.',
  },
  {
    method: 'subscribe',
    params: {},
    caption:
      'The connection asks for an allocation_changed notification after every change (see Notifications). The one-shot protocol does not have it: its connection closes after the reply.',
  },
  {
    method: 'unsubscribe',
    params: {},
    caption: 'And stops them: no change was made in between, so none came.',
  },
  {
    method: DISCOVER,
    params: {},
    caption: 'The OpenRPC document.',
  },
];

/** Envelope and framing examples, sent as written on the JSON-RPC connection after SESSION. */
export const ENVELOPE_EXAMPLES: readonly { readonly message: string; readonly caption: string }[] = [
  { message: 'not json', caption: 'Bytes that cannot become JSON: a parse error at once.' },
  { message: '[]', caption: 'An empty batch: invalid request.' },
  {
    message: '{"jsonrpc":"2.0","id":"a","method":"reserve_cores","params":{}}',
    caption: 'A method the daemon does not have.',
  },
  {
    message: '{"jsonrpc":"2.0","id":"b","method":"get_topology","params":{"verbose":true}}',
    caption: 'A param the method does not take: invalid params, naming it.',
  },
  {
    message: JSON.stringify([
      { jsonrpc: '2.0', id: 'c', method: 'release_service', params: { service_name: 'ceph-osd' } },
      { jsonrpc: '2.0', method: 'allocate_cores', params: { service_name: 'nova', num_of_cores: -1 } },
    ]),
    caption: 'A batch of a request and a notification (no id): the notification is run, and only the request is answered.',
  },
];

/** What only the one-shot protocol accepts or refuses, sent after SESSION on its daemon. */
export const ONE_SHOT_EXAMPLES: readonly { readonly message: Readonly<Record<string, unknown>>; readonly caption: string }[] = [
  {
    message: { version: '1.0', action: 'allocate_cores', service_name: 'nova', numa_node: null },
    caption: 'No num_of_cores: the default share; a member the method does not take is ignored.',
  },
  {
    message: { version: '1.0', action: 'allocate_numa_cores', service_name: 'ovs', numa_node: '1', num_of_cores: '2' },
    caption: 'Integers written as decimal strings.',
  },
  {
    message: { version: '1.0', action: 'allocate_numa_cores', service_name: 'ovs', numa_node: 1, num_of_cores: 0 },
    caption: "A zero count, refused with the Python daemon's sentence.",
  },
  { message: { version: '2.0', action: 'list_allocations' }, caption: 'Another version.' },
  { message: { version: '1.0', service_name: 'nova' }, caption: 'No action.' },
];

/**
 * The allocation_changed example, on a fresh daemon: one connection subscribes, another sends these
 * changes, each answered before the next is sent; the first connection receives a notification for
 * every service a change alters (its own, and each one it preempted), then unsubscribes.
 */
export const NOTIFICATION_CHANGES: readonly Call[] = [
  {
    method: 'allocate_cores',
    params: { service_name: 'nova', num_of_cores: 4 },
    caption: 'nova gets 4 CPUs: one notification, for nova.',
  },
  {
    method: 'allocate_numa_cores',
    params: { service_name: 'ovs', numa_node: 0, num_of_cores: 10 },
    caption: "ovs takes 10 CPUs of node 0, which has 8 free: 2 of them were nova's, so nova is told too.",
  },
];
