// Writes the contract as files: one JSON Schema per method's params and result, and openrpc.json.
// `node dist/schema/export.js --out DIR` (make schema uses --out schema; the output is committed).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { METHODS } from './methods.js';
import { buildOpenRpc, plainSchema } from './openrpc.js';

export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/** Every generated file: path relative to the output dir → its exact text. */
export function renderSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const method of METHODS) {
    for (const part of ['params', 'result'] as const) {
      const name = `${method.name}.${part}`;
      const document = {
        $schema: JSON_SCHEMA_DRAFT,
        $id: `urn:epa-orchestrator:schema:${name}`,
        title: `${method.name} ${part}`,
        description: method.summary,
        ...plainSchema(method[part]),
      };
      files.set(`json/${name}.json`, toText(document));
    }
  }
  files.set('openrpc.json', toText(buildOpenRpc()));
  return files;
}

// Key order is the order the schemas are declared in, which is fixed.
function toText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Writes the files under outDir and removes generated schemas of methods that no longer exist. */
export async function writeSchemaFiles(outDir: string): Promise<string[]> {
  const files = renderSchemaFiles();
  const jsonDir = join(outDir, 'json');
  await mkdir(jsonDir, { recursive: true });
  const stale = (await readdir(jsonDir)).filter(
    (name) => /\.(params|result)\.json$/.test(name) && !files.has(`json/${name}`),
  );
  await Promise.all(stale.map((name) => rm(join(jsonDir, name))));
  const written: string[] = [];
  for (const [path, text] of files) {
    const target = join(outDir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
    written.push(target);
  }
  return written;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' } }, strict: true });
  if (values.out === undefined) {
    process.stderr.write('usage: node dist/schema/export.js --out DIR\n');
    process.exitCode = 2;
    return;
  }
  const written = await writeSchemaFiles(values.out);
  process.stdout.write(`wrote ${written.length} files under ${values.out}\n`);
}

// Run as a script, not when imported (schema/index.ts re-exports this module).
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href;
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`schema export failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
