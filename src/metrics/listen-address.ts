// `--metrics-listen HOST:PORT`: where the metrics endpoint listens. Metrics name every service on
// the host, so only a loopback address is taken unless the operator says otherwise.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** HOST:PORT, or [IPv6]:PORT; throws a sentence naming what is wrong. */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (match === null || host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new Error(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:9477 or [::1]:9477)`);
  }
  if (match[1] !== undefined && !isIPv6(host)) throw new Error(`"${host}" in "${text}" is not an IPv6 address`);
  return { host, port };
}

/** 127.0.0.0/8 and ::1; the BlockList also matches them however written (0:0:0:0:0:0:0:1, ::ffff:7f00:1). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIPv4(host)) return LOOPBACK.check(host, 'ipv4');
  return isIPv6(host) && LOOPBACK.check(host, 'ipv6');
}
