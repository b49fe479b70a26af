// What a method handler may use: the host as last read, fresh hugepage counters, the durable
// ledger, and one way to change it. Handlers never see files, sockets or signals.
import type { ChangeOrigin, HostView, Ledger, Plan } from '../allocator/index.js';
import type { HugepageCounters } from '../topology/index.js';

export interface App {
  /** The host as of the last topology read (start or SIGHUP). */
  hostView(): HostView;
  /**
   * Hugepage counters, which the kernel changes under the daemon: read now for a change; a read
   * may get counters read a moment ago (at most 100 ms).
   */
  hugepageCounters(use: 'read' | 'change'): readonly HugepageCounters[];
  /** The ledger as last made durable. */
  ledger(): Ledger;
  /**
   * Plans a change against the latest ledger and answers only once it is durable. A plan that
   * throws changes nothing; a failed write rolls back and throws STATE_WRITE_FAILED. `origin`
   * says who asked (for the notifications of the change).
   */
  change<R>(plan: (ledger: Ledger) => Plan<R>, origin: ChangeOrigin): Promise<R>;
}
