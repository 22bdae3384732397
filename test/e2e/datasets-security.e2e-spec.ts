import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../../src/common/authz/roles';
import { Actor, apiKeyWithRole, memberWithRole, signUpOwner } from '../support/actors';
import { AppUnderTest, CallOptions, codeOf, GraphQLResponse } from '../support/app-under-test';

/**
 * Datasets, security side: pseudonymisation of declared PII columns (and that neither a PII value nor
 * any plain cell ever reaches the disk, the database or the logs in clear), cross-tenant isolation of
 * every dataset operation, and the role matrix of API.md §Roles for datasets.
 */

const PII_MARKER = 'ZZMARKERPII7731';
const PLAIN_MARKER = 'ZZMARKERPLAIN8842';

const CREATE_DATASET = 'mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }';
const DATASET = 'query($id: ID!) { dataset(id: $id) { id name versions { id } } }';
const DATASETS = 'query($id: ID!) { datasets(projectId: $id) { totalCount edges { node { id } } } }';
const DATASET_VERSION = 'query($id: ID!) { datasetVersion(id: $id) { id sha256 } }';
const DELETE_DATASET = 'mutation($id: ID!) { deleteDataset(id: $id) }';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const as = (actor: Actor): CallOptions => ({ token: actor.token, tenantId: actor.tenantId });

/** Every regular file under `root` (the `.tmp` staging folder included), path → content. */
function allFiles(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(path, readFileSync(path));
    }
  };
  walk(root);
  return out;
}

/** The ways a marker could show up in bytes: as text, and as PostgreSQL's hex bytea output. */
function encodings(marker: string): Buffer[] {
  return [Buffer.from(marker), Buffer.from(Buffer.from(marker).toString('hex')), Buffer.from(marker, 'utf16le')];
}

function pgDump(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('pg_dump', ['--no-owner', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`pg_dump exited with ${code}: ${Buffer.concat(err)}`))));
  });
}

const parseCsv = (content: Buffer) => content.toString('utf8').trim().split('\n').map((line) => line.split(','));

describe('datasets: pseudonymisation, isolation, roles', () => {
  let app: AppUnderTest;
  let storageDir: string;
  let ownerA: Actor;
  let ownerB: Actor;
  let projectA: string;
  let projectB: string;
  /** Tenant A's pseudonym for PII_MARKER. */
  let pseudonymA: string;

  async function createProject(actor: Actor, name: string): Promise<string> {
    const r = await app.graphql('mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }', { input: { name, description: null, dataClassification: 'HEALTH' } }, as(actor));
    if (!r.data) throw new Error(`createProject failed: ${JSON.stringify(r.errors)}`);
    return r.data.createProject.id;
  }

  function datasetInput(projectId: string, input: Record<string, unknown>) {
    return { projectId, name: `ds-${randomUUID().slice(0, 8)}`, format: 'CSV', purpose: 'readmission risk', legalBasis: 'NOT_APPLICABLE', containsPersonalData: false, ...input };
  }

  async function createDataset(actor: Actor, projectId: string, input: Record<string, unknown> = {}): Promise<string> {
    const r = await app.graphql(CREATE_DATASET, { input: datasetInput(projectId, input) }, as(actor));
    if (!r.data) throw new Error(`createDataset failed: ${JSON.stringify(r.errors)}`);
    return r.data.createDataset.id;
  }

  async function upload(caller: CallOptions, datasetId: string, body: string, contentType = 'text/csv'): Promise<{ status: number; body: any }> {
    const response = await app.fetch(`/v1/datasets/${datasetId}/versions`, { method: 'POST', body, headers: { 'content-type': contentType }, ...caller });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async function download(caller: CallOptions, versionId: string): Promise<{ status: number; content: Buffer }> {
    const response = await app.fetch(`/v1/dataset-versions/${versionId}/content`, caller);
    return { status: response.status, content: Buffer.from(await response.arrayBuffer()) };
  }

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'lutece-datasets-sec-'));
    app = await AppUnderTest.start({ STORAGE_DIR: storageDir });
    ownerA = await signUpOwner(app, 'sec-a', 'Hôpital Alpha');
    ownerB = await signUpOwner(app, 'sec-b', 'Clinique Bravo');
    projectA = await createProject(ownerA, 'Readmissions');
    projectB = await createProject(ownerB, 'Readmissions');
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(storageDir, { recursive: true, force: true });
  });

  describe('pseudonymisation and encryption at rest', () => {

    it('replaces PII cells by stable pseudonyms, keeps other cells, and the download shows both', async () => {
      const datasetId = await createDataset(ownerA, projectA, { containsPersonalData: true, legalBasis: 'CONSENT', piiColumns: ['patient'] });
      const csv = `patient,age,note\n${PII_MARKER},42,${PLAIN_MARKER}\n${PII_MARKER},37,routine\nJeanne Martin,50,${PLAIN_MARKER}\n,61,no name\n`;
      const { status, body } = await upload(as(ownerA), datasetId, csv);
      expect(status).toBe(201);
      expect(body.pseudonymizedColumns).toEqual(['patient']);
      expect(body.columns[0]).toEqual({ name: 'patient', type: 'categorical', nullCount: 1, distinctEstimate: 2, pseudonymized: true });
      expect(body.columns[2]).toMatchObject({ name: 'note', pseudonymized: false });

      const got = await download(as(ownerA), body.id);
      expect(got.status).toBe(200);
      expect(sha256(got.content)).toBe(body.sha256);
      const text = got.content.toString('utf8');
      expect(text).not.toContain(PII_MARKER);
      expect(text).not.toContain('Jeanne Martin');
      // Only encrypted at rest: the tenant's own engineers read the non-PII marker back.
      expect(text).toContain(PLAIN_MARKER);
      const rows = parseCsv(got.content);
      expect(rows[0]).toEqual(['patient', 'age', 'note']);
      expect(rows[1][0]).toMatch(/^pii_[A-Za-z0-9_-]+$/);
      expect(rows[2][0]).toBe(rows[1][0]);
      expect(rows[3][0]).toMatch(/^pii_/);
      expect(rows[3][0]).not.toBe(rows[1][0]);
      expect(rows[4]).toEqual(['', '61', 'no name']);
      expect(rows[1].slice(1)).toEqual(['42', PLAIN_MARKER]);
      pseudonymA = rows[1][0];
    });

    it('gives the same pseudonym for the same value in another dataset of the tenant (JSONL, another column name)', async () => {
      const datasetId = await createDataset(ownerA, projectA, { format: 'JSONL', containsPersonalData: true, legalBasis: 'PUBLIC_TASK', piiColumns: ['patient_id'] });
      const { status, body } = await upload(as(ownerA), datasetId, `{"patient_id":"${PII_MARKER}","ward":"B"}\n{"patient_id":"someone else","ward":"C"}\n`, 'application/x-ndjson');
      expect(status).toBe(201);
      const rows = (await download(as(ownerA), body.id)).content.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(rows[0]).toEqual({ patient_id: pseudonymA, ward: 'B' });
      expect(rows[1].patient_id).not.toBe(pseudonymA);
    });

    it('gives a different pseudonym for the same value in another tenant', async () => {
      const datasetId = await createDataset(ownerB, projectB, { containsPersonalData: true, legalBasis: 'CONSENT', piiColumns: ['patient'] });
      const { status, body } = await upload(as(ownerB), datasetId, `patient,age,note\n${PII_MARKER},42,${PLAIN_MARKER}\n`);
      expect(status).toBe(201);
      const rows = parseCsv((await download(as(ownerB), body.id)).content);
      expect(rows[1][0]).toMatch(/^pii_/);
      expect(rows[1][0]).not.toBe(pseudonymA);
      expect(rows[1][2]).toBe(PLAIN_MARKER);
    });

    it('never quotes the file in the errors of refused uploads', async () => {
      const datasetId = await createDataset(ownerA, projectA, { containsPersonalData: true, legalBasis: 'CONSENT', piiColumns: ['patient'] });
      const attempts = [
        `patient,note\n${PII_MARKER},${PLAIN_MARKER},extra\n`,
        `patient,note\n${PII_MARKER},x${PLAIN_MARKER}"oops\n`,
        `patient,note\n${PII_MARKER},"${PLAIN_MARKER}\n`,
      ];
      for (const content of attempts) {
        const { status, body } = await upload(as(ownerA), datasetId, content);
        expect(status).toBe(400);
        expect(JSON.stringify(body)).not.toContain(PII_MARKER);
        expect(JSON.stringify(body)).not.toContain(PLAIN_MARKER);
      }
      const jsonl = await createDataset(ownerA, projectA, { format: 'JSONL' });
      const bad = await upload(as(ownerA), jsonl, `{"note":"${PLAIN_MARKER}"}\n{"note":"${PLAIN_MARKER}",}\n["${PLAIN_MARKER}"]\n`, 'application/x-ndjson');
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).not.toContain(PLAIN_MARKER);
    });

    it('leaves no marker in any stored file, in a pg_dump of the database, in audit/version rows or in the logs', async () => {
      const files = allFiles(storageDir);
      expect(files.size).toBeGreaterThanOrEqual(3);
      for (const [path, content] of files) {
        for (const marker of [PII_MARKER, PLAIN_MARKER]) {
          for (const encoded of encodings(marker)) {
            if (content.includes(encoded)) throw new Error(`${marker} found in stored file ${path}`);
          }
        }
      }

      const dump = await pgDump(app.ownerUrl);
      expect(dump.includes(Buffer.from('dataset_versions'))).toBe(true); // it is a real dump
      expect(dump.includes(Buffer.from(pseudonymA))).toBe(false); // not even pseudonyms: content lives only in objects
      for (const marker of [PII_MARKER, PLAIN_MARKER]) {
        for (const encoded of encodings(marker)) expect(dump.includes(encoded)).toBe(false);
      }

      const rows = await app.ownerQuery<{ text: string }>(`
        SELECT details::text AS text FROM audit_events
        UNION ALL SELECT row_to_json(v)::text FROM dataset_versions v
        UNION ALL SELECT row_to_json(d)::text FROM datasets d
        UNION ALL SELECT row_to_json(o)::text FROM stored_objects o`);
      expect(rows.length).toBeGreaterThan(5);
      const everything = rows.map((r) => r.text).join('\n');
      expect(everything).not.toContain(PII_MARKER);
      expect(everything).not.toContain(PLAIN_MARKER);
      expect(everything).not.toContain('Jeanne Martin');

      const logs = app.logs.join('');
      expect(logs.length).toBeGreaterThan(0);
      expect(logs).not.toContain(PII_MARKER);
      expect(logs).not.toContain(PLAIN_MARKER);
    });
  });

  describe('cross-tenant: another tenant’s ids are NOT_FOUND, exactly like random ones', () => {
    let datasetA: string;
    let versionA: string;
    let callers: [string, CallOptions][];

    /** Everything a client could observe about a GraphQL error answer. */
    const observable = (r: GraphQLResponse) => ({ status: r.status, data: r.data ?? null, errors: r.errors });

    beforeAll(async () => {
      datasetA = await createDataset(ownerA, projectA, { name: 'alpha-private' });
      const uploaded = await upload(as(ownerA), datasetA, 'a,b\n1,2\n');
      versionA = uploaded.body.id;
      const keyB = await apiKeyWithRole(app, ownerB, 'OWNER');
      callers = [
        ['B’s OWNER user', as(ownerB)],
        ['B’s OWNER API key', { token: keyB.secret }],
      ];
    });

    async function expectGraphqlLikeMissing(query: string, foreignId: string) {
      for (const [label, caller] of callers) {
        const foreign = await app.graphql(query, { id: foreignId }, caller);
        const missing = await app.graphql(query, { id: randomUUID() }, caller);
        expect(observable(foreign)).toEqual(observable(missing));
        expect({ label, code: codeOf(foreign) }).toEqual({ label, code: 'NOT_FOUND' });
      }
    }

    it('dataset(id)', () => expectGraphqlLikeMissing(DATASET, datasetA));
    it('datasetVersion(id)', () => expectGraphqlLikeMissing(DATASET_VERSION, versionA));
    it('datasets(projectId)', () => expectGraphqlLikeMissing(DATASETS, projectA));

    it('deleteDataset(id), which leaves A’s dataset intact', async () => {
      await expectGraphqlLikeMissing(DELETE_DATASET, datasetA);
      const still = await app.graphql(DATASET, { id: datasetA }, as(ownerA));
      expect(still.data.dataset.versions).toEqual([{ id: versionA }]);
      expect((await app.ownerQuery('SELECT object_secret IS NOT NULL AS kept FROM stored_objects o JOIN dataset_versions v ON v.object_id = o.id WHERE v.id = $1', [versionA]))[0].kept).toBe(true);
    });

    it('upload to A’s dataset: 404 like an unknown id, nothing stored', async () => {
      const before = await app.ownerQuery('SELECT (SELECT count(*)::int FROM dataset_versions) AS v, (SELECT count(*)::int FROM stored_objects) AS o');
      for (const [label, caller] of callers) {
        const foreign = await upload(caller, datasetA, 'a,b\n3,4\n');
        const missing = await upload(caller, randomUUID(), 'a,b\n3,4\n');
        expect({ label, status: foreign.status, code: foreign.body?.error?.code }).toEqual({ label, status: 404, code: 'NOT_FOUND' });
        expect(foreign).toEqual(missing);
      }
      expect(await app.ownerQuery('SELECT (SELECT count(*)::int FROM dataset_versions) AS v, (SELECT count(*)::int FROM stored_objects) AS o')).toEqual(before);
    });

    it('download of A’s version: 404 like an unknown id, not audited as a read in A', async () => {
      for (const [label, caller] of callers) {
        const foreign = await download(caller, versionA);
        const missing = await download(caller, randomUUID());
        expect({ label, status: foreign.status }).toEqual({ label, status: 404 });
        expect(JSON.parse(foreign.content.toString()).error.code).toBe('NOT_FOUND');
        expect(foreign.content.toString()).toBe(missing.content.toString());
      }
      const reads = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'dataset.read_content' AND resource_id = $1`, [versionA]);
      expect(reads[0].n).toBe(0);
    });

    it('B’s own listing never shows A’s datasets', async () => {
      const own = await app.graphql(DATASETS, { id: projectB }, as(ownerB));
      expect(own.data.datasets.edges.map((e: any) => e.node.id)).not.toContain(datasetA);
    });
  });

  describe('roles', () => {
    type Op = 'dataset' | 'datasets' | 'datasetVersion' | 'createDataset' | 'upload' | 'download' | 'deleteDataset';
    const OPS: Op[] = ['dataset', 'datasets', 'datasetVersion', 'createDataset', 'upload', 'download', 'deleteDataset'];
    // Written out by hand from API.md §Roles: "read … datasets (metadata)" and "upload datasets".
    // API.md does not say who may erase a dataset besides the OWNER: deleteDataset is not checked
    // for ADMIN and ML_ENGINEER (see UNSPECIFIED); every other cell is.
    const ALLOWED: Record<Exclude<Role, 'OWNER'>, Op[]> = {
      ADMIN: ['dataset', 'datasets', 'datasetVersion', 'createDataset', 'upload', 'download'],
      ML_ENGINEER: ['dataset', 'datasets', 'datasetVersion', 'createDataset', 'upload', 'download'],
      VIEWER: ['dataset', 'datasets', 'datasetVersion'],
      BILLING: [],
      AUDITOR: ['dataset', 'datasets', 'datasetVersion'],
    };

    const UNSPECIFIED: Partial<Record<Role, Op[]>> = { ADMIN: ['deleteDataset'], ML_ENGINEER: ['deleteDataset'] };

    let datasetId: string;
    let versionId: string;
    const actors = {} as Record<keyof typeof ALLOWED, Actor>;

    beforeAll(async () => {
      datasetId = await createDataset(ownerA, projectA, { name: 'role-matrix' });
      versionId = (await upload(as(ownerA), datasetId, 'x,y\n1,2\n')).body.id;
      for (const role of Object.keys(ALLOWED) as (keyof typeof ALLOWED)[]) actors[role] = await memberWithRole(app, ownerA, role);
    });

    /** Runs `op` as `caller`: 'ok', or the error code (REST 403 → FORBIDDEN). */
    async function attempt(op: Op, caller: CallOptions): Promise<string> {
      const gql = async (query: string, variables: Record<string, unknown>) => codeOf(await app.graphql(query, variables, caller)) ?? 'ok';
      switch (op) {
        case 'dataset':
          return gql(DATASET, { id: datasetId });
        case 'datasets':
          return gql(DATASETS, { id: projectA });
        case 'datasetVersion':
          return gql(DATASET_VERSION, { id: versionId });
        case 'createDataset':
          return gql(CREATE_DATASET, { input: datasetInput(projectA, {}) });
        case 'deleteDataset': {
          // A dataset of its own per attempt, so that a permitted erasure does not disturb the others.
          const victim = await createDataset(ownerA, projectA);
          const result = await gql(DELETE_DATASET, { id: victim });
          const [row] = await app.ownerQuery('SELECT erased_at IS NOT NULL AS erased FROM datasets WHERE id = $1', [victim]);
          expect(row.erased).toBe(result === 'ok');
          return result;
        }
        case 'upload': {
          const before = await app.ownerQuery('SELECT count(*)::int AS n FROM dataset_versions WHERE dataset_id = $1', [datasetId]);
          const r = await upload(caller, datasetId, 'x,y\n3,4\n');
          const after = await app.ownerQuery('SELECT count(*)::int AS n FROM dataset_versions WHERE dataset_id = $1', [datasetId]);
          expect(after[0].n - before[0].n).toBe(r.status === 201 ? 1 : 0);
          return r.status === 201 ? 'ok' : `${r.status} ${r.body?.error?.code}`;
        }
        case 'download': {
          const r = await download(caller, versionId);
          if (r.status === 200) return 'ok';
          return `${r.status} ${JSON.parse(r.content.toString()).error?.code}`;
        }
      }
    }

    const expected = (op: Op, allowed: boolean) => (allowed ? 'ok' : op === 'upload' || op === 'download' ? '403 FORBIDDEN' : 'FORBIDDEN');

    it.each(Object.keys(ALLOWED) as (keyof typeof ALLOWED)[])('%s gets exactly its cells of the matrix', async (role) => {
      const caller = as(actors[role]);
      const got: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const op of OPS) {
        if (UNSPECIFIED[role]?.includes(op)) continue;
        got[op] = await attempt(op, caller);
        want[op] = expected(op, ALLOWED[role].includes(op));
      }
      expect(got).toEqual(want);
    });

    it('OWNER may do everything', async () => {
      for (const op of OPS) expect({ op, result: await attempt(op, as(ownerA)) }).toEqual({ op, result: 'ok' });
    });

    it('an API key carries its role: VIEWER key reads metadata only, ML_ENGINEER key uploads and downloads', async () => {
      const viewerKey = await apiKeyWithRole(app, ownerA, 'VIEWER');
      const engineerKey = await apiKeyWithRole(app, ownerA, 'ML_ENGINEER');
      expect(await attempt('dataset', { token: viewerKey.secret })).toBe('ok');
      expect(await attempt('upload', { token: viewerKey.secret })).toBe('403 FORBIDDEN');
      expect(await attempt('download', { token: viewerKey.secret })).toBe('403 FORBIDDEN');
      expect(await attempt('upload', { token: engineerKey.secret })).toBe('ok');
      expect(await attempt('download', { token: engineerKey.secret })).toBe('ok');
    });

    it('a project-scoped key sees no dataset outside its project', async () => {
      const otherProject = await createProject(ownerA, 'Other project');
      const inside = await createDataset(ownerA, otherProject, { name: 'inside' });
      const scoped = await apiKeyWithRole(app, ownerA, 'ML_ENGINEER', otherProject);
      const key = { token: scoped.secret };
      expect((await upload(key, inside, 'a\n1\n')).status).toBe(201);
      expect(codeOf(await app.graphql(DATASET, { id: datasetId }, key))).toBe('NOT_FOUND');
      expect((await upload(key, datasetId, 'x,y\n5,6\n')).status).toBe(404);
      expect((await download(key, versionId)).status).toBe(404);
    });

    it('denied attempts write no read or upload events, and are audited as DENIED', async () => {
      const viewer = actors.VIEWER;
      await download(as(viewer), versionId);
      const reads = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'dataset.read_content' AND actor_id = $1`, [viewer.userId]);
      expect(reads[0].n).toBe(0);
      const denied = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE tenant_id = $1 AND actor_id = $2 AND outcome = 'DENIED'`, [ownerA.tenantId, viewer.userId]);
      expect(denied[0].n).toBeGreaterThan(0);
    });
  });
});
