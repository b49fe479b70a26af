// The metrics flags of the built `serve` command and their variables: --metrics-listen (and
// EPA_METRICS_LISTEN), --metrics-listen-any (EPA_METRICS_LISTEN_ANY), --metrics-file
// (EPA_METRICS_FILE). Each test runs the real program as a child and waits on what it says.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import parsePrometheusText from 'parse-prometheus-text-format';
import { DaemonDirs } from '../support/daemon.js';
import { startCli, type Started } from '../support/process.js';

/** The metrics variables of this process are not the children's business unless a test sets them. */
const NO_METRICS_ENV = { EPA_METRICS_LISTEN: undefined, EPA_METRICS_LISTEN_ANY: undefined, EPA_METRICS_FILE: undefined, SNAP: undefined };

/** GET on a connection of its own. */
function get(url: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The URL the daemon says it serves the metrics on, once it says so. */
async function metricsUrl(daemon: Started): Promise<string> {
  const said = await daemon.saysOnStderr(/metrics on http:\/\/\S+\/metrics/);
  return said.slice('metrics on '.length);
}

/** Whether a scrape of `url` answers the pool figures of the sample host. */
async function expectServed(url: string): Promise<void> {
  const reply = await get(url);
  expect(reply.status).to.equal(200);
  expect(reply.contentType).to.match(/^text\/plain; version=0\.0\.4/);
  const pool = parsePrometheusText(reply.body).find((family) => family.name === 'epa_pool_cpus');
  const configured = pool?.metrics.find((s) => s.labels?.pool === 'isolated' && s.labels.state === 'configured');
  expect(configured?.value).to.equal('28');
}

describe('metrics: the serve flags and their variables (the built program)', function () {
  this.timeout(30_000);
  let dirs: DaemonDirs;
  let children: Started[];

  const serve = (flags: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Started => {
    const child = startCli(dirs.serveArgs(flags), { env: { ...NO_METRICS_ENV, ...env } });
    children.push(child);
    return child;
  };

  beforeEach(async () => {
    dirs = await DaemonDirs.create();
    children = [];
  });

  afterEach(async () => {
    await Promise.all(children.map((child) => child.stop('SIGKILL')));
    await dirs.cleanup();
  });

  it('--metrics-listen 127.0.0.1:0 says "metrics on http://127.0.0.1:PORT/metrics" and serves there until stopped', async () => {
    const daemon = serve(['--metrics-listen', '127.0.0.1:0']);
    const url = await metricsUrl(daemon);
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/);
    await expectServed(url);
    const exit = await daemon.stop();
    expect(exit.code, exit.stderr).to.equal(0);
    const refused = await get(url).then(
      () => 'answered',
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(refused).to.equal('ECONNREFUSED');
  });

  it('EPA_METRICS_LISTEN sets the address', async () => {
    const daemon = serve([], { EPA_METRICS_LISTEN: '127.0.0.1:0' });
    await expectServed(await metricsUrl(daemon));
  });

  it('refuses a non-loopback address without --metrics-listen-any: exit 1, one line naming the flag, nothing created', async () => {
    const daemon = serve([], { EPA_METRICS_LISTEN: '0.0.0.0:0' });
    const exit = await daemon.exited;
    expect(exit.code).to.equal(1);
    expect(exit.stderr).to.match(/^epa-orchestrator: cannot start: --metrics-listen 0\.0\.0\.0:0: 0\.0\.0\.0 is not a loopback address; .*--metrics-listen-any/);
    expect(exit.stderr).not.to.match(/^\s+at /m);
    expect(existsSync(dirs.stateDir), 'no state dir').to.equal(false);
    expect(existsSync(dirs.socket), 'no socket').to.equal(false);
  });

  it('--metrics-listen-any, or EPA_METRICS_LISTEN_ANY=1, lets it listen beyond loopback', async () => {
    const flag = serve(['--metrics-listen', '0.0.0.0:0', '--metrics-listen-any']);
    const flagUrl = await metricsUrl(flag);
    expect(flagUrl).to.match(/^http:\/\/0\.0\.0\.0:[1-9]\d*\/metrics$/);
    await expectServed(flagUrl.replace('0.0.0.0', '127.0.0.1'));
    await flag.stop();

    const env = serve([], { EPA_METRICS_LISTEN: '0.0.0.0:0', EPA_METRICS_LISTEN_ANY: '1' });
    await expectServed((await metricsUrl(env)).replace('0.0.0.0', '127.0.0.1'));
  });

  it('EPA_METRICS_FILE (--metrics-file) writes the file before the daemon says so', async () => {
    const path = join(dirs.dir, 'epa.prom');
    const daemon = serve([], { EPA_METRICS_FILE: path });
    await daemon.saysOnStderr(new RegExp(`metrics written to ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} after each change and every 15 s`));
    const pool = parsePrometheusText(await readFile(path, 'utf8')).find((family) => family.name === 'epa_pool_cpus');
    expect(pool?.type).to.equal('GAUGE');
    expect((await readdir(dirs.dir)).filter((name) => name.startsWith('epa.prom'))).to.deep.equal(['epa.prom']);
  });
});
