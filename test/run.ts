// Runs every compiled test file with mocha, two files at a time (the machine's two cores: many
// tests wait on child processes and sockets), and ends with the closing line CI reads:
// "N passed, M failed". Mocha's own reporters do not print one.
import Mocha from 'mocha';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return testFiles(path);
      return name.endsWith('.test.js') ? [path] : [];
    });
}

const root = dirname(fileURLToPath(import.meta.url));
// dist/test mirrors test/; a compiled test whose source is gone (moved or deleted) must not run.
const sources = join(root, '..', '..', 'test');
const hasSource = (file: string) => existsSync(join(sources, relative(root, file)).replace(/\.js$/, '.ts'));
const only = process.argv.slice(2);
const mocha = new Mocha({ reporter: 'spec', timeout: 20_000, parallel: true, jobs: Math.max(2, availableParallelism()) });
for (const file of testFiles(root).filter(hasSource)) {
  if (only.length === 0 || only.some((part) => file.includes(part))) mocha.addFile(file);
}

const runner = mocha.run();
runner.on('end', () => {
  const { passes, failures, pending } = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
  const skipped = pending > 0 ? `, ${pending} skipped` : '';
  process.stdout.write(`${passes} passed, ${failures} failed${skipped}\n`);
  process.exitCode = failures > 0 || passes === 0 ? 1 : 0;
});
