// docs/api.md is generated (`make docs`) from the schemas and the replies of a real daemon on the
// sample host. The reference is rendered again in memory and compared with the committed file.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METHODS } from '../../schema/index.js';
import { renderApiReference } from '../../tools/docs/render.js';

// This file runs from dist/test/unit/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Where two texts first differ, as a line number and both versions of that line. */
function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '<end of file>')}, generated ${JSON.stringify(b[at] ?? '<end of file>')}`;
}

describe('docs/api.md', () => {
  let generated: string;

  before(async () => {
    generated = await renderApiReference();
  });

  it('is what make docs generates from the schemas and the daemon', () => {
    const committed = readFileSync(join(repoRoot, 'docs', 'api.md'), 'utf8');
    if (committed !== generated) expect.fail(`docs/api.md is stale: run make docs (first difference at ${firstDifference(committed, generated)})`);
  });

  it('comes out the same on every run, with nothing of the run in it', async () => {
    expect(await renderApiReference()).to.equal(generated);
    expect(generated).not.to.include(tmpdir());
    expect(generated).not.to.include(repoRoot);
  });

  /** The text of a method's section. */
  const sectionOf = (method: string) => generated.split(`### \`${method}\``)[1]?.split('\n### ')[0] ?? '';

  it('shows every method with params, result, errors and an example in both protocols', () => {
    for (const { name } of METHODS) {
      const section = sectionOf(name);
      expect(section, name).to.include('**Params**').and.include('**Result**').and.include('**Errors**');
      expect(section, name).to.include('{"jsonrpc":"2.0","id":').and.include('{"version":"1.0","action":');
    }
  });

  it('releases in its example what the session allocated', () => {
    expect(sectionOf('release_service')).to.match(/"released_cores": "[0-9]/);
  });
});
