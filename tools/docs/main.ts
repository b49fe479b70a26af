// `make docs`: writes docs/api.md (see render.ts).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderApiReference } from './render.js';

// This file runs from dist/tools/docs/, three levels below the repository root.
const target = fileURLToPath(new URL('../../../docs/api.md', import.meta.url));
await writeFile(target, await renderApiReference());
process.stdout.write('wrote docs/api.md\n');
