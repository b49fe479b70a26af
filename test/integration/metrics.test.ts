// The daemon's Prometheus metrics as a scraper and node_exporter's textfile collector see them:
// GET /metrics (--metrics-listen, loopback only unless --metrics-listen-any), the file
// (--metrics-file, replaced whole after each change and every 15 s), and the figures of state
// writes and connections. The text is read with parse-prometheus-text-format, as a third party
// would read it. Nothing here sleeps: a test waits on a rename in the file's directory (fs.watch),
// on the ManualClock, or on what the daemon logs.
import { expect } from 'chai';
import { existsSync, watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import parsePrometheusText from 'parse-prometheus-text-format';
import winston from 'winston';
import type { DaemonConfig } from '../../src/daemon/config.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { silentLogger } from '../../src/daemon/logger.js';
import { METRICS_FILE_PERIOD_MS } from '../../src/metrics/index.js';
import { ManualClock } from '../support/clock.js';
import { DaemonDirs, callOk, daemonsPerTest, type TestDaemon } from '../support/daemon.js';
import { FaultyWriter } from '../support/faulty-writer.js';
import { LineClient } from '../support/line-client.js';
import { capturingLogger } from '../support/log.js';

const LOOPBACK_ANY_PORT = '127.0.0.1:0';

// --- Reading the exposition -------------------------------------------------------------------

type Families = ReadonlyMap<string, parsePrometheusText.MetricFamily>;

interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request on a connection of its own (no keep-alive to outlive the daemon). */
function http(url: string, method = 'GET'): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function parse(text: string): Families {
  return new Map(parsePrometheusText(text).map((family) => [family.name, family]));
}

const labelKey = (labels: Readonly<Record<string, string>> = {}) =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(',');

/** Every series of a counter or gauge, by its labels ("k=v,k=v", sorted). */
function series(families: Families, name: string): Map<string, number> {
  const family = families.get(name);
  if (family === undefined) expect.fail(`no family ${name}`);
  return new Map(family.metrics.map((sample) => [labelKey(sample.labels), Number(sample.value)]));
}

/** The value of the series of `name` with exactly these labels (undefined when there is none). */
function figure(families: Families, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  return series(families, name).get(labelKey(labels));
}

/** The count of an unlabelled histogram. */
function histogramCount(families: Families, name: string): number {
  const family = families.get(name);
  expect(family?.type, name).to.equal('HISTOGRAM');
  return Number(family!.metrics[0]?.count);
}

async function scrape(d: TestDaemon): Promise<Families> {
  const url = d.daemon.metricsUrl;
  if (url === undefined) return expect.fail('the daemon serves no metrics');
  const reply = await http(url);
  expect(reply.status, reply.body).to.equal(200);
  return parse(reply.body);
}

// --- Waiting without sleeping -----------------------------------------------------------------

/**
 * Runs `act` with the file's directory watched, and resolves with the file's text once a rename
 * onto the file lands text that `until` accepts (a write already under way may land first).
 */
async function whenReplaced(path: string, act: () => unknown, until: (text: string) => boolean = () => true): Promise<string> {
  const watcher = watch(dirname(path));
  try {
    const landed = new Promise<string>((resolve, reject) => {
      watcher.on('error', reject);
      watcher.on('change', (event, file) => {
        if (event !== 'rename' || file !== basename(path)) return;
        readFile(path, 'utf8').then((text) => (until(text) ? resolve(text) : undefined), () => undefined);
      });
    });
    await act();
    return await landed;
  } finally {
    watcher.close();
  }
}

/** A debug logger whose lines a test can count, and wait for the n-th of. */
function countingLogger(): { logger: winston.Logger; whenCount: (text: string, n: number) => Promise<void> } {
  const stream = new PassThrough();
  const lines: string[] = [];
  const wake: (() => void)[] = [];
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter((line) => line !== ''));
    for (const w of wake.splice(0)) w();
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.printf(({ message }) => String(message)),
    transports: [new winston.transports.Stream({ stream })],
  });
  return {
    logger,
    whenCount: async (text, n) => {
      while (lines.filter((line) => line === text).length < n) await new Promise<void>((w) => wake.push(w));
    },
  };
}

// --- The tests --------------------------------------------------------------------------------

const FAMILIES = {
  epa_pool_cpus: 'GAUGE',
  epa_service_cpus: 'GAUGE',
  epa_hugepages: 'GAUGE',
  epa_requests_total: 'COUNTER',
  epa_request_duration_seconds: 'HISTOGRAM',
  epa_state_writes_total: 'COUNTER',
  epa_state_write_failures_total: 'COUNTER',
  epa_state_write_duration_seconds: 'HISTOGRAM',
  epa_preemptions_total: 'COUNTER',
  epa_connections: 'GAUGE',
} as const;

describe('metrics: GET /metrics (--metrics-listen)', () => {
  const start = daemonsPerTest();
  const serving = (config: Partial<DaemonConfig> = {}) => start({ config: { metricsListen: LOOPBACK_ANY_PORT, ...config } });

  it('answers 200 in the text format 0.0.4 with every family of the spec, on the port the kernel chose', async () => {
    const d = await serving();
    const url = d.daemon.metricsUrl!;
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/);
    const reply = await http(url);
    expect(reply.status).to.equal(200);
    expect(reply.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4(;|$)/);
    const families = parse(reply.body);
    for (const [name, type] of Object.entries(FAMILIES)) {
      expect(families.get(name)?.type, name).to.equal(type);
      expect(families.get(name)?.help, name).not.to.equal('');
    }
    expect(figure(families, 'epa_pool_cpus', { pool: 'isolated', state: 'configured' })).to.equal(28);
    expect(series(families, 'epa_pool_cpus').has(labelKey({ pool: 'general', state: 'configured' })), 'no general pool configured').to.equal(false);
    expect(series(families, 'epa_service_cpus').size, 'no service').to.equal(0);
    expect(figure(families, 'epa_connections')).to.equal(0);
    expect(figure(families, 'epa_state_writes_total')).to.equal(0);

    expect((await http(`${url}?name[]=epa_pool_cpus`)).status, 'a query string is ignored').to.equal(200);
    const head = await http(url, 'HEAD');
    expect(head.status).to.equal(200);
    expect(head.body).to.equal('');
  });

  it('answers 404 on every other path and 405 (Allow: GET, HEAD) to other methods', async () => {
    const d = await serving();
    const base = d.daemon.metricsUrl!.replace(/\/metrics$/, '');
    for (const path of ['/', '/metrics/', '/metricsx', '/Metrics', '/favicon.ico', '/metrics/../state.json']) {
      expect((await http(`${base}${path}`)).status, path).to.equal(404);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const reply = await http(`${base}/metrics`, method);
      expect(reply.status, method).to.equal(405);
      expect(reply.headers.allow, method).to.equal('GET, HEAD');
    }
    expect((await http(`${base}/metrics`)).status, 'still serving').to.equal(200);
  });

  it('shows the pools, services, hugepages, requests and preemptions after a few calls; a service that releases is gone', async () => {
    const d = await serving();
    // nova gets 2-3,18-19 on node 0; ovs then takes node 0's 8 free CPUs and 2 of nova's.
    expect((await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 4 })).allocated_cores).to.equal('2-3,18-19');
    const numa = await d.call('allocate_numa_cores', { service_name: 'ovs', numa_node: 0, num_of_cores: 10 });
    expect(numa.preempted.map((p) => p.service_name)).to.deep.equal(['nova']);
    await d.call('allocate_hugepages', { service_name: 'ovs', node_id: 0, size_kb: 2048, hugepages_requested: 64 });
    expect((await d.fail('allocate_numa_cores', { service_name: 'ovs', numa_node: 7, num_of_cores: 1 })).reason).to.equal('NUMA_NODE_NOT_FOUND');
    expect((await d.fail('allocate_cores_percent', { service_name: 'x', percent: 150 })).code).to.equal(-32602);

    let families = await scrape(d);
    expect(Object.fromEntries(series(families, 'epa_pool_cpus'))).to.deep.equal({
      'pool=isolated,state=configured': 28,
      'pool=isolated,state=eligible': 28,
      'pool=isolated,state=allocated': 12,
      'pool=isolated,state=free': 16,
      'pool=isolated,state=unavailable_allocated': 0,
    });
    expect(Object.fromEntries(series(families, 'epa_service_cpus'))).to.deep.equal({
      'kind=automatic,policy=legacy,pool=isolated,service=nova': 2,
      'kind=explicit,policy=legacy,pool=isolated,service=nova': 0,
      'kind=automatic,policy=legacy,pool=isolated,service=ovs': 0,
      'kind=explicit,policy=legacy,pool=isolated,service=ovs': 10,
    });
    const hugepages = series(families, 'epa_hugepages');
    expect(hugepages.size, 'two nodes × two sizes × four kinds').to.equal(16);
    expect(figure(families, 'epa_hugepages', { node: '0', size_kb: '2048', kind: 'total' })).to.equal(512);
    expect(figure(families, 'epa_hugepages', { node: '0', size_kb: '2048', kind: 'free_kernel' })).to.equal(512);
    expect(figure(families, 'epa_hugepages', { node: '0', size_kb: '2048', kind: 'reserved' })).to.equal(64);
    expect(figure(families, 'epa_hugepages', { node: '0', size_kb: '2048', kind: 'free' })).to.equal(448);
    expect(figure(families, 'epa_hugepages', { node: '1', size_kb: '1048576', kind: 'free' })).to.equal(4);
    expect(Object.fromEntries(series(families, 'epa_requests_total'))).to.deep.equal({
      'method=allocate_cores,outcome=ok': 1,
      'method=allocate_numa_cores,outcome=ok': 1,
      'method=allocate_hugepages,outcome=ok': 1,
      'method=allocate_numa_cores,outcome=NUMA_NODE_NOT_FOUND': 1,
      'method=allocate_cores_percent,outcome=INVALID_PARAMS': 1,
    });
    expect(figure(families, 'epa_preemptions_total')).to.equal(1);
    expect(figure(families, 'epa_state_writes_total')).to.equal(3);
    expect(figure(families, 'epa_state_write_failures_total')).to.equal(0);
    expect(histogramCount(families, 'epa_state_write_duration_seconds')).to.equal(3);
    expect(figure(families, 'epa_connections')).to.equal(1);

    await d.call('release_service', { service_name: 'nova' });
    families = await scrape(d);
    expect([...series(families, 'epa_service_cpus').keys()]).to.deep.equal([
      'kind=automatic,policy=legacy,pool=isolated,service=ovs',
      'kind=explicit,policy=legacy,pool=isolated,service=ovs',
    ]);
    expect(figure(families, 'epa_pool_cpus', { pool: 'isolated', state: 'allocated' })).to.equal(10);
    expect(figure(families, 'epa_requests_total', { method: 'release_service', outcome: 'ok' })).to.equal(1);
  });

  it('refuses a non-loopback address before it creates anything, naming --metrics-listen-any', async () => {
    for (const metricsListen of ['0.0.0.0:0', '[::]:0', '10.1.2.3:9477', 'metrics.example:9477', 'not an address']) {
      const dirs = await DaemonDirs.create();
      try {
        const refused = await startDaemon(dirs.config({ metricsListen }), silentLogger()).then(
          () => expect.fail(`${metricsListen} was served`),
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
        if (metricsListen === 'not an address') expect(refused).to.equal('"not an address" is not HOST:PORT (e.g. 127.0.0.1:9477 or [::1]:9477)');
        else expect(refused, metricsListen).to.include(`--metrics-listen ${metricsListen}`).and.include('--metrics-listen-any');
        expect(existsSync(dirs.stateDir), 'no state dir, so no lock').to.equal(false);
        expect(existsSync(dirs.socket), 'no socket').to.equal(false);
      } finally {
        await dirs.cleanup();
      }
    }
  });

  it('serves beyond loopback with metricsListenAny (--metrics-listen-any)', async () => {
    const d = await serving({ metricsListen: '0.0.0.0:0', metricsListenAny: true });
    const url = d.daemon.metricsUrl!;
    expect(url).to.match(/^http:\/\/0\.0\.0\.0:[1-9]\d*\/metrics$/);
    const reply = await http(url.replace('0.0.0.0', '127.0.0.1'));
    expect(reply.status).to.equal(200);
    expect(parse(reply.body).has('epa_pool_cpus')).to.equal(true);
  });

  it('serves on [::1] with the address in brackets', async function () {
    let d: TestDaemon;
    try {
      d = await serving({ metricsListen: '[::1]:0' });
    } catch (error) {
      // A host without IPv6 cannot bind ::1.
      if (error instanceof Error && /EADDRNOTAVAIL|EAFNOSUPPORT/.test(error.message)) this.skip();
      throw error;
    }
    expect(d.daemon.metricsUrl).to.match(/^http:\/\/\[::1\]:[1-9]\d*\/metrics$/);
    expect((await http(d.daemon.metricsUrl!)).status).to.equal(200);
  });

  it('a port in use stops the start and leaves the state dir unlocked and no socket', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    const dirs = await DaemonDirs.create();
    try {
      const failed = await startDaemon(dirs.config({ metricsListen: `127.0.0.1:${port}` }), silentLogger()).then(
        () => expect.fail('started on a port in use'),
        (error: unknown) => String(error),
      );
      expect(failed).to.include('EADDRINUSE');
      expect(existsSync(dirs.socket), 'the socket is removed').to.equal(false);
      const again = await startDaemon(dirs.config({ metricsListen: LOOPBACK_ANY_PORT }), silentLogger());
      expect(again.metricsUrl).to.be.a('string');
      await again.stop();
    } finally {
      taken.close();
      await dirs.cleanup();
    }
  });

  it('stops serving when the daemon stops', async () => {
    const d = await serving();
    const url = d.daemon.metricsUrl!;
    expect((await http(url)).status).to.equal(200);
    await d.stop();
    const error = await http(url).then(
      () => expect.fail('still served after stop'),
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error.code).to.equal('ECONNREFUSED');
  });
});

describe('metrics: the file (--metrics-file)', () => {
  const start = daemonsPerTest();
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'epa-metrics-'));
    path = join(dir, 'epa.prom');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is written at start with the figures, alone in its directory', async () => {
    await start({ clock: new ManualClock(), config: { metricsFile: path } });
    const families = parse(await readFile(path, 'utf8'));
    for (const [name, type] of Object.entries(FAMILIES)) expect(families.get(name)?.type, name).to.equal(type);
    expect(figure(families, 'epa_pool_cpus', { pool: 'isolated', state: 'free' })).to.equal(28);
    expect(await readdir(dir)).to.deep.equal(['epa.prom']);
  });

  it('is replaced (renamed over, never rewritten in place) after each change, and no temp file stays', async () => {
    const d = await start({ clock: new ManualClock(), config: { metricsFile: path, generalPool: '0-1,16-17' } });
    const before = await stat(path);
    const text = await whenReplaced(
      path,
      () => d.call('allocate_cores', { service_name: 'mon', num_of_cores: 2, pool: 'general' }),
      (t) => t.includes('service="mon"'),
    );
    const families = parse(text);
    expect(figure(families, 'epa_service_cpus', { service: 'mon', pool: 'general', policy: 'legacy', kind: 'automatic' })).to.equal(2);
    expect(figure(families, 'epa_pool_cpus', { pool: 'general', state: 'free' })).to.equal(2);
    expect(figure(families, 'epa_requests_total', { method: 'allocate_cores', outcome: 'ok' })).to.equal(1);
    expect((await stat(path)).ino, "a new file took the old one's name").not.to.equal(before.ino);
    expect(await readdir(dir)).to.deep.equal(['epa.prom']);

    const released = await whenReplaced(
      path,
      () => d.call('release_service', { service_name: 'mon', pool: 'general' }),
      (t) => !t.includes('service="mon"'),
    );
    expect(figure(parse(released), 'epa_pool_cpus', { pool: 'general', state: 'free' })).to.equal(4);
    expect(await readdir(dir)).to.deep.equal(['epa.prom']);
  });

  it('ends with the last figures when changes come faster than it is written', async () => {
    const d = await start({ clock: new ManualClock(), config: { metricsFile: path } });
    const clients = await Promise.all(Array.from({ length: 8 }, () => d.client()));
    const text = await whenReplaced(
      path,
      () =>
        Promise.all(
          clients.map((client, i) => callOk(client, 'allocate_hugepages', { service_name: `s${i}`, node_id: 1, size_kb: 2048, hugepages_requested: 8 })),
        ),
      (t) => figure(parse(t), 'epa_hugepages', { node: '1', size_kb: '2048', kind: 'reserved' }) === 64,
    );
    expect(figure(parse(text), 'epa_hugepages', { node: '1', size_kb: '2048', kind: 'free' })).to.equal(448);
    expect(await readdir(dir)).to.deep.equal(['epa.prom']);
  });

  it('is rewritten every 15 s, with the request counts of the reads made meanwhile', async () => {
    const clock = new ManualClock();
    const d = await start({ clock, config: { metricsFile: path } });
    expect(clock.armed(METRICS_FILE_PERIOD_MS), 'the period is armed once the first write is done').to.equal(1);
    await d.call('get_topology');
    await d.call('list_allocations');
    expect(await readFile(path, 'utf8'), 'a read is no change: no write').not.to.include('method="get_topology"');
    const inode = (await stat(path)).ino;

    const first = await whenReplaced(path, () => clock.advance(METRICS_FILE_PERIOD_MS), (t) => t.includes('method="get_topology"'));
    expect(figure(parse(first), 'epa_requests_total', { method: 'list_allocations', outcome: 'ok' })).to.equal(1);
    expect((await stat(path)).ino).not.to.equal(inode);
    expect(clock.armed(METRICS_FILE_PERIOD_MS), 'armed again').to.equal(1);

    await d.call('get_topology');
    const second = await whenReplaced(path, () => clock.advance(METRICS_FILE_PERIOD_MS));
    expect(figure(parse(second), 'epa_requests_total', { method: 'get_topology', outcome: 'ok' })).to.equal(2);
    expect(await readdir(dir)).to.deep.equal(['epa.prom']);

    await d.stop();
    expect(clock.armed(METRICS_FILE_PERIOD_MS), 'no period after stop').to.equal(0);
    expect(existsSync(path), 'the file stays with the last figures').to.equal(true);
  });

  it('in a directory that does not exist: one warning, the daemon serves, and the file comes once the directory does', async () => {
    const log = capturingLogger();
    const missing = join(dir, 'missing', 'epa.prom');
    const d = await start({ clock: new ManualClock(), logger: log.logger, config: { metricsFile: missing, metricsListen: LOOPBACK_ANY_PORT } });
    const warning = await log.whenLogged(/^warn cannot write the metrics file /);
    expect(warning).to.include(missing).and.include('ENOENT');
    expect((await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 2 })).cores_allocated).to.equal(2);
    expect(figure(await scrape(d), 'epa_pool_cpus', { pool: 'isolated', state: 'allocated' }), 'the endpoint still serves').to.equal(2);

    await mkdir(dirname(missing));
    await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 3 });
    await log.whenLogged(/^info metrics written to .* again$/);
    expect(figure(parse(await readFile(missing, 'utf8')), 'epa_pool_cpus', { pool: 'isolated', state: 'allocated' })).to.equal(3);
    expect(log.lines().filter((line) => line.startsWith('warn cannot write the metrics file')), 'one warning per run of failures').to.have.length(1);
    expect(await readdir(dirname(missing))).to.deep.equal(['epa.prom']);
  });
});

describe('metrics: state writes and connections', () => {
  const start = daemonsPerTest();

  it('epa_state_write_failures_total counts a write that failed before the rename', async () => {
    const writer = new FaultyWriter();
    const d = await start({ writer, config: { metricsListen: LOOPBACK_ANY_PORT } });
    await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 2 });
    writer.failAt('open-temp', 'ENOSPC', 1);
    expect((await d.fail('allocate_cores', { service_name: 'nova', num_of_cores: 4 })).reason).to.equal('STATE_WRITE_FAILED');
    let families = await scrape(d);
    expect(figure(families, 'epa_state_write_failures_total')).to.equal(1);
    expect(figure(families, 'epa_state_writes_total')).to.equal(1);
    expect(histogramCount(families, 'epa_state_write_duration_seconds'), 'every write, failed or not').to.equal(2);
    expect(figure(families, 'epa_requests_total', { method: 'allocate_cores', outcome: 'STATE_WRITE_FAILED' })).to.equal(1);
    expect(figure(families, 'epa_service_cpus', { service: 'nova', pool: 'isolated', policy: 'legacy', kind: 'automatic' }), 'the refused change is not shown').to.equal(2);

    await d.call('allocate_cores', { service_name: 'nova', num_of_cores: 4 });
    families = await scrape(d);
    expect(figure(families, 'epa_state_write_failures_total')).to.equal(1);
    expect(figure(families, 'epa_state_writes_total')).to.equal(2);
    expect(figure(families, 'epa_service_cpus', { service: 'nova', pool: 'isolated', policy: 'legacy', kind: 'automatic' })).to.equal(4);
  });

  it('a write that failed after the rename counts once as a failure, and the write that puts the file right as a write', async () => {
    const writer = new FaultyWriter();
    const d = await start({ writer, config: { metricsListen: LOOPBACK_ANY_PORT } });
    writer.failAt('fsync-dir', 'EIO', 1);
    expect((await d.fail('allocate_cores', { service_name: 'nova', num_of_cores: 4 })).reason).to.equal('STATE_WRITE_FAILED');
    const families = await scrape(d);
    expect(writer.failures).to.equal(1);
    expect(figure(families, 'epa_state_write_failures_total')).to.equal(1);
    expect(figure(families, 'epa_state_writes_total')).to.equal(1);
    expect(histogramCount(families, 'epa_state_write_duration_seconds')).to.equal(2);
    expect(series(families, 'epa_service_cpus').size).to.equal(0);
  });

  it('epa_connections equals the client connections open, as they open and close', async () => {
    const { logger, whenCount } = countingLogger();
    const d = await start({ logger, config: { metricsListen: LOOPBACK_ANY_PORT } });
    const connections = async () => figure(await scrape(d), 'epa_connections');
    expect(await connections(), 'a scrape is no client connection').to.equal(0);

    const clients = await Promise.all(Array.from({ length: 5 }, () => LineClient.connect(d.socketPath)));
    // A reply on each proves the daemon has taken each connection.
    for (const [i, client] of clients.entries()) {
      expect(await client.roundTrip({ jsonrpc: '2.0', id: i, method: 'get_topology' })).to.have.property('result');
    }
    expect(await connections()).to.equal(5);

    clients[0]!.close();
    clients[1]!.close();
    await whenCount('connection closed', 2);
    expect(await connections()).to.equal(3);

    // A one-shot client: answered, then closed by the daemon.
    const oneShot = await LineClient.connect(d.socketPath);
    oneShot.write('{"version":"1.0","action":"get_topology"}');
    await oneShot.rest();
    await whenCount('connection closed', 3);
    expect(await connections()).to.equal(3);

    for (const client of clients.slice(2)) client.close();
    await whenCount('connection closed', 6);
    expect(await connections()).to.equal(0);
  });
});
