// The App the handlers run against: the host as last read from sysfs, and the durable ledger.
import type { Host, Ledger, Plan } from '../allocator/index.js';
import { hostOf } from '../allocator/index.js';
import type { App } from '../rpc/index.js';
import type { LedgerStore } from '../state/index.js';
import { readHugepagePools, readTopology } from '../topology/index.js';
import type { HugepagePool } from '../topology/index.js';

export interface HostSource {
  readonly sysfs: string;
  readonly cpuPool?: string;
}

export class Orchestrator implements App {
  private current: Host;

  constructor(
    private readonly source: HostSource,
    private readonly store: LedgerStore,
  ) {
    this.current = Orchestrator.read(source);
  }

  private static read(source: HostSource): Host {
    return hostOf(readTopology(source.sysfs, source.cpuPool === undefined ? {} : { cpuPool: source.cpuPool }));
  }

  /** Reads the CPU topology again (SIGHUP). On a read error the previous host stays. */
  reload(): Host {
    this.current = Orchestrator.read(this.source);
    return this.current;
  }

  host(): Host {
    return this.current;
  }

  hugepagePools(): readonly HugepagePool[] {
    return readHugepagePools(this.source.sysfs);
  }

  ledger(): Ledger {
    return this.store.view();
  }

  change<R>(plan: (ledger: Ledger) => Plan<R>): Promise<R> {
    return this.store.update(plan);
  }
}
