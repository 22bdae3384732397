import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Actor, signUpOwner } from '../support/actors';
import { AppUnderTest, CallOptions, codeOf } from '../support/app-under-test';

/**
 * Datasets (API.md §Datasets): uploads over REST, streamed through validation, pseudonymisation and
 * encryption; metadata over GraphQL. This file covers the happy paths, every kind of bad input (and
 * that nothing at all is stored after one), createDataset validation and upload/download audit.
 *
 * Expected column profiles are written by hand from the fixture files (test/fixtures, copied from
 * the public seaborn sample data), or computed here by plain string splitting: they do not reuse the
 * api's own profiler.
 */

const FIXTURES = join(__dirname, '..', 'fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const MAX_UPLOAD_BYTES = 65536;

const VERSION_FIELDS = 'id datasetId version sha256 sizeBytes rowCount columns { name type nullCount distinctEstimate pseudonymized } pseudonymizedColumns warnings { kind column count firstLine message } storageRegion createdAt';
const CREATE_DATASET = 'mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id name format piiColumns containsPersonalData legalBasis retentionDays eraseAfter createdAt versions { id } } }';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const as = (actor: Actor): CallOptions => ({ token: actor.token, tenantId: actor.tenantId });

interface Upload {
  status: number;
  body: any;
}

/** Every regular file under `root`, relative path → sha256, the `.tmp` staging folder excluded. */
function storedFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      if (!rel && name === '.tmp') continue;
      if (statSync(path).isDirectory()) walk(path, relPath);
      else out[relPath] = sha256(readFileSync(path));
    }
  };
  walk(root, '');
  return out;
}

function tmpEntries(root: string): string[] {
  try {
    return readdirSync(join(root, '.tmp'));
  } catch {
    return [];
  }
}

/** Splits a quote-free CSV by hand: per column, the number of blank cells and of distinct values. */
function naiveProfile(csv: string): { name: string; nullCount: number; distinct: number }[] {
  const [header, ...rows] = csv.trim().split('\n').map((l) => l.split(','));
  return header.map((name, i) => {
    const values = rows.map((r) => r[i]);
    const present = values.filter((v) => v !== '');
    return { name, nullCount: values.length - present.length, distinct: new Set(present).size };
  });
}

describe('datasets: uploads, downloads, validation', () => {
  let app: AppUnderTest;
  let storageDir: string;
  let owner: Actor;
  let stranger: Actor;
  let projectId: string;
  let strangerProjectId: string;

  async function createProject(actor: Actor, name: string): Promise<string> {
    const r = await app.graphql('mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }', { input: { name, description: null, dataClassification: 'CONFIDENTIAL' } }, as(actor));
    if (!r.data) throw new Error(`createProject failed: ${JSON.stringify(r.errors)}`);
    return r.data.createProject.id;
  }

  async function createDataset(input: Record<string, unknown>, actor = owner): Promise<any> {
    const r = await app.graphql(
      CREATE_DATASET,
      { input: { projectId, format: 'CSV', purpose: 'churn scoring model', legalBasis: 'NOT_APPLICABLE', containsPersonalData: false, ...input } },
      as(actor),
    );
    if (!r.data) throw new Error(`createDataset failed: ${JSON.stringify(r.errors)}`);
    return r.data.createDataset;
  }

  async function upload(datasetId: string, body: Buffer | string, contentType = 'text/csv', actor = owner): Promise<Upload> {
    const response = await app.fetch(`/v1/datasets/${datasetId}/versions`, { method: 'POST', body: Buffer.from(body), headers: { 'content-type': contentType }, ...as(actor) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async function download(versionId: string, actor = owner): Promise<{ status: number; content: Buffer; headers: Headers }> {
    const response = await app.fetch(`/v1/dataset-versions/${versionId}/content`, as(actor));
    return { status: response.status, content: Buffer.from(await response.arrayBuffer()), headers: response.headers };
  }

  async function storedRows(): Promise<{ versions: number; objects: number }> {
    const [row] = await app.ownerQuery('SELECT (SELECT count(*)::int FROM dataset_versions) AS versions, (SELECT count(*)::int FROM stored_objects) AS objects');
    return row;
  }

  /**
   * Runs `attempt` and asserts that no version row, no object row and no file appeared, and that the
   * `.tmp` staging folder is empty. A short settle lets a late file show up in the test that made it;
   * leftovers are then removed so that one leak fails one test, not every later one.
   */
  async function expectNothingStored<T>(attempt: () => Promise<T>): Promise<T> {
    const rowsBefore = await storedRows();
    const filesBefore = storedFiles(storageDir);
    const result = await attempt();
    await new Promise((r) => setTimeout(r, 100));
    const leftovers = tmpEntries(storageDir);
    for (const name of leftovers) rmSync(join(storageDir, '.tmp', name), { force: true });
    expect(await storedRows()).toEqual(rowsBefore);
    expect(storedFiles(storageDir)).toEqual(filesBefore);
    expect({ leftoversInTmp: leftovers }).toEqual({ leftoversInTmp: [] });
    return result;
  }

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'lutece-datasets-'));
    app = await AppUnderTest.start({ STORAGE_DIR: storageDir, MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });
    owner = await signUpOwner(app, 'ds-owner', 'Mutuelle de Lyon');
    stranger = await signUpOwner(app, 'ds-stranger', 'Other tenant');
    projectId = await createProject(owner, 'Scoring');
    strangerProjectId = await createProject(stranger, 'Elsewhere');
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(storageDir, { recursive: true, force: true });
  });

  describe('happy paths', () => {
    it('uploads iris: 201 with a complete DatasetVersion that GraphQL returns identically; versions increment', async () => {
      const dataset = await createDataset({ name: 'iris' });
      expect(dataset).toMatchObject({ name: 'iris', format: 'CSV', piiColumns: [], containsPersonalData: false, retentionDays: null, eraseAfter: null, versions: [] });
      const iris = fixture('iris.csv');

      const first = await upload(dataset.id, iris);
      expect(first.status).toBe(201);
      const v1 = first.body;
      expect(v1).toMatchObject({
        datasetId: dataset.id,
        version: 1,
        rowCount: '150',
        pseudonymizedColumns: [],
        warnings: [],
        storageRegion: 'fr-par',
      });
      expect(v1.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(v1.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(new Date(v1.createdAt).toISOString()).toBe(v1.createdAt);
      expect(v1.columns).toEqual([
        { name: 'sepal_length', type: 'numeric', nullCount: 0, distinctEstimate: 35, pseudonymized: false },
        { name: 'sepal_width', type: 'numeric', nullCount: 0, distinctEstimate: 23, pseudonymized: false },
        { name: 'petal_length', type: 'numeric', nullCount: 0, distinctEstimate: 43, pseudonymized: false },
        { name: 'petal_width', type: 'numeric', nullCount: 0, distinctEstimate: 22, pseudonymized: false },
        { name: 'species', type: 'categorical', nullCount: 0, distinctEstimate: 3, pseudonymized: false },
      ]);
      // Iris needs no quoting and uses \n: the normalised content is the file itself.
      expect(v1.sha256).toBe(sha256(iris));
      expect(v1.sizeBytes).toBe(String(iris.length));

      const fromGraphql = await app.graphql(`query($id: ID!) { datasetVersion(id: $id) { ${VERSION_FIELDS} } }`, { id: v1.id }, as(owner));
      expect(fromGraphql.data.datasetVersion).toEqual(v1);

      const got = await download(v1.id);
      expect(got.status).toBe(200);
      expect(sha256(got.content)).toBe(v1.sha256);
      expect(got.content.length).toBe(Number(v1.sizeBytes));
      expect(got.headers.get('x-content-sha256')).toBe(v1.sha256);
      expect(got.headers.get('content-type')).toMatch(/^text\/csv/);

      const second = await upload(dataset.id, iris);
      expect(second.status).toBe(201);
      expect(second.body.version).toBe(2);
      expect(second.body.id).not.toBe(v1.id);
      expect(second.body.sha256).toBe(v1.sha256);
      const third = await upload(dataset.id, 'sepal_length,species\n1.0,x\n');
      expect(third.body.version).toBe(3);

      const listed = await app.graphql('query($id: ID!) { dataset(id: $id) { versions { id version rowCount } } }', { id: dataset.id }, as(owner));
      expect(listed.data.dataset.versions).toEqual([
        { id: v1.id, version: 1, rowCount: '150' },
        { id: second.body.id, version: 2, rowCount: '150' },
        { id: third.body.id, version: 3, rowCount: '1' },
      ]);
      const connection = await app.graphql('query($p: ID!) { datasets(projectId: $p) { totalCount edges { node { id name versions { version } } } } }', { p: projectId }, as(owner));
      expect(connection.data.datasets.edges.map((e: any) => e.node.id)).toContain(dataset.id);
    });

    it('uploads penguins: blank cells are counted as nulls per column', async () => {
      const dataset = await createDataset({ name: 'penguins' });
      const penguins = fixture('penguins.csv');
      const { status, body } = await upload(dataset.id, penguins);
      expect(status).toBe(201);
      expect(body.rowCount).toBe('344');
      const expected = naiveProfile(penguins.toString('utf8'));
      const types: Record<string, string> = {
        species: 'categorical',
        island: 'categorical',
        bill_length_mm: 'numeric',
        bill_depth_mm: 'numeric',
        flipper_length_mm: 'numeric',
        body_mass_g: 'numeric',
        sex: 'categorical',
      };
      expect(body.columns).toEqual(expected.map((c) => ({ name: c.name, type: types[c.name], nullCount: c.nullCount, distinctEstimate: c.distinct, pseudonymized: false })));
      // The fixture really has blanks: 2 rows without measures, 11 without sex.
      expect(body.columns.find((c: any) => c.name === 'bill_length_mm').nullCount).toBe(2);
      expect(body.columns.find((c: any) => c.name === 'sex').nullCount).toBe(11);
      const got = await download(body.id);
      expect(sha256(got.content)).toBe(body.sha256);
      expect(got.content.toString('utf8').split('\n')[4]).toBe('Adelie,Torgersen,,,,,');
    });

    it('uploads titanic: mixed numeric, boolean, categorical columns with blanks', async () => {
      const dataset = await createDataset({ name: 'titanic' });
      const titanic = fixture('titanic.csv');
      const { status, body } = await upload(dataset.id, titanic);
      expect(status).toBe(201);
      expect(body.rowCount).toBe('891');
      const types: Record<string, string> = {
        survived: 'numeric',
        pclass: 'numeric',
        sex: 'categorical',
        age: 'numeric',
        sibsp: 'numeric',
        parch: 'numeric',
        fare: 'numeric',
        embarked: 'categorical',
        class: 'categorical',
        who: 'categorical',
        adult_male: 'boolean',
        deck: 'categorical',
        embark_town: 'categorical',
        alive: 'boolean',
        alone: 'boolean',
      };
      const expected = naiveProfile(titanic.toString('utf8'));
      expect(body.columns.map((c: any) => c.name)).toEqual(Object.keys(types));
      for (const column of body.columns) {
        const e = expected.find((x) => x.name === column.name)!;
        expect({ name: column.name, type: column.type, nullCount: column.nullCount, pseudonymized: column.pseudonymized }).toEqual({
          name: e.name,
          type: types[e.name],
          nullCount: e.nullCount,
          pseudonymized: false,
        });
        // Exact below 256 distinct values (every titanic column is).
        expect(column.distinctEstimate).toBe(e.distinct);
      }
      expect(body.columns.find((c: any) => c.name === 'age').nullCount).toBe(177);
      expect(body.columns.find((c: any) => c.name === 'deck').nullCount).toBe(688);
      const got = await download(body.id);
      expect(got.status).toBe(200);
      expect(sha256(got.content)).toBe(body.sha256);
      expect(got.content.toString('utf8')).toBe(titanic.toString('utf8'));
    });

    it('uploads JSON Lines: keys are unioned, blank lines skipped, PII pseudonymised, download is JSONL', async () => {
      const dataset = await createDataset({ name: 'events', format: 'JSONL', containsPersonalData: true, legalBasis: 'CONTRACT', piiColumns: ['email'] });
      const jsonl = [
        '{"email":"anne@example.fr","amount":12.5,"paid":true}',
        '',
        '{"email":"bob@example.fr","amount":3,"paid":false,"channel":"web"}',
        '{"email":null,"amount":null,"paid":true,"channel":"shop"}',
        '{"email":"anne@example.fr","amount":7,"paid":true,"channel":"web"}',
      ].join('\n');
      const { status, body } = await upload(dataset.id, jsonl, 'application/x-ndjson');
      expect(status).toBe(201);
      expect(body).toMatchObject({ version: 1, rowCount: '4', pseudonymizedColumns: ['email'], warnings: [], storageRegion: 'fr-par' });
      expect(body.columns).toEqual([
        { name: 'email', type: 'categorical', nullCount: 1, distinctEstimate: 2, pseudonymized: true },
        { name: 'amount', type: 'numeric', nullCount: 1, distinctEstimate: 3, pseudonymized: false },
        { name: 'paid', type: 'boolean', nullCount: 0, distinctEstimate: 2, pseudonymized: false },
        { name: 'channel', type: 'categorical', nullCount: 1, distinctEstimate: 2, pseudonymized: false },
      ]);
      const got = await download(body.id);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(sha256(got.content)).toBe(body.sha256);
      const text = got.content.toString('utf8');
      expect(text).not.toContain('example.fr');
      const rows = text.trim().split('\n').map((l) => JSON.parse(l));
      expect(rows).toHaveLength(4);
      expect(rows[0].email).toMatch(/^pii_/);
      expect(rows[3].email).toBe(rows[0].email);
      expect(rows[1].email).not.toBe(rows[0].email);
      expect(rows[2]).toEqual({ email: null, amount: null, paid: true, channel: 'shop' });
      expect(rows[1]).toMatchObject({ amount: 3, paid: false, channel: 'web' });
      // Other accepted JSON Lines media types, and a charset parameter.
      expect((await upload(dataset.id, '{"email":"x@y.fr"}\n', 'application/jsonl')).status).toBe(201);
      expect((await upload(dataset.id, '{"email":"x@y.fr"}\n', 'application/x-ndjson; charset=utf-8')).status).toBe(201);
    });

    it('gives concurrent uploads to one dataset consecutive version numbers', async () => {
      const dataset = await createDataset({ name: 'concurrent' });
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(dataset.id, `n,label\n${i},row${i}\n`)));
      expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201, 201]);
      expect(results.map((r) => r.body.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(new Set(results.map((r) => r.body.sha256)).size).toBe(6);
    });

    it('accepts CRLF line endings and quoted fields (with commas, quotes and newlines), and normalises them', async () => {
      const dataset = await createDataset({ name: 'crlf' });
      const csv = 'id,comment\r\n1,"hello, world"\r\n2,"she said ""hi"""\r\n3,"two\r\nlines"\r\n';
      const { status, body } = await upload(dataset.id, csv);
      expect(status).toBe(201);
      expect(body.rowCount).toBe('3');
      expect(body.columns.map((c: any) => [c.name, c.type])).toEqual([
        ['id', 'numeric'],
        ['comment', 'categorical'],
      ]);
      const got = await download(body.id);
      expect(sha256(got.content)).toBe(body.sha256);
      expect(got.content.toString('utf8')).toBe('id,comment\n1,"hello, world"\n2,"she said ""hi"""\n3,"two\r\nlines"\n');
    });

    it('accepts and strips a UTF-8 byte order mark', async () => {
      const dataset = await createDataset({ name: 'with-bom' });
      const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('ville,population\nLyon,522250\nSaint-Étienne,173089\n')]);
      const { status, body } = await upload(dataset.id, content, 'text/csv; charset=utf-8');
      expect(status).toBe(201);
      expect(body.columns.map((c: any) => c.name)).toEqual(['ville', 'population']);
      const got = await download(body.id);
      expect(got.content.subarray(0, 3)).not.toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      expect(got.content.toString('utf8')).toBe('ville,population\nLyon,522250\nSaint-Étienne,173089\n');
      expect(sha256(got.content)).toBe(body.sha256);

      const jsonl = await createDataset({ name: 'with-bom-jsonl', format: 'JSONL' });
      const withBom = await upload(jsonl.id, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ville":"Lyon"}\r\n{"ville":"Nice"}\r\n')]), 'application/x-ndjson');
      expect(withBom.status).toBe(201);
      expect(withBom.body.columns.map((c: any) => c.name)).toEqual(['ville']);
      expect((await download(withBom.body.id)).content.toString('utf8')).toBe('{"ville":"Lyon"}\n{"ville":"Nice"}\n');
    });

    it('accepts formula cells (=, +, -, @) and flags them in warnings without quoting the cells', async () => {
      const dataset = await createDataset({ name: 'formulas' });
      const csv = 'client,note,delta\nalice,"=HYPERLINK(""http://evil.example"")",-5\nbob,+CMDEXEC|calc,+3\ncarol,-WEBSERVICE(x),-0.5\ndave,@SUMSECRET(1),2\nerin,plain,-1e3\n';
      const { status, body } = await upload(dataset.id, csv);
      expect(status).toBe(201);
      expect(body.warnings).toEqual([{ kind: 'FORMULA_CELLS', column: 'note', count: 4, firstLine: 2, message: expect.any(String) }]);
      const warnings = JSON.stringify(body.warnings);
      for (const cell of ['HYPERLINK', 'evil.example', 'CMDEXEC', 'WEBSERVICE', 'SUMSECRET']) expect(warnings).not.toContain(cell);
      expect(body.columns.find((c: any) => c.name === 'delta').type).toBe('numeric');
      const fromGraphql = await app.graphql('query($id: ID!) { datasetVersion(id: $id) { warnings { kind column count firstLine } } }', { id: body.id }, as(owner));
      expect(fromGraphql.data.datasetVersion.warnings).toEqual([{ kind: 'FORMULA_CELLS', column: 'note', count: 4, firstLine: 2 }]);
    });
  });

  describe('bad input: located error, nothing stored', () => {
    let csvId: string;
    let jsonlId: string;

    beforeAll(async () => {
      csvId = (await createDataset({ name: 'bad-csv' })).id;
      jsonlId = (await createDataset({ name: 'bad-jsonl', format: 'JSONL' })).id;
      // One good upload first, so the store is not empty and a stray leftover would show.
      expect((await upload(csvId, 'a,b\n1,2\n')).status).toBe(201);
    });

    const LATIN1 = Buffer.concat([Buffer.from('name,city\nok,Paris\nbad,'), Buffer.from([0xc9, 0x76, 0x72, 0x79]), Buffer.from('\nlast,Nice\n')]);
    const BAD_CSV: [string, Buffer | string, number, RegExp][] = [
      ['non-UTF-8 (Latin-1) bytes', LATIN1, 3, /UTF-8/],
      ['a ragged row', 'a,b\n1,2\n3,4\n5,6,7\n', 4, /ragged/],
      ['a row with too few fields', 'a,b,c\n1,2,3\n4,5\n', 3, /ragged/],
      ['a duplicate header', 'a,b,a\n1,2,3\n', 1, /more than once/],
      ['an empty header name', 'a,,c\n1,2,3\n', 1, /header field 2 is empty/],
      ['an empty file', '', 1, /empty/],
      ['a header-only file', 'a,b,c\n', 2, /no data rows/],
      ['an unclosed quote', 'a,b\n1,2\n3,"4\n', 3, /never closed/],
      ['a ragged row with CRLF line endings', 'a,b\r\n1,2\r\n3\r\n', 3, /ragged/],
      ['a ragged row after a multi-line quoted cell', 'a,b\n1,"x\ny"\n3,4,5\n', 4, /ragged/],
      ['a stray quote inside an unquoted field', 'a,b\n1,se"cret\n', 2, /quote appears inside/],
      ['Latin-1 bytes in the header', Buffer.concat([Buffer.from('nom,'), Buffer.from([0xe9]), Buffer.from('t\n1,2\n')]), 1, /UTF-8/],
    ];

    it.each(BAD_CSV)('CSV with %s → 400 BAD_USER_INPUT naming the line', async (_label, content, line, message) => {
      const { status, body } = await expectNothingStored(() => upload(csvId, content));
      expect(status).toBe(400);
      expect(body).toEqual({ error: { code: 'BAD_USER_INPUT', message: expect.stringMatching(message), line } });
      expect(body.error.message).toContain(`line ${line}`);
    });

    const BAD_JSONL: [string, string, number, RegExp][] = [
      ['a line that is an array', '{"a":1}\n[1,2]\n{"a":3}\n', 2, /JSON object/],
      ['a line that is a number', '{"a":1}\n{"a":2}\n42\n', 3, /JSON object/],
      ['a line that is not valid JSON', '{"a":1}\n{"a":\n', 2, /not valid JSON/],
      ['a nested object', '{"a":1}\n{"a":{"b":2}}\n', 2, /string, number, boolean or null/],
    ];

    it.each(BAD_JSONL)('JSONL with %s → 400 BAD_USER_INPUT naming the line', async (_label, content, line, message) => {
      const { status, body } = await expectNothingStored(() => upload(jsonlId, content, 'application/x-ndjson'));
      expect(status).toBe(400);
      expect(body).toEqual({ error: { code: 'BAD_USER_INPUT', message: expect.stringMatching(message), line } });
    });

    it.each([
      ['text/plain to a CSV dataset', 'csv', 'text/plain'],
      ['application/json to a CSV dataset', 'csv', 'application/json'],
      ['application/json (a valid JSON body) to a JSONL dataset', 'jsonl', 'application/json'],
      ['no content type', 'csv', ''],
      ['text/csv to a JSONL dataset', 'jsonl', 'text/csv'],
      ['a non-UTF-8 charset', 'csv', 'text/csv; charset=iso-8859-1'],
    ])('refuses %s with 415', async (_label, which, contentType) => {
      const id = which === 'csv' ? csvId : jsonlId;
      const content = which === 'csv' ? 'a,b\n1,2\n' : '{"a":1}\n';
      const response = await expectNothingStored(async () => {
        const r = await app.fetch(`/v1/datasets/${id}/versions`, { method: 'POST', body: Buffer.from(content), headers: contentType ? { 'content-type': contentType } : {}, ...as(owner) });
        return { status: r.status, body: await r.json() };
      });
      expect(response).toEqual({ status: 415, body: { error: { code: 'BAD_USER_INPUT', message: expect.any(String) } } });
    });

    it('refuses a body over MAX_UPLOAD_BYTES announced by Content-Length with 413', async () => {
      const big = 'a,b\n' + '123456,654321\n'.repeat(Math.ceil((MAX_UPLOAD_BYTES + 10_000) / 14));
      const { status, body } = await expectNothingStored(() => upload(csvId, big));
      expect(status).toBe(413);
      expect(body).toEqual({ error: { code: 'BAD_USER_INPUT', message: expect.stringContaining(String(MAX_UPLOAD_BYTES)) } });
    });

    it('refuses a streamed (chunked, no Content-Length) body once it passes MAX_UPLOAD_BYTES with 413', async () => {
      const chunk = Buffer.from('123456,654321\n'.repeat(1024)); // 14 KiB, valid rows
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new Uint8Array(Buffer.from('a,b\n')));
        },
        pull(controller) {
          // Twice the limit at most, so the test does not depend on when the server stops reading.
          if (sent > MAX_UPLOAD_BYTES * 2) return controller.close();
          sent += chunk.length;
          controller.enqueue(new Uint8Array(chunk));
        },
      });
      const { status, body } = await expectNothingStored(async () => {
        const r = await fetch(`${app.baseUrl}/v1/datasets/${csvId}/versions`, {
          method: 'POST',
          body: stream,
          duplex: 'half',
          headers: { 'content-type': 'text/csv', authorization: `Bearer ${owner.token}`, 'x-tenant-id': owner.tenantId },
        } as RequestInit);
        return { status: r.status, body: await r.json() };
      });
      expect(status).toBe(413);
      expect(body).toEqual({ error: { code: 'BAD_USER_INPUT', message: expect.stringContaining(String(MAX_UPLOAD_BYTES)) } });
      // The api is still healthy afterwards.
      expect((await upload(csvId, 'a,b\n3,4\n')).status).toBe(201);
    });

    it('leaves nothing behind even when many bad uploads fail at once', async () => {
      const bad = ['', 'a,a\n1,2\n', 'a,,c\n1,2,3\n', 'a,b\n', '\u00e9'];
      const results = await expectNothingStored(() => Promise.all(Array.from({ length: 40 }, (_, i) => upload(csvId, bad[i % bad.length]))));
      expect(new Set(results.map((r) => r.status))).toEqual(new Set([400]));
    });

    it('answers 404 NOT_FOUND for an unknown dataset id and 400 for a malformed one', async () => {
      const unknown = await expectNothingStored(() => upload(randomUUID(), 'a,b\n1,2\n'));
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');
      const malformed = await expectNothingStored(() => upload('not-a-uuid', 'a,b\n1,2\n'));
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('BAD_USER_INPUT');
      const download404 = await download(randomUUID());
      expect(download404.status).toBe(404);
      expect(JSON.parse(download404.content.toString()).error.code).toBe('NOT_FOUND');
      expect((await download('nope')).status).toBe(400);
    });

    it('refuses a declared PII column that is missing from the header, storing nothing', async () => {
      const dataset = await createDataset({ name: 'missing-pii', containsPersonalData: true, legalBasis: 'CONSENT', piiColumns: ['nir'] });
      const { status, body } = await expectNothingStored(() => upload(dataset.id, 'name,age\nx,1\n'));
      expect(status).toBe(400);
      expect(body.error).toMatchObject({ code: 'BAD_USER_INPUT', line: 1, message: expect.stringContaining('"nir"') });
    });

    it('requires authentication', async () => {
      const response = await app.fetch(`/v1/datasets/${csvId}/versions`, { method: 'POST', body: 'a,b\n1,2\n', headers: { 'content-type': 'text/csv' } });
      expect(response.status).toBe(401);
      expect(((await response.json()) as any).error.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('createDataset validation', () => {
    const fieldsOf = (r: any): string[] => (r.errors?.[0]?.extensions?.fields ?? []).map((f: { field: string }) => f.field).sort();
    const base = () => ({ projectId, name: `v-${randomUUID().slice(0, 8)}`, format: 'CSV', purpose: 'fraud detection', legalBasis: 'CONTRACT', containsPersonalData: true });
    const datasetCount = async () => (await app.ownerQuery('SELECT count(*)::int AS n FROM datasets'))[0].n;

    it.each([
      ['piiColumns without containsPersonalData', { containsPersonalData: false, legalBasis: 'NOT_APPLICABLE', piiColumns: ['email'] }, ['piiColumns']],
      ['NOT_APPLICABLE legal basis with personal data', { legalBasis: 'NOT_APPLICABLE' }, ['legalBasis']],
      ['retentionDays 0', { retentionDays: 0 }, ['retentionDays']],
      ['retentionDays -3', { retentionDays: -3 }, ['retentionDays']],
      ['retentionDays 36501', { retentionDays: 36501 }, ['retentionDays']],
      ['a malformed projectId', { projectId: 'project-42' }, ['projectId']],
      ['an empty name', { name: '   ' }, ['name']],
      ['a repeated PII column', { piiColumns: ['email', 'email'] }, ['piiColumns']],
      ['several problems at once', { projectId: 'x', retentionDays: 0, legalBasis: 'NOT_APPLICABLE' }, ['legalBasis', 'projectId', 'retentionDays']],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_label, override, fields) => {
      const before = await datasetCount();
      const r = await app.graphql(CREATE_DATASET, { input: { ...base(), ...override } }, as(owner));
      expect(codeOf(r)).toBe('BAD_USER_INPUT');
      expect(fieldsOf(r)).toEqual(expect.arrayContaining(fields as string[]));
      expect(new Set(fieldsOf(r))).toEqual(new Set(fields as string[]));
      expect(await datasetCount()).toBe(before);
    });

    it('accepts the bounds of retentionDays and computes eraseAfter', async () => {
      for (const retentionDays of [1, 36500]) {
        const created = await createDataset({ ...base(), retentionDays });
        expect(created.retentionDays).toBe(retentionDays);
        expect(new Date(created.eraseAfter).getTime() - new Date(created.createdAt).getTime()).toBe(retentionDays * 86_400_000);
      }
    });

    it('is NOT_FOUND for another tenant’s project, exactly as for an unknown one', async () => {
      const before = await datasetCount();
      const foreign = await app.graphql(CREATE_DATASET, { input: { ...base(), projectId: strangerProjectId } }, as(owner));
      const missing = await app.graphql(CREATE_DATASET, { input: { ...base(), projectId: randomUUID() } }, as(owner));
      expect(codeOf(foreign)).toBe('NOT_FOUND');
      expect(foreign).toEqual(missing);
      expect(await datasetCount()).toBe(before);
    });

    it('is CONFLICT for a duplicate name in the project (case-insensitively), fine in another project', async () => {
      await createDataset({ ...base(), name: 'Customers 2026' });
      const before = await datasetCount();
      expect(codeOf(await app.graphql(CREATE_DATASET, { input: { ...base(), name: 'Customers 2026' } }, as(owner)))).toBe('CONFLICT');
      expect(codeOf(await app.graphql(CREATE_DATASET, { input: { ...base(), name: 'customers 2026' } }, as(owner)))).toBe('CONFLICT');
      expect(await datasetCount()).toBe(before);
      const otherProject = await createProject(owner, 'Second project');
      expect(codeOf(await app.graphql(CREATE_DATASET, { input: { ...base(), projectId: otherProject, name: 'Customers 2026' } }, as(owner)))).toBeUndefined();
      // A tenant does not see another tenant's names either: no CONFLICT across tenants.
      const r = await app.graphql(CREATE_DATASET, { input: { ...base(), projectId: strangerProjectId, name: 'Customers 2026' } }, as(stranger));
      expect(codeOf(r)).toBeUndefined();
    });
  });

  describe('traceability', () => {
    it('audits every upload (dataset.upload) and every download (dataset.read_content) with the version id and sha256', async () => {
      const dataset = await createDataset({ name: 'traced' });
      const { body: version } = await upload(dataset.id, fixture('iris.csv'));
      const uploads = await app.ownerQuery(`SELECT actor_id, resource_type, resource_id, outcome, details FROM audit_events WHERE tenant_id = $1 AND action = 'dataset.upload' AND resource_id = $2`, [owner.tenantId, version.id]);
      expect(uploads).toEqual([
        {
          actor_id: owner.userId,
          resource_type: 'DatasetVersion',
          resource_id: version.id,
          outcome: 'SUCCESS',
          details: expect.objectContaining({ datasetId: dataset.id, version: 1, sha256: version.sha256, rowCount: 150 }),
        },
      ]);

      const readsBefore = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'dataset.read_content' AND resource_id = $2`, [owner.tenantId, version.id]);
      expect(readsBefore[0].n).toBe(0);
      expect((await download(version.id)).status).toBe(200);
      expect((await download(version.id)).status).toBe(200);
      const reads = await app.ownerQuery(`SELECT actor_id, resource_type, resource_id, details FROM audit_events WHERE tenant_id = $1 AND action = 'dataset.read_content' AND resource_id = $2 ORDER BY seq`, [owner.tenantId, version.id]);
      expect(reads).toHaveLength(2);
      for (const read of reads) {
        expect(read).toEqual({ actor_id: owner.userId, resource_type: 'DatasetVersion', resource_id: version.id, details: expect.objectContaining({ datasetId: dataset.id, sha256: version.sha256 }) });
      }
      // The same events are visible to the tenant through the audit API.
      const viaApi = await app.graphql('{ auditEvents(first: 100) { edges { node { action resourceId details } } } }', {}, as(owner));
      const actions = viaApi.data.auditEvents.edges.map((e: any) => e.node).filter((n: any) => n.resourceId === version.id).map((n: any) => n.action);
      expect(actions.sort()).toEqual(['dataset.read_content', 'dataset.read_content', 'dataset.upload']);
      // A refused upload writes no dataset.upload event.
      await upload(dataset.id, 'a,a\n1,2\n');
      const after = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND action = 'dataset.upload' AND details->>'datasetId' = $2`, [owner.tenantId, dataset.id]);
      expect(after[0].n).toBe(1);
    });
  });
});
