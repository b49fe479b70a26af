// `schema --out DIR`: the contract as files (one JSON Schema per params and result, openrpc.json).
import { writeSchemaFiles } from '../../../schema/export.js';

export async function schema(outDir: string): Promise<void> {
  const written = await writeSchemaFiles(outDir);
  process.stdout.write(`wrote ${written.length} files under ${outDir}\n`);
}
