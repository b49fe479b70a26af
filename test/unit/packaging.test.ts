import { expect } from 'chai';
import { accessSync, constants, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';

// This file runs from dist/test/unit/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

const unused = (): Promise<void> => Promise.reject(new Error('packaging tests only read the command definitions'));
const program = buildProgram({ serve: unused, demo: unused, call: unused, view: unused, schema: unused }, '0.0.0');
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
  it('ships an executable bin/epa-orchestrator, the bin of package.json', () => {
    accessSync(join(repoRoot, 'bin/epa-orchestrator'), constants.X_OK);
    const pkg = JSON.parse(read('package.json')) as { name: string; bin: Record<string, string> };
    expect(pkg.bin).to.deep.equal({ 'epa-orchestrator': 'bin/epa-orchestrator' });
    expect(read('bin/epa-orchestrator')).to.match(/^#!\/usr\/bin\/env node\n/);
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
      parts: Record<string, { plugin: string }>;
    }
    const snap = parseYaml(read('snap/snapcraft.yaml')) as Snapcraft;

    it('is the strict core24 snap epa-orchestrator, built with the npm plugin', () => {
      expect(snap).to.include({ name: 'epa-orchestrator', base: 'core24', confinement: 'strict' });
      expect(Object.values(snap.parts).map((part) => part.plugin)).to.include('npm');
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

  describe('packaging/epa-orchestrator.service', () => {
    /** The unit as sections of key → values (a key may repeat); throws on a line that is neither. */
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
    const service = unit.get('Service') ?? new Map<string, string[]>();
    const value = (key: string) => service.get(key)?.join(' ');

    it('has Unit, Service and Install sections', () => {
      expect([...unit.keys()]).to.deep.equal(['Unit', 'Service', 'Install']);
    });

    it('starts serve on /run/epa-orchestrator/epa.sock with state in /var/lib/epa-orchestrator, logging JSON', () => {
      const words = value('ExecStart')!.split(/\s+/);
      expect(basename(words[0]!)).to.equal('epa-orchestrator');
      expectServeCommandLine(words, words[0]!);
      const flag = (name: string) => words[words.indexOf(name) + 1];
      expect(flag('--socket')).to.equal('/run/epa-orchestrator/epa.sock');
      expect(flag('--state-dir')).to.equal('/var/lib/epa-orchestrator');
      expect(flag('--log-format')).to.equal('json');
    });

    it('lets systemd make the runtime and state dirs, reloads with SIGHUP, and is hardened', () => {
      expect(value('RuntimeDirectory')).to.equal('epa-orchestrator');
      expect(value('StateDirectory')).to.equal('epa-orchestrator');
      expect(value('ExecReload')).to.equal('/bin/kill -HUP $MAINPID');
      expect(value('ProtectSystem')).to.equal('strict');
      expect(value('ReadWritePaths')).to.equal('/var/lib/epa-orchestrator');
      for (const key of ['ProtectHome', 'PrivateTmp', 'NoNewPrivileges']) expect(value(key), key).to.equal('true');
    });
  });
});
