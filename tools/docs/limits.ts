// The transport limits with their defaults (src/transport/limits.ts) and the `serve` flag and
// variable that set each one, read from the command line's own grammar rather than restated.
import { buildProgram, type Actions } from '../../src/cli/program.js';
import { TRANSPORT_DEFAULTS, type TransportLimits } from '../../src/transport/index.js';

export interface Limit {
  readonly name: keyof TransportLimits;
  /** The default, as the flag takes it (the mode in octal). */
  readonly value: string;
  /** `--flag`, or undefined when no flag sets it. */
  readonly flag: string | undefined;
  readonly variable: string | undefined;
  /** What happens at the limit. */
  readonly effect: string;
}

const EFFECTS: { readonly [K in keyof TransportLimits]: string } = {
  socketMode: 'File mode of the socket; a mode that lets every user write is refused at start.',
  maxMessageBytes: 'A larger message is answered with -32600 (`data.detail` says why), then the connection is closed.',
  maxConnections: 'Further connections are closed at once. Also the listen backlog.',
  maxInFlightPerConnection:
    'Requests of one connection whose reply is not yet written; beyond it reading pauses. Also the most requests a batch may hold (a larger one gets one -32600).',
  partialTimeoutMs: 'An incomplete message older than this (ms) closes its connection.',
  idleTimeoutMs: 'A connection with no request in flight and no partial message for this long (ms) is closed.',
  maxPushBacklogBytes: 'A subscribed connection with more than this waiting to be sent (it does not read its notifications) is closed.',
};

/** The grammar is only read: no command runs, so no action is ever called. */
const NO_ACTIONS = new Proxy({} as Actions, {
  get: () => () => Promise.reject(new Error('the docs generator runs no command')),
});

export function transportLimits(): Limit[] {
  const serve = buildProgram(NO_ACTIONS, '0').commands.find((command) => command.name() === 'serve');
  if (serve === undefined) throw new Error('the command line has no serve command');
  return (Object.keys(EFFECTS) as (keyof TransportLimits)[]).map((name) => {
    const option = serve.options.find((o) => o.attributeName() === name);
    const value = name === 'socketMode' ? `0${TRANSPORT_DEFAULTS[name].toString(8)}` : String(TRANSPORT_DEFAULTS[name]);
    return { name, value, flag: option?.long, variable: option?.envVar, effect: EFFECTS[name] };
  });
}
