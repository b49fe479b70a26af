// The state file, in the Python snap's layout (docs/architecture.md) so an upgrade keeps every
// allocation. Reading is tolerant of what that daemon wrote (missing sections, "" cpulists, pool
// and policy entries for every service) and strict on anything ambiguous: such a file is refused,
// never guessed at. Writing omits the optional maps when they would be empty, and sorts keys with
// no spaces, as the Python daemon does.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Type } from 'typebox';
import type { Static, TSchema } from 'typebox';
import { CLOSED, NodeId, POOL_NAMES, PREEMPTION_POLICIES, SizeKb, THREAD_POLICIES } from '../../schema/index.js';
import { Ledger } from '../allocator/index.js';
import type { HugepageReservation, ServiceRecord } from '../allocator/index.js';
import { CpuListError, CpuSet, parseCpuList } from '../cpuset/index.js';
import { StateFileError } from './errors.js';

export const STATE_FILE = 'state.json';


/** A map keyed by service name; a key the pattern cannot match (one with a newline) is refused. */
const byService = <T extends TSchema>(value: T) => Type.Record(Type.String(), value, CLOSED);

const HugepageRecord = Type.Object({ node_id: NodeId, size_kb: SizeKb, count: Type.Integer({ minimum: 1 }) }, CLOSED);

export const StateFileSchema = Type.Object(
  {
    version: Type.Literal(1),
    updated_at: Type.Optional(Type.String()),
    allocations_db: Type.Optional(
      Type.Object(
        {
          allocations: Type.Optional(byService(Type.String())),
          explicit_allocations: Type.Optional(byService(Type.String())),
          preemption_policies: Type.Optional(byService(Type.Enum(PREEMPTION_POLICIES))),
          // The Python daemon records "isolated" too; we write only "general" (absent means isolated).
          allocation_pools: Type.Optional(byService(Type.Enum(POOL_NAMES))),
          // Ours alone (README.md, "Placement for latency-sensitive services"); written only for services that use them.
          thread_policies: Type.Optional(byService(Type.Enum(THREAD_POLICIES))),
          isolated_siblings: Type.Optional(byService(Type.String())),
        },
        CLOSED,
      ),
    ),
    hugepages_db: Type.Optional(
      Type.Object({ allocations: Type.Optional(byService(Type.Array(HugepageRecord))) }, CLOSED),
    ),
  },
  CLOSED,
);
export type StateFile = Static<typeof StateFileSchema>;

/** Compiled the first time a state file is read, not when this module loads. */
let validateFile: ValidateFunction<StateFile> | undefined;

type Fail = (problem: string) => never;

/** The ledger a state file holds; throws StateFileError naming `path` and the problem. */
export function decodeState(text: string, path: string): Ledger {
  const fail: Fail = (problem) => {
    throw new StateFileError(path, problem);
  };
  if (text.trim() === '') return fail('the file is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(`it is not valid JSON (${(error as Error).message})`);
  }
  validateFile ??= new Ajv({ strict: true, coerceTypes: false }).compile<StateFile>(StateFileSchema);
  if (!validateFile(parsed)) return fail(describe(validateFile.errors?.[0]));
  return toLedger(parsed, fail);
}

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'it does not match the layout';
  const at = error.instancePath === '' ? 'the top level' : error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at} has an unknown member ${JSON.stringify(params.additionalProperty)}`;
    case 'enum':
      return `${at} must be one of ${JSON.stringify(params.allowedValues)}`;
    case 'const':
      return `${at} must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${at} ${error.message ?? 'is invalid'}`;
  }
}

function toLedger(file: StateFile, fail: Fail): Ledger {
  const db = file.allocations_db ?? {};
  // Maps, not the parsed objects: a service named "constructor" must not find Object's members.
  const cpus = cpuSets('allocations', db.allocations, fail);
  const explicit = cpuSets('explicit_allocations', db.explicit_allocations, fail);
  const policies = new Map(Object.entries(db.preemption_policies ?? {}));
  const pools = new Map(Object.entries(db.allocation_pools ?? {}));
  const threadPolicies = new Map(Object.entries(db.thread_policies ?? {}));
  const siblings = cpuSets('isolated_siblings', db.isolated_siblings, fail);
  const cpusOf = (name: string) => cpus.get(name) ?? CpuSet.EMPTY;

  for (const [name, set] of explicit) {
    const stray = set.difference(cpusOf(name));
    if (!stray.isEmpty()) fail(`explicit CPUs ${stray.toString()} of service ${JSON.stringify(name)} are not in its allocation`);
  }
  const optional = [
    ['preemption_policies', policies],
    ['allocation_pools', pools],
    ['thread_policies', threadPolicies],
    ['isolated_siblings', siblings],
  ] as const;
  for (const [member, entries] of optional) {
    for (const name of entries.keys()) {
      if (cpusOf(name).isEmpty()) fail(`${member} has an entry for service ${JSON.stringify(name)}, which holds no CPUs`);
    }
  }
  for (const name of siblings.keys()) {
    if (threadPolicies.get(name) !== 'isolate') fail(`isolated_siblings has an entry for service ${JSON.stringify(name)}, whose thread policy is not isolate`);
  }
  checkOneOwner([...cpus, ...[...siblings].map(([name, set]): [string, CpuSet] => [`${name} (isolated siblings)`, set])], fail);
  const hugepages = reservations(file, fail);

  const names = new Set([...cpus.keys(), ...hugepages.keys()]);
  return Ledger.fromRecords(
    [...names].map((name): [string, ServiceRecord] => [
      name,
      {
        cpus: cpusOf(name),
        explicit: explicit.get(name) ?? CpuSet.EMPTY,
        policy: policies.get(name) ?? 'legacy',
        pool: pools.get(name) ?? 'isolated',
        threadPolicy: threadPolicies.get(name) ?? 'prefer',
        siblings: siblings.get(name) ?? CpuSet.EMPTY,
        hugepages: hugepages.get(name) ?? [],
      },
    ]),
  );
}

function cpuSets(member: string, lists: Readonly<Record<string, string>> | undefined, fail: Fail): Map<string, CpuSet> {
  const sets = new Map<string, CpuSet>();
  for (const [name, text] of Object.entries(lists ?? {})) {
    try {
      sets.set(name, parseCpuList(text));
    } catch (error) {
      if (!(error instanceof CpuListError)) throw error;
      fail(`${member} of service ${JSON.stringify(name)}: ${error.message}`);
    }
  }
  return sets;
}

/** Every CPU, isolated siblings included, has one holder. */
function checkOneOwner(cpus: readonly (readonly [string, CpuSet])[], fail: Fail): void {
  let owned = CpuSet.EMPTY;
  for (const [name, set] of cpus) {
    if (owned.intersects(set)) {
      const cpu = owned.intersect(set).first();
      const other = cpus.find(([n, s]) => n !== name && s.has(cpu))?.[0] ?? '';
      fail(`CPU ${cpu} is held by both ${JSON.stringify(other)} and ${JSON.stringify(name)}`);
    }
    owned = owned.union(set);
  }
}

/** Each service's reservations, sorted by node then size, as the ledger keeps them. */
function reservations(file: StateFile, fail: Fail): Map<string, HugepageReservation[]> {
  const result = new Map<string, HugepageReservation[]>();
  for (const [name, entries] of Object.entries(file.hugepages_db?.allocations ?? {})) {
    const sorted = entries
      .map(({ node_id, size_kb, count }) => ({ node_id, size_kb, count }))
      .sort((a, b) => a.node_id - b.node_id || a.size_kb - b.size_kb);
    for (const [i, h] of sorted.entries()) {
      const prev = sorted[i - 1];
      if (prev && prev.node_id === h.node_id && prev.size_kb === h.size_kb) {
        fail(`service ${JSON.stringify(name)} has two hugepage reservations for node ${h.node_id} size ${h.size_kb} KB`);
      }
    }
    if (sorted.length > 0) result.set(name, sorted);
  }
  return result;
}

/** The state file text of a ledger; `now` becomes updated_at. */
export function encodeState(ledger: Ledger, now: Date): string {
  const holding = ledger.entries().filter(([, r]) => !r.cpus.isEmpty());
  const pools = holding.filter(([, r]) => r.pool !== 'isolated');
  const policies = holding.filter(([, r]) => r.policy !== 'legacy');
  const threadPolicies = holding.filter(([, r]) => r.threadPolicy !== 'prefer');
  const isolated = holding.filter(([, r]) => !r.siblings.isEmpty());
  // Object.fromEntries defines own members, so any service name (even "__proto__") stays data.
  const file: StateFile = {
    allocations_db: {
      ...(pools.length > 0 ? { allocation_pools: Object.fromEntries(pools.map(([n, r]) => [n, r.pool])) } : {}),
      allocations: Object.fromEntries(holding.map(([n, r]) => [n, r.cpus.toString()])),
      explicit_allocations: Object.fromEntries(
        holding.filter(([, r]) => !r.explicit.isEmpty()).map(([n, r]) => [n, r.explicit.toString()]),
      ),
      ...(isolated.length > 0 ? { isolated_siblings: Object.fromEntries(isolated.map(([n, r]) => [n, r.siblings.toString()])) } : {}),
      ...(policies.length > 0 ? { preemption_policies: Object.fromEntries(policies.map(([n, r]) => [n, r.policy])) } : {}),
      ...(threadPolicies.length > 0 ? { thread_policies: Object.fromEntries(threadPolicies.map(([n, r]) => [n, r.threadPolicy])) } : {}),
    },
    hugepages_db: {
      allocations: Object.fromEntries(
        ledger
          .entries()
          .filter(([, r]) => r.hugepages.length > 0)
          .map(([n, r]) => [n, r.hugepages.map((h) => ({ count: h.count, node_id: h.node_id, size_kb: h.size_kb }))]),
      ),
    },
    updated_at: now.toISOString(),
    version: 1,
  };
  return JSON.stringify(file);
}
