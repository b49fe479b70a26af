// Writes the contract as files: one JSON Schema per method's params and result, and openrpc.json.
// `epa-orchestrator schema --out DIR` runs it (make schema writes into schema/, which is committed).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
