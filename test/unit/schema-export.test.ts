import { expect } from 'chai';
import { Ajv } from 'ajv';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSchemaFiles, writeSchemaFiles } from '../../schema/export.js';
import { DOMAIN_ERRORS, METHODS, NOTIFICATIONS, buildOpenRpc } from '../../schema/index.js';

// This file runs from dist/test/unit/, three levels below the repository root.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(repoRoot, 'bin', 'epa-orchestrator');

/**
 * A validator for OpenRPC documents. The meta-schema points its JSON Schema definitions at
 * https://meta.json-schema.tools, which is draft-07's meta-schema under another id; ajv ships
 * draft-07, so it stands in under that id.
 */
function openRpcValidator() {
  const require = createRequire(import.meta.url);
  // The package's typings declare only the document types, not the meta-schema value.
  const { openrpcDocument } = require('@open-rpc/meta-schema') as { openrpcDocument: Record<string, unknown> };
  const draft07 = require('ajv/dist/refs/json-schema-draft-07.json') as {
    definitions: Record<string, unknown>;
  };
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    formats: {
      uri: true,
      'uri-reference': true,
      regex: (text: string) => {
        try {
          new RegExp(text, 'u');
          return true;
        } catch {
          return false;
        }
      },
    },
  });
  const standIn = {
    ...draft07,
    definitions: {
      ...draft07.definitions,
      JSONSchemaObject: { properties: { $ref: { type: 'string', format: 'uri-reference' } } },
    },
  };
  // The meta-schema spells the id both with and without the trailing slash.
  ajv.addSchema({ ...standIn, $id: 'https://meta.json-schema.tools' });
  ajv.addSchema({ ...standIn, $id: 'https://meta.json-schema.tools/' });
  const meta = { ...openrpcDocument };
  delete meta.$schema;
  return ajv.compile(meta);
}

describe('schema: OpenRPC document', () => {
  const validate = openRpcValidator();
  const document = buildOpenRpc();

  it('validates against the OpenRPC meta-schema', () => {
    const valid = validate(JSON.parse(JSON.stringify(document)));
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).to.deep.equal([]);
    expect(valid).to.equal(true);
  });

  it('is checked for real: a broken document is rejected', () => {
    const broken = JSON.parse(JSON.stringify(document)) as { methods: { paramStructure: string }[] };
    broken.methods[0]!.paramStructure = 'sideways';
    expect(validate(broken)).to.equal(false);
  });

  it('describes every method by name, with each param and whether it is required', () => {
    expect(document.openrpc).to.equal('1.2.6');
    const methods = document.methods as {
      name: string;
      paramStructure: string;
      params: { name: string; required: boolean }[];
    }[];
    expect(methods.map((m) => m.name), 'the methods, then the notifications the daemon sends').to.deep.equal([
      ...METHODS.map((m) => m.name),
      ...NOTIFICATIONS.map((n) => n.name),
    ]);
    const numa = methods.find((m) => m.name === 'allocate_numa_cores')!;
    expect(numa.paramStructure).to.equal('by-name');
    expect(numa.params.map((p) => [p.name, p.required])).to.deep.equal([
      ['service_name', true],
      ['numa_node', true],
      ['num_of_cores', true],
      ['preemption_policy', false],
      ['pool', false],
      ['cpu_thread_policy', false],
    ]);
    const memory = methods.find((m) => m.name === 'get_memory_info')!;
    expect(memory.params.map((p) => [p.name, p.required])).to.deep.equal([['service_name', false]]);
  });

  it('lists the domain errors, each with its code and reason', () => {
    const components = document.components!.errors as Record<string, { code: number; data: { reason: string } }>;
    expect(Object.keys(components)).to.have.length(11);
    for (const [reason, { code }] of Object.entries(DOMAIN_ERRORS)) {
      expect(components[reason]).to.include({ code });
      expect(components[reason]!.data.reason).to.equal(reason);
    }
    const hugepages = document.methods.find((m) => 'name' in m && m.name === 'allocate_hugepages') as {
      errors: { $ref: string }[];
    };
    expect(hugepages.errors).to.deep.include({ $ref: '#/components/errors/INSUFFICIENT_HUGEPAGES' });
  });
});

describe('schema: exported files', () => {
  const rendered = renderSchemaFiles();

  it('the committed files are what the generator writes (else: run make schema)', () => {
    const committed = new Map<string, string>();
    for (const name of readdirSync(join(repoRoot, 'schema', 'json'))) {
      committed.set(`json/${name}`, readFileSync(join(repoRoot, 'schema', 'json', name), 'utf8'));
    }
    committed.set('openrpc.json', readFileSync(join(repoRoot, 'schema', 'openrpc.json'), 'utf8'));
    const outOfDate = [...new Set([...rendered.keys(), ...committed.keys()])].filter(
      (path) => rendered.get(path) !== committed.get(path),
    );
    expect(outOfDate, `schema/ is out of date; run make schema (differs: ${outOfDate.join(', ')})`).to.deep.equal(
      [],
    );
  });

  it('writes a params and a result schema per method, plus openrpc.json', () => {
    expect(rendered.size).to.equal(METHODS.length * 2 + 1);
    const text = rendered.get('json/allocate_cores.params.json')!;
    expect(text.endsWith('}\n')).to.equal(true);
    const schema = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(schema).slice(0, 3)).to.deep.equal(['$schema', '$id', 'title']);
    expect(text).to.equal(`${JSON.stringify(schema, null, 2)}\n`);
  });

  it('gives standalone schemas that validate like the daemon does', () => {
    const ajv = new Ajv({ allErrors: true, strict: true });
    const validators = new Map(
      [...rendered].filter(([path]) => path.startsWith('json/')).map(([path, text]) => [path, ajv.compile(JSON.parse(text) as object)]),
    );
    const numa = validators.get('json/allocate_numa_cores.params.json')!;
    expect(numa({ service_name: 'svc', numa_node: 0, num_of_cores: 2 })).to.equal(true);
    expect(numa({ service_name: 'svc', numa_node: 0, num_of_cores: 0 })).to.equal(false);
    expect(numa({ service_name: 'svc', numa_node: 0, num_of_cores: 2, extra: 1 })).to.equal(false);
    const release = validators.get('json/release_service.result.json')!;
    const totals = { total_available_cpus: 28, remaining_available_cpus: 26 };
    expect(release({ service_name: 'svc', released_cores: '2-3', released_hugepages: [], ...totals })).to.equal(true);
    expect(release({ service_name: 'svc', released_cores: '3-', released_hugepages: [], ...totals })).to.equal(false);
  });

  it('writeSchemaFiles writes exactly the rendered files and removes stale ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'epa-schema-'));
    try {
      await writeSchemaFiles(dir);
      writeFileSync(join(dir, 'json', 'gone_method.params.json'), '{}\n');
      writeFileSync(join(dir, 'json', 'notes.txt'), 'kept\n');
      await writeSchemaFiles(dir);
      const names = readdirSync(join(dir, 'json')).sort();
      expect(names).to.deep.equal(
        [...rendered.keys()]
          .filter((p) => p.startsWith('json/'))
          .map((p) => p.slice('json/'.length))
          .concat('notes.txt')
          .sort(),
      );
      for (const [path, text] of rendered) expect(readFileSync(join(dir, path), 'utf8'), path).to.equal(text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`epa-orchestrator schema` writes to --out and refuses to run without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'epa-schema-cli-'));
    try {
      const run = spawnSync(bin, ['schema', '--out', dir], { encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      expect(readFileSync(join(dir, 'openrpc.json'), 'utf8')).to.equal(rendered.get('openrpc.json'));
      const bare = spawnSync(bin, ['schema'], { encoding: 'utf8' });
      expect(bare.status).to.equal(2);
      expect(bare.stderr).to.match(/--out <dir>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
