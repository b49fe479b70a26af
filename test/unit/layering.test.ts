// The layering of src/ is enforced by lint (eslint.config.js, ESLint's no-restricted-imports):
// these tests lint snippets as if they were files of a layer, against the real config, and prove
// the rules bite on the imports they forbid and leave the legal ones alone. That the repository
// itself keeps to them is `make lint`'s job, which `make test` runs first.
import { expect } from 'chai';
import { ESLint, type Linter } from 'eslint';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

// This file runs from dist/test/unit/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const RULE = 'no-restricted-imports';

describe('layering (lint)', function () {
  let eslint: ESLint;

  before(function () {
    // The real eslint.config.js, without type-aware linting: the project service refuses files that
    // are not on disk, and the layering rules need no types. Snippets import without using.
    eslint = new ESLint({
      cwd: repoRoot,
      overrideConfig: [
        tseslint.configs.disableTypeChecked,
        { rules: { '@typescript-eslint/no-unused-vars': 'off' } },
      ],
    });
  });

  /** The problems of `code` linted as the file at `path` (relative to the repository root). */
  async function lint(path: string, code: string): Promise<Linter.LintMessage[]> {
    const [result] = await eslint.lintText(code, { filePath: join(repoRoot, path) });
    expect(result, path).to.not.equal(undefined);
    expect(result!.messages.filter((m) => m.fatal), `${path} parses`).to.deep.equal([]);
    return result!.messages;
  }

  async function expectRejected(path: string, code: string, message: string): Promise<void> {
    const problems = await lint(path, code);
    const layering = problems.filter((m) => m.message.includes('layering:'));
    expect(layering, `${path}: ${code}`).to.not.deep.equal([]);
    expect(layering.map((m) => m.message).join('\n'), `${path}: ${code}`).to.include(message);
  }

  async function expectAccepted(path: string, code: string): Promise<void> {
    expect(await lint(path, code), `${path}: ${code}`).to.deep.equal([]);
  }

  describe('the allocator is pure', function () {
    it('rejects node: modules and bare builtins', async function () {
      const message = 'layering: the allocator is pure: no node: modules';
      await expectRejected('src/allocator/x.ts', "import { readFileSync } from 'node:fs';", message);
      await expectRejected('src/allocator/x.ts', "import { readFile } from 'fs/promises';", message);
      await expectRejected('src/allocator/x.ts', "export { join } from 'path';", message);
      const [problem] = await lint('src/allocator/x.ts', "import { readFileSync } from 'node:fs';");
      expect(problem?.ruleId).to.equal(RULE);
    });

    it('rejects the layers above it, however the path is spelled', async function () {
      const message = 'layering: the allocator imports only ../cpuset, ../memo, types from ../topology and ../../schema/index.js';
      // An allowlist: a layer the rules do not name (clock) is above the allocator too.
      for (const spec of ['../rpc/index.js', '../../src/rpc/dispatcher.js', '../state/index.js', '../transport/index.js',
        '../daemon/orchestrator.js', '../cli/main.js', '../client/index.js', '../clock/index.js', '../../bench/run.js']) {
        await expectRejected('src/allocator/x.ts', `import { x } from '${spec}';`, message);
      }
    });

    it('rejects a dynamic import()', async function () {
      await expectRejected('src/allocator/x.ts', "export const fs = () => import('node:fs');", 'no dynamic import()');
    });

    it('takes only types from topology, never its fixtures, and not the schema file writer', async function () {
      await expectRejected('src/allocator/x.ts', "import { readTopology } from '../topology/index.js';",
        "from topology only types ('import type')");
      await expectAccepted('src/allocator/x.ts', "import type { Topology } from '../topology/index.js';");
      await expectRejected('src/allocator/x.ts', "import type { FakeHost } from '../topology/fake/index.js';",
        'layering: only the demo command');
      await expectRejected('src/allocator/x.ts', "import { writeSchemas } from '../../schema/export.js';",
        'and ../../schema/index.js, nothing above it');
    });

    it('may import cpuset, memo and the schema', async function () {
      await expectAccepted('src/allocator/x.ts', [
        "import { CpuSet } from '../cpuset/index.js';",
        "import { Memo } from '../memo/index.js';",
        "import { DEFAULT_POOL, type PoolName } from '../../schema/index.js';",
        "import { Ledger } from './ledger.js';",
      ].join('\n'));
    });
  });

  describe('cpuset and memo are pure leaves', function () {
    it('reject node modules and anything outside their directory', async function () {
      await expectRejected('src/cpuset/x.ts', "import { readFileSync } from 'fs';", 'layering: cpuset is a pure leaf: no node: modules');
      await expectRejected('src/cpuset/x.ts', "import { Memo } from '../memo/index.js';", 'layering: cpuset is a leaf');
      await expectRejected('src/cpuset/x.ts', "import { DEFAULT_POOL } from '../../schema/index.js';", 'layering: cpuset is a leaf');
      await expectRejected('src/memo/x.ts', "import { CpuSet } from '../cpuset/index.js';", 'layering: memo is a leaf');
      await expectAccepted('src/cpuset/x.ts', "import { CpuSet } from './cpuset.js';");
    });
  });

  describe('transport sits below rpc', function () {
    it('rejects rpc, by any relative path, and the other layers above it', async function () {
      const message = 'layering: transport sits below rpc';
      await expectRejected('src/transport/x.ts', "import { x } from '../rpc/index.js';", message);
      await expectRejected('src/transport/x.ts', "import { x } from '../../src/rpc/dispatcher.js';", message);
      await expectRejected('src/transport/x.ts', "export * from '../rpc/index.js';", message);
      for (const layer of ['daemon', 'cli', 'state', 'allocator']) {
        await expectRejected('src/transport/x.ts', `import { x } from '../${layer}/index.js';`, message);
      }
      await expectAccepted('src/transport/x.ts', "import { createServer } from 'node:net';\nimport { MessageReader } from './framing.js';");
    });
  });

  describe('src and its fixtures', function () {
    it('src imports neither test/ nor bench/', async function () {
      await expectRejected('src/daemon/x.ts', "import { hosts } from '../../test/fixtures/hosts.js';",
        'layering: src must not import test/ or bench/');
      await expectRejected('src/cli/commands/x.ts', "import { run } from '../../../bench/run.js';",
        'layering: src must not import test/ or bench/');
    });

    it('only the demo command imports src/topology/fake; cli/messages.ts only its types', async function () {
      const message = 'layering: only the demo command';
      await expectRejected('src/daemon/x.ts', "import { SAMPLE_HOST } from '../topology/fake/index.js';", message);
      await expectRejected('src/daemon/x.ts', "import type { FakeHost } from '../topology/fake/host.js';", message);
      await expectRejected('src/topology/x.ts', "import { SAMPLE_HOST } from './fake/index.js';", 'topology must not import its fixtures');
      await expectAccepted('src/cli/commands/demo.ts', "import { SAMPLE_HOST } from '../../topology/fake/index.js';");
      await expectAccepted('src/cli/messages.ts', "import type { FakeHost } from '../topology/fake/index.js';");
      await expectRejected('src/cli/messages.ts', "import { SAMPLE_HOST } from '../topology/fake/index.js';", message);
    });
  });

  describe('schema is the contract', function () {
    it('imports nothing from src/, and no node modules outside export.ts', async function () {
      await expectRejected('schema/x.ts', "import { CpuSet } from '../src/cpuset/index.js';", 'layering: schema is the contract');
      await expectRejected('schema/x.ts', "import { readFile } from 'node:fs/promises';", 'free of I/O');
      await expectAccepted('schema/export.ts', "import { writeFile } from 'node:fs/promises';");
    });
  });
});
