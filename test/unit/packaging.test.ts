import { expect } from 'chai';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';
import { SNAP_OPTIONS } from '../../src/daemon/snap-options.js';

// This file runs from dist/test/unit/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

const unused = (): Promise<void> => Promise.reject(new Error('packaging tests only read the command definitions'));
const program = buildProgram({ serve: unused, demo: unused, call: unused, view: unused, schema: unused, checkPool: unused }, '0.0.0');
const serveCommand = program.commands.find((command) => command.name() === 'serve');

/** The long flags `serve --help` lists. */
function serveFlags(): string[] {
  expect(serveCommand, 'a serve command').to.not.equal(undefined);
  return [...serveCommand!.helpInformation().matchAll(/^ {2}(--[a-z-]+)/gm)].map((match) => match[1]!);
}

/** Program, subcommand and flags of a command line, checked against the real CLI. */
function expectServeCommandLine(words: string[], programPath: string): void {
  const [program, subcommand, ...rest] = words;
  expect(program).to.equal(programPath);
  expect(subcommand).to.equal('serve');
  const flags = serveFlags();
  for (const word of rest.filter((w) => w.startsWith('--'))) expect(flags, `serve --help lists ${word}`).to.include(word);
}

describe('packaging', () => {
  interface PackageJson {
    name: string;
    license: string;
    engines: Record<string, string>;
    bin: Record<string, string>;
    exports: Record<string, unknown>;
    files: string[];
    scripts: Record<string, string>;
    private?: boolean;
  }
  const pkg = JSON.parse(read('package.json')) as PackageJson;

  it('ships an executable bin/epa-orchestrator, the bin of package.json', () => {
    accessSync(join(repoRoot, 'bin/epa-orchestrator'), constants.X_OK);
    expect(pkg.bin).to.deep.equal({ 'epa-orchestrator': 'bin/epa-orchestrator' });
    expect(read('bin/epa-orchestrator')).to.match(/^#!\/usr\/bin\/env node\n/);
  });

  it('is an installable package: Apache-2.0 with its LICENSE, Node.js 20.19 or later, built before packing', () => {
    expect(pkg).to.include({ name: 'epa-orchestrator', license: 'Apache-2.0' });
    expect(pkg.private).to.equal(undefined);
    expect(pkg.engines).to.deep.equal({ node: '>=20.19' });
    expect(read('LICENSE')).to.contain('Apache License').and.to.contain('Version 2.0, January 2004');
    expect(pkg.scripts.prepack).to.equal('make build');
    expect(pkg.files).to.include.members(['bin/', 'dist/src/**/*.js', 'dist/src/**/*.d.ts', 'schema/json/', 'schema/openrpc.json', 'README.md', 'LICENSE']);
  });

  it('exports the typed client as epa-orchestrator/client, with its types', () => {
    expect(pkg.exports['./client']).to.deep.equal({ types: './dist/src/client/index.d.ts', default: './dist/src/client/index.js' });
    const source = read('src/client/index.ts');
    expect(source).to.contain('export { EpaClient');
  });

  describe('snap/snapcraft.yaml', () => {
    interface App {
      command: string;
      daemon?: string;
      plugs?: string[];
      slots?: string[];
    }
    interface Snapcraft {
      name: string;
      base: string;
      confinement: string;
      apps: Record<string, App>;
      slots: Record<string, { interface: string; content: string; source: { write: string[] } }>;
      plugs: Record<string, { interface: string; read: string[] }>;
      parts: Record<string, { plugin: string; 'npm-include-node'?: boolean; 'npm-node-version'?: string; 'build-snaps'?: string[] }>;
    }
    const snap = parseYaml(read('snap/snapcraft.yaml')) as Snapcraft;

    it("is the strict snap epa-orchestrator on the Python snap's base, core26, with Node.js 24", () => {
      expect(snap).to.include({ name: 'epa-orchestrator', base: 'core26', confinement: 'strict' });
      const part = snap.parts['epa-orchestrator']!;
      expect(part).to.include({ plugin: 'npm', 'npm-include-node': true, 'npm-node-version': '24' });
      expect(part['build-snaps']).to.deep.equal(['node/24/stable']);
    });

    it('has the configure hook, which checks cpu-pool with the check-pool command', () => {
      accessSync(join(repoRoot, 'snap/hooks/configure'), constants.X_OK);
      const hook = read('snap/hooks/configure');
      expect(hook).to.match(/^#!\/bin\/sh\n/);
      expect(hook).to.contain('exec "$SNAP/bin/epa-orchestrator" check-pool "$(snapctl get cpu-pool)"');
      expect(program.commands.map((command) => command.name())).to.include('check-pool');
      expect(Object.keys(SNAP_OPTIONS)).to.include('cpu-pool');
    });

    it('runs `bin/epa-orchestrator serve` as a simple daemon', () => {
      const daemon = snap.apps.daemon;
      expect(daemon).to.include({ daemon: 'simple' });
      const words = daemon!.command.split(/\s+/);
      accessSync(join(repoRoot, words[0]!), constants.X_OK);
      expectServeCommandLine(words, 'bin/epa-orchestrator');
      // The socket and the state must stay where the Python snap kept them: the daemon's defaults
      // under SNAP_DATA, so the command names neither.
      expect(words).to.not.include('--socket');
      expect(words).to.not.include('--state-dir');
    });

    it('shares $SNAP_DATA/data through the epa-info slot and reads /sys/devices/system/node', () => {
      expect(snap.slots['epa-info']).to.deep.equal({
        interface: 'content',
        content: 'epa-info',
        source: { write: ['$SNAP_DATA/data'] },
      });
      expect(snap.plugs['sys-devices-system-node']).to.deep.equal({
        interface: 'system-files',
        read: ['/sys/devices/system/node'],
      });
      expect(snap.apps.daemon!.plugs).to.include('sys-devices-system-node');
      expect(snap.apps.daemon!.slots).to.deep.equal(['epa-info']);
    });
  });

  describe('packaging/: the systemd units and the sysusers file', () => {
    /** A unit as sections of key → values (a key may repeat); throws on a line that is neither. */
    function parseUnit(text: string): Map<string, Map<string, string[]>> {
      const sections = new Map<string, Map<string, string[]>>();
      let current: Map<string, string[]> | undefined;
      text.split('\n').forEach((line, index) => {
        if (line.trim() === '' || /^[#;]/.test(line)) return;
        const section = /^\[([A-Za-z]+)\]$/.exec(line);
        if (section) {
          current = new Map();
          sections.set(section[1]!, current);
          return;
        }
        const entry = /^([A-Za-z]+)=(.*)$/.exec(line);
        if (!entry || !current) throw new Error(`line ${index + 1} is not a section or key=value: ${line}`);
        current.set(entry[1]!, [...(current.get(entry[1]!) ?? []), entry[2]!]);
      });
      return sections;
    }
    const unit = parseUnit(read('packaging/epa-orchestrator.service'));
    const socketUnit = parseUnit(read('packaging/epa-orchestrator.socket'));
    const service = unit.get('Service') ?? new Map<string, string[]>();
    const value = (key: string) => service.get(key)?.join(' ');

    it('starts serve from /usr/bin on /run/epa-orchestrator/epa.sock with state in /var/lib/epa-orchestrator', () => {
      const words = value('ExecStart')!.split(/\s+/);
      expect(words[0]).to.equal('/usr/bin/epa-orchestrator');
      expectServeCommandLine(words, words[0]!);
      const flag = (name: string) => words[words.indexOf(name) + 1];
      expect(flag('--socket')).to.equal('/run/epa-orchestrator/epa.sock');
      expect(flag('--state-dir')).to.equal('/var/lib/epa-orchestrator');
    });

    it('is started through its socket, which systemd owns: mode 0660, group epa', () => {
      expect(unit.get('Unit')?.get('Requires')).to.deep.equal(['epa-orchestrator.socket']);
      const socket = socketUnit.get('Socket')!;
      expect(socket.get('ListenStream')).to.deep.equal(['/run/epa-orchestrator/epa.sock']);
      expect(socket.get('SocketMode')).to.deep.equal(['0660']);
      expect(socket.get('SocketGroup')).to.deep.equal(['epa']);
    });

    it('runs as a dedicated unprivileged user, which sysusers creates with the group epa', () => {
      expect(value('User')).to.equal('epa-orchestrator');
      expect(value('StateDirectory')).to.equal('epa-orchestrator');
      expect(value('CapabilityBoundingSet')).to.equal('');
      expect(value('ExecReload')).to.equal('/bin/kill -HUP $MAINPID');
      const sysusers = read('packaging/epa-orchestrator.sysusers').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      expect(sysusers.map((line) => line.split(/\s+/).slice(0, 2).join(' '))).to.deep.equal(['u epa-orchestrator', 'g epa']);
    });
  });
});
