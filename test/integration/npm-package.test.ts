// The npm package, installed as an operator would: `make install PREFIX=…` packs
// it and installs the tarball with `npm install -g` (runtime dependencies only) into a temp prefix;
// the installed command then talks to a daemon, and a program of another project uses the typed
// client from `epa-orchestrator/client`, type-checked against the shipped .d.ts.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { daemonsPerTest } from '../support/daemon.js';
import { REPO_ROOT, Started } from '../support/process.js';

/** Every file below dir, relative to it. */
async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

describe('npm package: make install, the installed command, the client library', function () {
  this.timeout(90_000);
  const start = daemonsPerTest();
  let prefix: string;
  let installed: string;

  before(async () => {
    prefix = await mkdtemp(join(tmpdir(), 'epa-prefix-'));
    const make = spawnSync('make', ['--no-print-directory', 'install', `PREFIX=${prefix}`], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(make.status, make.stdout + make.stderr).to.equal(0);
    installed = join(prefix, 'lib', 'node_modules', 'epa-orchestrator');
  });
  after(async () => {
    await rm(prefix, { recursive: true, force: true });
  });

  it('installs the compiled code, the schemas, the units, README and LICENSE, and no tests or sources', async () => {
    const files = await filesBelow(installed).then((all) => all.filter((file) => !file.startsWith('node_modules/')));
    for (const needed of ['bin/epa-orchestrator', 'dist/src/cli/main.js', 'dist/src/client/index.d.ts', 'schema/openrpc.json', 'schema/json/allocate_cores.params.json', 'LICENSE', 'README.md', 'packaging/epa-orchestrator.service']) {
      expect(files).to.include(needed);
    }
    expect(files.filter((file) => /^(test|bench)\//.test(file) || /^dist\/(test|bench)\//.test(file))).to.deep.equal([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).to.deep.equal([]);
    expect(files.filter((file) => file.endsWith('.map'))).to.deep.equal([]);
    const dependencies = await readdir(join(installed, 'node_modules'));
    expect(dependencies).to.include.members(['ajv', 'commander', 'json-rpc-2.0', 'typebox', 'winston']);
    expect(dependencies, 'no dev dependencies').to.not.include.members(['mocha', 'typescript', 'fast-check']);
    expect(existsSync(join(prefix, 'lib', 'systemd', 'system', 'epa-orchestrator.socket'))).to.equal(true);
    expect(existsSync(join(prefix, 'lib', 'sysusers.d', 'epa-orchestrator.conf'))).to.equal(true);
  });

  it('puts the command where the installed unit runs it from, and the command works against a daemon', async () => {
    const command = join(prefix, 'bin', 'epa-orchestrator');
    const unit = spawnSync('grep', ['^ExecStart=', join(prefix, 'lib', 'systemd', 'system', 'epa-orchestrator.service')], { encoding: 'utf8' });
    expect(unit.stdout).to.match(new RegExp(`^ExecStart=${command} serve `));
    const d = await start();
    const call = await new Started(command, ['call', 'allocate_cores', '{"service_name":"nova","num_of_cores":2}', '--socket', d.socketPath], { cwd: tmpdir() }).exited;
    expect(call.code, call.stderr).to.equal(0);
    expect(JSON.parse(call.stdout)).to.include({ allocated_cores: '2,18' });
    const unreachable = await new Started(command, ['--socket', join(prefix, 'none.sock'), 'status'], { cwd: tmpdir() }).exited;
    expect(unreachable.code).to.equal(3);
  });

  it('gives another project a typed client: epa-orchestrator/client, with pipelining and typed errors', async () => {
    const d = await start();
    const project = join(prefix, 'consumer');
    await mkdir(join(project, 'node_modules'), { recursive: true });
    await symlink(installed, join(project, 'node_modules', 'epa-orchestrator'));
    await writeFile(join(project, 'package.json'), '{"type":"module"}\n');
    await writeFile(
      join(project, 'use.ts'),
      `import { EpaClient, EpaError, type ResultOf } from 'epa-orchestrator/client';
const client = await EpaClient.connect(process.argv[2]!, { timeoutMs: 5000 });
const [cores, listing] = await Promise.all([client.allocate_cores({ service_name: 'nova', num_of_cores: 2 }), client.list_allocations()]);
const cpus: string = cores.allocated_cores;
const entries: ResultOf<'list_allocations'>['allocations'] = listing.allocations;
let reason: string | undefined;
try {
  await client.allocate_numa_cores({ service_name: 'ovs', numa_node: 7, num_of_cores: 1 });
} catch (error) {
  if (error instanceof EpaError) reason = error.reason;
}
if (process.argv.length === 0) {
  // @ts-expect-error: the params are typed from the schemas: num_of_cores is a number.
  await client.allocate_cores({ service_name: 'x', num_of_cores: 'two' });
}
client.close();
console.log(JSON.stringify({ cpus, listed: entries.length, reason }));
`,
    );
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          // As most projects do: the libraries' own declarations are not checked again.
          skipLibCheck: true,
          outDir: 'out',
          typeRoots: [join(REPO_ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { encoding: 'utf8' });
    expect(tsc.status, tsc.stdout + tsc.stderr).to.equal(0);
    const run = await new Started(process.execPath, [join(project, 'out', 'use.js'), d.socketPath], { cwd: project }).exited;
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.equal({ cpus: '2,18', listed: 1, reason: 'NUMA_NODE_NOT_FOUND' });
  });
});
