// Crash consistency under SIGKILL, at the scale `make test` affords;
// `make soak` runs the same rounds many more times. Each kill comes after a random number of
// answered changes, not after some time, so a slow machine runs the same rounds as a fast one.
import { expect } from 'chai';
import { runCrashRounds } from './crash.js';
import { seedFromEnv } from './random.js';

describe('reliability: SIGKILL at random moments under 16 clients', function () {
  this.timeout(120_000);

  // 8 rounds keep `make test` within its 2 minutes on 2 cores; `make soak` runs many more.
  it('keeps every answered change, an unanswered one whole or not at all, and restarts cleanly, over 8 kills', async () => {
    const seed = seedFromEnv();
    const report = await runCrashRounds({ rounds: 8, clients: 16, changesBeforeKill: [10, 60], seed });
    expect(report.violations, `seed ${seed} (replay with EPA_TEST_SEED=${seed})`).to.deep.equal([]);
    expect(report.rounds).to.equal(8);
    expect(report.servicesChecked).to.equal(8 * 16);
    // The kills must land amid traffic for the checks to mean anything.
    expect(report.counts.acked, 'changes answered').to.be.greaterThan(40);
    expect(report.inFlightAtKill, 'changes cut off by a kill').to.be.greaterThan(8);
  });
});
