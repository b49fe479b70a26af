// Inside the snap (README.md, the snap): `serve` reads the snap options with `snapctl get -d`
// at start, a flag or EPA_* variable given explicitly winning; the configure hook refuses a
// cpu-pool the daemon could not use. snapctl is a fake on PATH that answers from FAKE_SNAPCTL_JSON
// (or fails when it is unset), as snapd's would from the snap's configuration.
import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EpaClient } from '../../src/client/index.js';
import { TRANSPORT_DEFAULTS } from '../../src/transport/index.js';
import { generalPoolSetting } from '../../src/daemon/orchestrator.js';
import { readSnapOptions, SNAP_OPTIONS, withSnapOptions } from '../../src/daemon/snap-options.js';
import { tempSysfs, type TempSysfs } from '../fixtures/host.js';
import { SAMPLE } from '../fixtures/hosts.js';
import { REPO_ROOT, Started, startCli, type RunOptions } from '../support/process.js';

/** `snapctl get -d KEY…` prints the document; `snapctl get KEY` prints the value, as snapctl does. */
const FAKE_SNAPCTL = `#!/usr/bin/env node
const doc = process.env.FAKE_SNAPCTL_JSON;
if (doc === undefined) { process.stderr.write('error: cannot communicate with snapd\\n'); process.exit(1); }
const options = JSON.parse(doc);
const args = process.argv.slice(2);
if (args[0] !== 'get') process.exit(2);
if (args[1] === '-d') {
  const keys = args.slice(2);
  process.stdout.write(JSON.stringify(Object.fromEntries(keys.filter((k) => k in options).map((k) => [k, options[k]]))) + '\\n');
} else {
  const value = options[args[1]];
  process.stdout.write(value === undefined ? '\\n' : String(value) + '\\n');
}
`;

describe('snap: options and the configure hook', function () {
  this.timeout(30_000);
  let dir: string;
  let sysfs: TempSysfs;
  let bin: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-snap-'));
    sysfs = tempSysfs(SAMPLE);
    bin = join(dir, 'fake-bin');
    await mkdir(bin);
    await writeFile(join(bin, 'snapctl'), FAKE_SNAPCTL);
    await chmod(join(bin, 'snapctl'), 0o755);
  });
  after(async () => {
    sysfs.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  /** The environment of the snap's apps and hooks: SNAP set, snapctl on PATH. */
  const snapEnv = (options: Record<string, unknown> | undefined, extra: Record<string, string> = {}): RunOptions['env'] => ({
    SNAP: REPO_ROOT,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    FAKE_SNAPCTL_JSON: options === undefined ? undefined : JSON.stringify(options),
    EPA_GENERAL_POOL: undefined,
    EPA_RESERVED_CPUS: undefined,
    ...extra,
  });

  let served = 0;
  /** `serve` as the snap's daemon app runs it; resolves once it answers. */
  async function serve(env: RunOptions['env'], ...flags: string[]): Promise<{ daemon: Started; client: EpaClient }> {
    const socket = join(dir, `epa-${++served}.sock`);
    const daemon = startCli(['serve', '--socket', socket, '--state-dir', join(dir, `state-${served}`), '--sysfs', sysfs.path, ...flags], { env });
    await daemon.saysOnStderr(/ serving on /);
    return { daemon, client: await EpaClient.connect(socket) };
  }

  it('serve takes the general pool from the cpu-pool option', async () => {
    const { daemon, client } = await serve(snapEnv({ 'cpu-pool': '0-1,16-17' }));
    try {
      expect((await client.list_allocations({ pool: 'general' })).cpu_pool).to.deep.include({ configured_cpus: '0-1,16-17', unavailable_reason: null });
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  it('serve takes the housekeeping CPUs from the reserved-cpus option', async () => {
    const { daemon, client } = await serve(snapEnv({ 'reserved-cpus': '2-3,18-19' }));
    try {
      expect((await client.get_topology()).reserved).to.equal('2-3,18-19');
      expect((await client.list_allocations()).cpu_pool.eligible_cpus).to.equal('4-15,20-31');
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  it('serve takes the metrics endpoint and file from the metrics-listen and metrics-file options', async () => {
    const file = join(dir, 'snap-metrics.prom');
    const { daemon, client } = await serve(snapEnv({ 'metrics-listen': '127.0.0.1:0', 'metrics-file': file }));
    try {
      const url = (await daemon.saysOnStderr(/metrics on http:\/\/\S+/)).slice('metrics on '.length);
      const scraped = await (await fetch(url)).text();
      expect(scraped).to.match(/^epa_pool_cpus\{pool="isolated",state="eligible"\} 28$/m);
      expect(await readFile(file, 'utf8')).to.match(/^epa_pool_cpus\{pool="isolated",state="eligible"\} 28$/m);
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  describe('reading the options (snapctl get -d)', () => {
    /** execFile as snapctl would answer it. */
    const answering = (stdout: string) => (file: string, args: readonly string[]) => {
      expect([file, ...args]).to.deep.equal(['snapctl', 'get', '-d', ...Object.keys(SNAP_OPTIONS)]);
      return Promise.resolve({ stdout, stderr: '' });
    };

    it('takes text, and a single CPU that snapd hands over as a number', async () => {
      expect(await readSnapOptions(answering('{"cpu-pool":"8-11,24-27"}\n'))).to.deep.equal({ 'cpu-pool': '8-11,24-27' });
      expect(await readSnapOptions(answering('{"cpu-pool":0}'))).to.deep.equal({ 'cpu-pool': '0' });
      expect(await readSnapOptions(answering('{}'))).to.deep.equal({});
    });

    it('refuses what is not an option document, and says what snapctl said when it fails', async () => {
      await readSnapOptions(answering('{"cpu-pool":["0"]}')).then(
        () => expect.fail('accepted an array'),
        (error: Error) => expect(error.message).to.equal('snap option cpu-pool must be text, not ["0"]'),
      );
      const failing = () => Promise.reject(Object.assign(new Error('Command failed'), { code: 1, stderr: 'error: cannot communicate with snapd\n' }));
      await readSnapOptions(failing).then(
        () => expect.fail('accepted a failure'),
        (error: Error) => expect(error.message).to.equal('snapctl failed (1): error: cannot communicate with snapd'),
      );
    });

    it('fills only what no flag or EPA_* variable set; "isolated" is no general pool', () => {
      const config = { ...TRANSPORT_DEFAULTS, socket: 's', stateDir: 'd', sysfs: '/sys' };
      expect(withSnapOptions(config, { 'cpu-pool': '0-1' }).generalPool).to.equal('0-1');
      expect(withSnapOptions({ ...config, generalPool: '0' }, { 'cpu-pool': '0-1' }).generalPool).to.equal('0');
      expect(generalPoolSetting(withSnapOptions(config, { 'cpu-pool': 'isolated' }).generalPool)).to.equal(undefined);
      expect(withSnapOptions(config, { 'reserved-cpus': '0,16' }).reservedCpus).to.equal('0,16');
      expect(withSnapOptions({ ...config, reservedCpus: '' }, { 'reserved-cpus': '0,16' }).reservedCpus).to.equal('');
    });
  });

  it('when snapctl fails, serves with a general pool that hands out nothing, and says why', async () => {
    // EPA_RESERVED_CPUS set: the housekeeping CPUs are known, so only the general pool is unknown.
    const { daemon, client } = await serve(snapEnv(undefined, { EPA_RESERVED_CPUS: '' }));
    try {
      const general = await client.list_allocations({ pool: 'general' });
      expect(general.cpu_pool.eligible_cpus).to.equal('');
      expect(general.cpu_pool.unavailable_reason).to.match(/^the snap option cpu-pool cannot be read: .*cannot communicate with snapd/);
      expect((await client.list_allocations()).cpu_pool.unavailable_reason, 'the isolated pool is not touched').to.equal(null);
      expect(daemon.stderr).to.match(/ error cannot read the snap options: /);
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  it('when snapctl fails and no flag or variable names the reserved CPUs, every pool hands out nothing', async () => {
    // Unknown housekeeping CPUs could be handed out.
    const { daemon, client } = await serve(snapEnv(undefined));
    try {
      const isolated = (await client.list_allocations()).cpu_pool;
      expect(isolated.eligible_cpus).to.equal('');
      expect(isolated.unavailable_reason).to.match(/^the snap option reserved-cpus cannot be read: .*cannot communicate with snapd/);
    } finally {
      client.close();
      await daemon.stop();
    }
  });

  it('the snap options the code reads are the ones the hook and the docs name', () => {
    expect(Object.keys(SNAP_OPTIONS)).to.deep.equal(['cpu-pool', 'metrics-file', 'metrics-listen', 'reserved-cpus']);
  });

  describe('snap/hooks/configure', () => {
    const hook = join(REPO_ROOT, 'snap', 'hooks', 'configure');
    const configure = (options: Record<string, unknown>) =>
      new Started('/bin/sh', [hook], { env: snapEnv(options, { EPA_SYSFS: sysfs.path, EPA_STATE_DIR: join(dir, 'hook-state') }) }).exited;

    it('accepts a usable cpu-pool, and reserved-cpus that are a cpulist', async () => {
      const result = await configure({ 'cpu-pool': '0-1,16-17', 'reserved-cpus': '0,16' });
      expect([result.code, result.stderr]).to.deep.equal([0, '']);
    });

    it('refuses with exit 1 and the reason a reserved-cpus that is not a cpulist', async () => {
      const bad = await configure({ 'reserved-cpus': '0-1,x' });
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.contain('Invalid reserved-cpus configuration: "0-1,x" is not a cpulist: bad item "x"');
    });

    it('refuses with exit 1 and the reason a cpu-pool that overlaps the isolated pool', async () => {
      const overlap = await configure({ 'cpu-pool': '0-3' });
      expect(overlap.code).to.equal(1);
      expect(overlap.stderr).to.contain('Invalid cpu-pool configuration: it overlaps the isolated pool on CPUs 2-3');
    });
  });
});
