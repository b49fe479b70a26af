// A method's params or result as table rows, read from its JSON Schema: one row per member, nested
// objects flattened into dotted paths (`allocations[].service_name`, `numa_hugepages.*.capacity`).
import { CpuList, ServiceName, plainSchema } from '../../schema/index.js';
import { code, text } from './markdown.js';

/** The JSON Schema keywords the API's schemas use. */
export interface JsonSchema {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly items?: JsonSchema;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly patternProperties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean;
}

export interface FieldRow {
  /** Path of the member below the top object, e.g. `allocations[].hugepages`. */
  readonly field: string;
  /** Markdown. */
  readonly type: string;
  /** Required in the object that holds it. */
  readonly required: boolean;
  /** Markdown: the schema's default, or "—". */
  readonly default: string;
  /** Markdown: the schema's description, or "—". */
  readonly description: string;
}

/** A TypeBox schema as the plain JSON Schema it stands for. */
export function jsonSchema(schema: unknown): JsonSchema {
  return plainSchema(schema);
}

const CPULIST_PATTERN = jsonSchema(CpuList).pattern;
const SERVICE_NAME_PATTERN = jsonSchema(ServiceName).pattern;

/** The type of a value in a few words; the two strings every method uses go by their names. */
function typeOf(schema: JsonSchema): string {
  if (schema.pattern !== undefined && schema.pattern === CPULIST_PATTERN) return 'cpulist';
  if (schema.pattern !== undefined && schema.pattern === SERVICE_NAME_PATTERN) return 'service name';
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' \\| ');
  if (schema.const !== undefined) return code(JSON.stringify(schema.const));
  if (schema.enum) return schema.enum.map((value) => code(JSON.stringify(value))).join(' \\| ');
  switch (schema.type) {
    case 'integer':
      return `integer${range(schema.minimum, schema.maximum)}`;
    case 'string':
      return ['string', length(schema.minLength, schema.maxLength), schema.pattern && `matching ${code(schema.pattern)}`]
        .filter(Boolean)
        .join(', ');
    case 'array':
      return `array of ${schema.items ? typeOf(schema.items) : 'anything'}`;
    case 'object': {
      const values = Object.values(schema.patternProperties ?? {});
      return values.length === 1 ? `map of ${typeOf(values[0]!)}` : 'object';
    }
    default:
      return schema.type ?? 'anything';
  }
}

function range(minimum: number | undefined, maximum: number | undefined): string {
  if (minimum !== undefined && maximum !== undefined) return ` ${minimum}…${maximum}`;
  if (minimum !== undefined) return ` ≥ ${minimum}`;
  return maximum === undefined ? '' : ` ≤ ${maximum}`;
}

function length(min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && min > 0 && max !== undefined) return `${min}–${max} chars`;
  return max === undefined ? undefined : `≤ ${max} chars`;
}

/** Every member of an object schema, and the members of the objects inside it. */
export function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).flatMap(([name, member]) => [
    {
      field: `${prefix}${name}`,
      type: typeOf(member),
      required: required.has(name),
      default: member.default === undefined ? '—' : code(JSON.stringify(member.default)),
      description: member.description === undefined ? '—' : text(member.description),
    },
    ...nestedRows(member, `${prefix}${name}`),
  ]);
}

/** The rows of the object a member holds: itself, each item of an array, each value of a map. */
function nestedRows(member: JsonSchema, path: string): FieldRow[] {
  if (member.properties) return fieldRows(member, `${path}.`);
  if (member.items?.properties) return fieldRows(member.items, `${path}[].`);
  const values = Object.values(member.patternProperties ?? {});
  if (values.length === 1 && values[0]!.properties) return fieldRows(values[0]!, `${path}.*.`);
  return [];
}
