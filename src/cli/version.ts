// The version printed by --version: package.json's, read where the package is installed.
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  // This file runs as dist/src/cli/version.js, three levels below the package root.
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
