// The benchmark's --smoke mode still runs end to end: a real daemon and echo server driven by the
// forked load client, the allocator figures, the targets; every row of the tables is printed and
// nothing is written to bench/results.json.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SMOKE } from '../../bench/plan.js';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../../bench/results.json', import.meta.url));
const BUDGET_MS = 15_000;

const num = String.raw`[\d,]+(?:\.\d+)?`;
const timing = String.raw`${num} / ${num}`;
const fmt = (n: number) => n.toLocaleString('en-US');

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function runSmoke(): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [RUN, '--smoke'], { timeout: BUDGET_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`bench --smoke failed: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

describe('bench --smoke', function () {
  this.timeout(BUDGET_MS + 5000);
  let stdout = '';
  let resultsBefore: number | undefined;

  before(async () => {
    resultsBefore = mtimeOf(RESULTS);
    ({ stdout } = await runSmoke());
  });

  it('prints a socket row for the echo server and both daemon mixes at every connection count', () => {
    for (const connections of SMOKE.socket.connections) {
      for (const [server, mix] of [['echo', String.raw`\(read requests\)`], ['daemon', 'list'], ['daemon', 'memory'], ['daemon', 'write']]) {
        const row = new RegExp(String.raw`^\| ${server} \| ${mix} \| ${connections} \| ([\d,]+) \| ${num} \| ${num} \| ${num} \|$`, 'm');
        const match = row.exec(stdout);
        expect(match, `${server} ${mix} ×${connections}`).to.not.equal(null);
        expect(Number(match?.[1]?.replaceAll(',', '')), `${server} ${mix} ×${connections} calls/s`).to.be.greaterThan(0);
      }
    }
  });

  it('prints an allocator row with every figure for every host and service count', () => {
    for (const { cpus, nodes } of SMOKE.hosts) {
      for (const services of SMOKE.services) {
        const figures = Array.from({ length: 6 }, () => timing).join(' \\| ');
        const row = new RegExp(String.raw`^\| ${fmt(cpus)} \| ${nodes} \| ${fmt(services)} \| [\d,]+ \| \d+ KiB \| ${figures} \|$`, 'm');
        expect(stdout, `${cpus} CPUs, ${nodes} nodes, ${services} services`).to.match(row);
      }
    }
  });

  it('prints a row with every thread-policy figure for every host with L3 domains and service count', () => {
    for (const { cpus, nodes, l3PerNode } of SMOKE.l3Hosts) {
      for (const services of SMOKE.services) {
        const figures = Array.from({ length: 5 }, () => timing).join(' \\| ');
        const row = new RegExp(String.raw`^\| ${fmt(cpus)} \| ${nodes} \| ${l3PerNode} \| ${fmt(services)} \| [\d,]+ \| ${figures} \|$`, 'm');
        expect(stdout, `${cpus} CPUs, ${nodes} nodes × ${l3PerNode} L3, ${services} services`).to.match(row);
      }
    }
  });

  it('prints the growth of every figure and a verdict for every target', () => {
    for (const figure of ['allocate_cores', 'allocate_numa_cores', 'list_allocations cold', 'list_allocations warm', 'reload (decode)', 'encode']) {
      expect(stdout).to.match(new RegExp(String.raw`^\| ${figure.replace(/[()]/g, '\\$&')} \| ×`, 'm'));
    }
    const verdicts = stdout.match(/\| (met|MISSED) \|$/gm) ?? [];
    // Both reads at each connection count, writes, allocator calls, with L3 domains, list_allocations.
    expect(verdicts).to.have.length(2 * SMOKE.socket.connections.length + 4);
  });

  it('writes no results file', () => {
    expect(mtimeOf(RESULTS)).to.equal(resultsBefore);
  });
});
