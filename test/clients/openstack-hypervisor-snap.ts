// The openstack-hypervisor snap, the daemon's main consumer, as its configure hook talks to the
// socket (openstack_hypervisor/cli/common.py): connect, sendall(request.json()) — pydantic's
// compact JSON of the request model, every field in declaration order, None as null, no newline —
// then one recv(4096), json.loads, an `error` member raises, and the reply is validated with the
// snap's own response model (every field required, "version" must be "1.0").
import { Ajv } from 'ajv';
import { Type, type TObject } from 'typebox';
import { AllocateCoresPercentResponse, AllocateCoresResponse } from './python-replies.js';
import { PythonSocket, pydanticJson, pythonLoads } from './python-socket.js';

export const SERVICE_NAME = 'openstack-hypervisor';

/**
 * The snap's own response models are the daemon's before pools and policies: the same fields
 * without `pool` and `preemption_policy`, every one required but `version`, which defaults to "1.0".
 */
const snapModel = (daemonReply: TObject) =>
  Type.Object({ ...Type.Omit(daemonReply, ['pool', 'preemption_policy', 'version']).properties, version: Type.Optional(Type.Literal('1.0')) });

const ajv = new Ajv({ allErrors: true, strict: true });
const models = {
  allocate_cores: ajv.compile(snapModel(AllocateCoresResponse)),
  allocate_cores_percent: ajv.compile(snapModel(AllocateCoresPercentResponse)),
};

/** EPAOrchestratorError: the daemon answered with an `error` member. */
export class EpaOrchestratorError extends Error {}

/** SocketCommunicationError: the socket failed, or the reply did not fit the response model. */
export class SocketCommunicationError extends Error {}

/** _communicate_with_socket(request, response_model, socket_path). */
async function communicate(socketPath: string, request: Record<string, unknown>, model: keyof typeof models): Promise<Record<string, unknown>> {
  let data: Buffer;
  let socket: PythonSocket | undefined;
  try {
    socket = await PythonSocket.connect(socketPath);
    await socket.sendall(pydanticJson(request));
    data = await socket.recv(4096);
  } catch (error) {
    throw new SocketCommunicationError(`Socket communication failed: ${(error as Error).message}`);
  } finally {
    socket?.close();
  }
  const response = pythonLoads(data) as Record<string, unknown>;
  if ('error' in response) throw new EpaOrchestratorError(String(response.error));
  const validate = models[model];
  if (!validate(response)) throw new SocketCommunicationError(`validation failed: ${ajv.errorsText(validate.errors)}`);
  return response;
}

/** get_cpu_pinning_from_socket(): [shared_cpus, allocated_cores] of an allocate_cores call. */
export async function cpuPinningFromSocket(socketPath: string, coresRequested = 0): Promise<[string, string]> {
  // AllocateCoresRequest(service_name=…, action=…, num_of_cores=…) with numa_node left at None.
  const request = { version: '1.0', action: 'allocate_cores', service_name: SERVICE_NAME, num_of_cores: coresRequested, numa_node: null };
  const response = await communicate(socketPath, request, 'allocate_cores');
  return [response.shared_cpus as string, response.allocated_cores as string];
}

/** The newer snap's percentage request: AllocateCoresPercentRequest, same transport. */
export async function cpuPercentFromSocket(socketPath: string, percent: number): Promise<string> {
  const request = { version: '1.0', action: 'allocate_cores_percent', service_name: SERVICE_NAME, percent };
  return (await communicate(socketPath, request, 'allocate_cores_percent')).allocated_cores as string;
}

export interface ConfigureContext {
  readonly cpu_shared_set: string;
  readonly allocated_cores: string;
  /** What the hook logged when it went on without CPU pinning. */
  readonly warning?: string;
}

/** _get_configure_context(): the pinning for nova.conf; a refusal leaves it empty, with a warning. */
export async function configureContext(socketPath: string): Promise<ConfigureContext> {
  try {
    const [cpuSharedSet, allocatedCores] = await cpuPinningFromSocket(socketPath, 0);
    return { cpu_shared_set: cpuSharedSet, allocated_cores: allocatedCores };
  } catch (error) {
    if (error instanceof SocketCommunicationError || error instanceof EpaOrchestratorError) {
      return { cpu_shared_set: '', allocated_cores: '', warning: `Failed to get CPU pinning info from EPA orchestrator: ${error.message}` };
    }
    throw error;
  }
}
