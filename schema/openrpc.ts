// The OpenRPC document of the API (what rpc.discover answers), built from the method table.
import type { ContentDescriptorObject, MethodObject, OpenrpcDocument } from '@open-rpc/meta-schema';
import { DOMAIN_ERRORS, ERROR_REASONS } from './errors.js';
import { METHODS } from './methods.js';
import type { AnyMethod } from './methods.js';
import { NOTIFICATIONS } from './notifications.js';

export const OPENRPC_VERSION = '1.2.6';
/** Version of the API contract; a new optional param or result field is a minor bump. */
export const API_VERSION = '1.1.0';

type JsonSchema = Record<string, unknown>;

/** A TypeBox schema as plain JSON: only its enumerable JSON Schema keywords. */
export function plainSchema(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

export function buildOpenRpc(): OpenrpcDocument {
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'epa-orchestrator',
      version: API_VERSION,
      description:
        'Isolated CPU cores (NUMA and SMT aware) and per-NUMA-node hugepage reservations for the ' +
        'services of a host, over JSON-RPC 2.0 on a Unix socket. Params are by name.',
    },
    // A method without a result is a notification (OpenRPC 1.2.6): these the daemon sends.
    methods: [...METHODS.map(methodObject), ...NOTIFICATIONS.map(notificationObject)],
    components: {
      errors: Object.fromEntries(
        ERROR_REASONS.map((reason) => [
          reason,
          { code: DOMAIN_ERRORS[reason].code, message: DOMAIN_ERRORS[reason].summary, data: { reason } },
        ]),
      ),
    },
  };
}

function methodObject(method: AnyMethod): MethodObject {
  return {
    name: method.name,
    summary: method.summary,
    paramStructure: 'by-name',
    params: paramDescriptors(method),
    result: { name: `${method.name}_result`, schema: plainSchema(method.result) },
    errors: method.errors.map((reason) => ({ $ref: `#/components/errors/${reason}` })),
  };
}

function notificationObject(notification: (typeof NOTIFICATIONS)[number]): MethodObject {
  return {
    name: notification.name,
    summary: notification.summary,
    paramStructure: 'by-name',
    params: paramDescriptors(notification),
  };
}

function paramDescriptors(method: { readonly params: unknown }): ContentDescriptorObject[] {
  const { properties, required = [] } = plainSchema(method.params) as {
    properties: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    required: required.includes(name),
    schema,
  }));
}
