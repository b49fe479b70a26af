// Lint rules on top of the type checker: catch floating promises and unused code, and enforce the
// layering of src/ (who may import whom; test/unit/layering.test.ts proves the rules bite).
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// --- Layering --------------------------------------------------------------------------------------
// Every rule is a pattern of ESLint's own no-restricted-imports (typescript-eslint's version is
// deprecated; the core rule has allowTypeImports, per pattern), a regular expression matched against
// the import specifier as written. Inside the repository everything is imported by relative path, so
// a layer is "a relative specifier with a path segment of that name": '../rpc/index.js',
// '../../src/rpc/x.js' and './rpc' all reach rpc. It checks import and export … from declarations;
// the pure layers also forbid import() (no-restricted-syntax). Flat config does not merge a rule's
// options across config objects (the last match wins), so each file group lists all its patterns.

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A relative specifier that goes through a directory named one of `names` ('topology/fake' works). */
const into = (...names) => `^\\.{1,2}/(?:.*/)?(?:${names.map(escape).join('|')})(?:/|$)`;
/** node:fs, node:test…, and the bare builtins: fs, fs/promises, path, os, child_process… */
const NODE_BUILTIN = `^(?:node:.+|${builtinModules.map(escape).join('|')})$`;

const restrict = (message, regex, extra = {}) => ({ regex, message: `layering: ${message}`, ...extra });

// Everywhere in src/.
const NO_TEST = restrict('src must not import test/ or bench/', into('test', 'bench'));
const NO_FAKE = restrict(
  'only the demo command (src/cli/commands/demo.ts) may import src/topology/fake, the sample host',
  into('topology/fake'),
);
const NO_SELF = restrict(
  "src imports src by relative path, not through the package's own exports",
  '^epa-orchestrator(?:/|$)',
);
const SRC = [NO_TEST, NO_FAKE, NO_SELF];

// cpuset and memo are leaves: pure, and everything they import is in their own directory.
const leaf = (name) => [
  restrict(`${name} is a pure leaf: no node: modules or node builtins`, NODE_BUILTIN),
  restrict(`${name} is a leaf: it imports only from its own directory (no other layer, schema or test)`, '^\\.\\./'),
];

// The allocator is pure, and an allowlist says what it may import: its own files, cpuset, memo, the
// types of topology, and the schema's index (free of I/O; schema/export.ts writes files). Any other
// layer, today's (rpc, state, transport, daemon, cli, client, clock) or a new one, is above it. The
// allocator's files sit directly in src/allocator/, so '../' leads to src/ and '../../' to the root.
const ALLOCATOR = [
  restrict('the allocator is pure: no node: modules or node builtins', NODE_BUILTIN),
  restrict(
    "the allocator imports only ../cpuset, ../memo, types from ../topology and ../../schema/index.js, nothing above it (rpc, state, transport, daemon, cli, client…)",
    '^\\.\\./(?!(?:cpuset|memo|topology)/|\\.\\./schema/index\\.js$)',
  ),
  restrict(
    "the allocator is pure: from topology only types ('import type'); its runtime reads sysfs",
    into('topology'),
    { allowTypeImports: true },
  ),
];

// transport is below rpc: it frames bytes on a socket and knows nothing of methods or state.
const TRANSPORT = [
  restrict(
    'transport sits below rpc: it must not import rpc, daemon, cli, state or allocator',
    into('rpc', 'daemon', 'cli', 'state', 'allocator'),
  ),
];

// topology's runtime does not reach into its own fixtures.
const TOPOLOGY = [restrict('topology must not import its fixtures (topology/fake)', '^\\./fake(?:/|$)')];

// schema/ is the contract: it imports nothing from src/; all but export.ts is free of I/O.
const SCHEMA = [restrict('schema is the contract: it imports nothing from src/, test/ or bench/', into('src', 'test', 'bench'))];
const SCHEMA_PURE = restrict(
  'schema is the contract and free of I/O: node: modules only in schema/export.ts',
  NODE_BUILTIN,
);

// Pure layers must not get around the rules with import().
const NO_DYNAMIC_IMPORT = (layer) => ({
  selector: 'ImportExpression',
  message: `layering: ${layer} is pure: no dynamic import()`,
});

const imports = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

const layering = [
  { name: 'layering/src', files: ['src/**/*.ts'], rules: imports(...SRC) },
  {
    name: 'layering/cpuset',
    files: ['src/cpuset/**/*.ts'],
    rules: { ...imports(...SRC, ...leaf('cpuset')), 'no-restricted-syntax': ['error', NO_DYNAMIC_IMPORT('cpuset')] },
  },
  {
    name: 'layering/memo',
    files: ['src/memo/**/*.ts'],
    rules: { ...imports(...SRC, ...leaf('memo')), 'no-restricted-syntax': ['error', NO_DYNAMIC_IMPORT('memo')] },
  },
  {
    name: 'layering/allocator',
    files: ['src/allocator/**/*.ts'],
    rules: { ...imports(...SRC, ...ALLOCATOR), 'no-restricted-syntax': ['error', NO_DYNAMIC_IMPORT('the allocator')] },
  },
  { name: 'layering/transport', files: ['src/transport/**/*.ts'], rules: imports(...SRC, ...TRANSPORT) },
  {
    name: 'layering/topology',
    files: ['src/topology/**/*.ts'],
    ignores: ['src/topology/fake/**'],
    rules: imports(...SRC, ...TOPOLOGY),
  },
  // The demo command serves the sample host; messages.ts names the fixture's type in a message.
  { name: 'layering/demo', files: ['src/cli/commands/demo.ts'], rules: imports(NO_TEST, NO_SELF) },
  {
    name: 'layering/cli-messages',
    files: ['src/cli/messages.ts'],
    rules: imports(NO_TEST, { ...NO_FAKE, allowTypeImports: true }, NO_SELF),
  },
  { name: 'layering/schema', files: ['schema/**/*.ts'], rules: imports(...SCHEMA, SCHEMA_PURE) },
  { name: 'layering/schema-export', files: ['schema/export.ts'], rules: imports(...SCHEMA) },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'schema/json/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
  ...layering,
);
