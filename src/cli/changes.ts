// The line `watch` prints for each allocation_changed notification. Pure: the change and the time
// it arrived in, text out.
import type { AllocationChangedParams } from '../client/index.js';

type Hugepages = AllocationChangedParams['hugepages_after'];

/** A cpulist, or "none". */
function cpusOrNone(cpulist: string): string {
  return cpulist === '' ? 'none' : cpulist;
}

/** "node0 2048kB×64, node1 1048576kB×2", or "none". */
export function formatReservations(hugepages: Hugepages): string {
  if (hugepages.length === 0) return 'none';
  return hugepages.map((h) => `node${h.node_id} ${h.size_kb}kB×${h.count}`).join(', ');
}

/**
 * One line, ending in "\n":
 * "2026-12-02T10:00:00.000Z nova isolated request: cpus 2-5 → 2-7; hugepages none → node0 2048kB×64".
 * The time is when the notification arrived (UTC); the daemon sends it once the change is durable.
 */
export function formatChange(change: AllocationChangedParams, arrived: Date): string {
  return (
    `${arrived.toISOString()} ${change.service_name} ${change.pool} ${change.cause}: ` +
    `cpus ${cpusOrNone(change.cores_before)} → ${cpusOrNone(change.cores_after)}; ` +
    `hugepages ${formatReservations(change.hugepages_before)} → ${formatReservations(change.hugepages_after)}\n`
  );
}
