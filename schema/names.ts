// The name of every method of the API, declared once. The method table (methods.ts) gives each one
// its schemas and must define exactly these: the type checker holds it to that. This module loads
// no schema library, so the client and the command line can name methods cheaply.
export const METHOD_NAMES = [
  'allocate_cores',
  'allocate_cores_percent',
  'allocate_numa_cores',
  'explicitly_allocate_cores',
  'list_allocations',
  'get_memory_info',
  'allocate_hugepages',
  'release_service',
  'get_topology',
  'get_nova_config',
  'subscribe',
  'unsubscribe',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];

// A Set, not an object: a name such as "toString" must not resolve to anything.
const NAMES: ReadonlySet<string> = new Set(METHOD_NAMES);

export function isMethodName(name: string): name is MethodName {
  return NAMES.has(name);
}
