import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Actor, memberWithRole, signUpOwner } from '../support/actors';
import { AppUnderTest, CallOptions, codeOf } from '../support/app-under-test';

/**
 * Datasets over their lifetime: erasure on request (crypto-shredding: the object secret goes, so no
 * copy of the object can be read again), tenant key rotation with the background re-wrap of older
 * objects, and erasure by the retention sweep.
 */

const FIXTURES = join(__dirname, '..', 'fixtures');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

const CREATE_DATASET = 'mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id name retentionDays eraseAfter createdAt } }';
const DATASET = 'query($id: ID!) { dataset(id: $id) { id versions { id version sha256 } } }';
const DATASETS = 'query($id: ID!) { datasets(projectId: $id) { edges { node { id } } } }';
const DATASET_VERSION = 'query($id: ID!) { datasetVersion(id: $id) { id sha256 } }';
const ROTATE = 'mutation { rotateTenantKey { generation rotatedAt rewrapPending } }';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const as = (actor: Actor): CallOptions => ({ token: actor.token, tenantId: actor.tenantId });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value, or fails after `timeoutMs`. */
async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

interface StoredVersion {
  version_id: string;
  version: number;
  sha256: string;
  object_id: string;
  storage_key: string;
  key_generation: number;
  object_sha256: string;
  has_secret: boolean;
  shredded: boolean;
}

describe('datasets: erasure, key rotation, retention', () => {
  let app: AppUnderTest;
  let storageDir: string;
  let asideDir: string;

  async function createProject(actor: Actor, name: string): Promise<string> {
    const r = await app.graphql('mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }', { input: { name, description: null, dataClassification: 'CONFIDENTIAL' } }, as(actor));
    if (!r.data) throw new Error(`createProject failed: ${JSON.stringify(r.errors)}`);
    return r.data.createProject.id;
  }

  async function createDataset(actor: Actor, projectId: string, input: Record<string, unknown> = {}): Promise<any> {
    const r = await app.graphql(
      CREATE_DATASET,
      { input: { projectId, name: `ds-${randomUUID().slice(0, 8)}`, format: 'CSV', purpose: 'species classifier', legalBasis: 'NOT_APPLICABLE', containsPersonalData: false, ...input } },
      as(actor),
    );
    if (!r.data) throw new Error(`createDataset failed: ${JSON.stringify(r.errors)}`);
    return r.data.createDataset;
  }

  async function upload(actor: Actor, datasetId: string, body: Buffer | string): Promise<any> {
    const response = await app.fetch(`/v1/datasets/${datasetId}/versions`, { method: 'POST', body: Buffer.from(body), headers: { 'content-type': 'text/csv' }, ...as(actor) });
    const json = await response.json();
    if (response.status !== 201) throw new Error(`upload failed: ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  async function download(actor: Actor, versionId: string): Promise<{ status: number; content: Buffer }> {
    const response = await app.fetch(`/v1/dataset-versions/${versionId}/content`, as(actor));
    return { status: response.status, content: Buffer.from(await response.arrayBuffer()) };
  }

  async function stored(datasetId: string): Promise<StoredVersion[]> {
    return app.ownerQuery<StoredVersion>(
      `SELECT v.id AS version_id, v.version, v.sha256, o.id AS object_id, o.storage_key, o.key_generation, o.sha256 AS object_sha256,
              o.object_secret IS NOT NULL AS has_secret, o.shredded_at IS NOT NULL AS shredded
         FROM dataset_versions v JOIN stored_objects o ON o.id = v.object_id
        WHERE v.dataset_id = $1 ORDER BY v.version`,
      [datasetId],
    );
  }

  const pathOf = (object: StoredVersion) => join(storageDir, object.storage_key);

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'lutece-datasets-life-'));
    asideDir = mkdtempSync(join(tmpdir(), 'lutece-datasets-aside-'));
    app = await AppUnderTest.start({ STORAGE_DIR: storageDir, RETENTION_SWEEP_SECONDS: '1' });
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(storageDir, { recursive: true, force: true });
    rmSync(asideDir, { recursive: true, force: true });
  });

  describe('erasure (deleteDataset)', () => {
    let owner: Actor;
    let projectId: string;

    beforeAll(async () => {
      owner = await signUpOwner(app, 'erase-owner', 'Erasure tenant');
      projectId = await createProject(owner, 'Erasure');
    });

    it('shreds every version: NOT_FOUND everywhere, secrets NULL, files gone, audited with versions and sha256', async () => {
      const dataset = await createDataset(owner, projectId, { name: 'to-erase' });
      const v1 = await upload(owner, dataset.id, fixture('iris.csv'));
      const v2 = await upload(owner, dataset.id, fixture('penguins.csv'));
      const before = await stored(dataset.id);
      expect(before.map((o) => [o.version, o.has_secret, o.shredded, existsSync(pathOf(o))])).toEqual([
        [1, true, false, true],
        [2, true, false, true],
      ]);
      expect((await download(owner, v1.id)).status).toBe(200);
      // A copy of the encrypted object taken before erasure (think: a backup).
      const aside = join(asideDir, 'v1.lte');
      copyFileSync(pathOf(before[0]), aside);
      expect(sha256(readFileSync(aside))).toBe(before[0].object_sha256);

      const deleted = await app.graphql('mutation($id: ID!) { deleteDataset(id: $id) }', { id: dataset.id }, as(owner));
      expect(deleted.errors).toBeUndefined();
      expect(deleted.data.deleteDataset).toBe(true);

      expect(codeOf(await app.graphql(DATASET, { id: dataset.id }, as(owner)))).toBe('NOT_FOUND');
      for (const v of [v1, v2]) {
        expect(codeOf(await app.graphql(DATASET_VERSION, { id: v.id }, as(owner)))).toBe('NOT_FOUND');
        const got = await download(owner, v.id);
        expect(got.status).toBe(404);
        expect(JSON.parse(got.content.toString()).error.code).toBe('NOT_FOUND');
      }
      const listed = await app.graphql(DATASETS, { id: projectId }, as(owner));
      expect(listed.data.datasets.edges.map((e: any) => e.node.id)).not.toContain(dataset.id);
      expect(codeOf(await app.graphql('mutation($id: ID!) { deleteDataset(id: $id) }', { id: dataset.id }, as(owner)))).toBe('NOT_FOUND');

      const after = await stored(dataset.id);
      expect(after.map((o) => [o.version, o.has_secret, o.shredded])).toEqual([
        [1, false, true],
        [2, false, true],
      ]);
      await eventually(async () => after.every((o) => !existsSync(pathOf(o))), 5000, 'the erased objects to be deleted');

      const events = await app.ownerQuery(`SELECT actor_id, outcome, details FROM audit_events WHERE tenant_id = $1 AND action = 'dataset.erase' AND resource_id = $2`, [owner.tenantId, dataset.id]);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor_id: owner.userId, outcome: 'SUCCESS', details: { reason: 'request' } });
      expect(events[0].details.versions).toEqual([
        expect.objectContaining({ id: v1.id, version: 1, sha256: v1.sha256 }),
        expect.objectContaining({ id: v2.id, version: 2, sha256: v2.sha256 }),
      ]);

      // Restoring the copy changes nothing: without its secret the object cannot be decrypted.
      copyFileSync(aside, pathOf(before[0]));
      expect((await download(owner, v1.id)).status).toBe(404);
      const [row] = await app.ownerQuery('SELECT object_secret FROM stored_objects WHERE id = $1', [before[0].object_id]);
      expect(row.object_secret).toBeNull();
      rmSync(pathOf(before[0]), { force: true });

      // The name is free again once the dataset is erased.
      const again = await createDataset(owner, projectId, { name: 'to-erase' });
      expect(again.id).not.toBe(dataset.id);
    });

    it('refuses erasure to roles that may not delete datasets, keeping the content readable', async () => {
      const dataset = await createDataset(owner, projectId);
      const v1 = await upload(owner, dataset.id, 'a,b\n1,2\n');
      for (const role of ['VIEWER', 'AUDITOR', 'BILLING'] as const) {
        const member = await memberWithRole(app, owner, role);
        expect(codeOf(await app.graphql('mutation($id: ID!) { deleteDataset(id: $id) }', { id: dataset.id }, as(member)))).toBe('FORBIDDEN');
      }
      expect((await stored(dataset.id))[0].has_secret).toBe(true);
      expect(sha256((await download(owner, v1.id)).content)).toBe(v1.sha256);
    });
  });

  describe('tenant key rotation', () => {
    let owner: Actor;
    let projectId: string;

    beforeAll(async () => {
      owner = await signUpOwner(app, 'rotate-owner', 'Rotation tenant');
      projectId = await createProject(owner, 'Rotation');
    });

    it('is OWNER only', async () => {
      for (const role of ['ADMIN', 'ML_ENGINEER', 'VIEWER', 'AUDITOR'] as const) {
        const member = await memberWithRole(app, owner, role);
        const r = await app.graphql(ROTATE, {}, as(member));
        expect({ role, code: codeOf(r) }).toEqual({ role, code: 'FORBIDDEN' });
      }
      const generations = await app.ownerQuery(`SELECT count(*)::int AS n FROM tenant_keys WHERE tenant_id = $1 AND purpose = 'ENCRYPTION' AND generation > 1`, [owner.tenantId]);
      expect(generations[0].n).toBe(0);
    });

    it('rotates: new uploads use generation 2, the old object is re-wrapped in the background, every version still reads back', async () => {
      const dataset = await createDataset(owner, projectId, { name: 'rotated' });
      const v1 = await upload(owner, dataset.id, fixture('iris.csv'));
      const [before] = await stored(dataset.id);
      expect(before.key_generation).toBe(1);
      const fileBefore = sha256(readFileSync(pathOf(before)));
      expect(fileBefore).toBe(before.object_sha256);

      const rotated = await app.graphql(ROTATE, {}, as(owner));
      expect(rotated.errors).toBeUndefined();
      expect(rotated.data.rotateTenantKey.generation).toBe(2);
      expect(rotated.data.rotateTenantKey.rewrapPending).toBeGreaterThanOrEqual(1);
      expect(Number.isNaN(Date.parse(rotated.data.rotateTenantKey.rotatedAt))).toBe(false);

      const v2 = await upload(owner, dataset.id, fixture('titanic.csv'));
      const second = (await stored(dataset.id)).find((o) => o.version_id === v2.id)!;
      expect(second.key_generation).toBe(2);

      for (const v of [v1, v2]) {
        const got = await download(owner, v.id);
        expect(got.status).toBe(200);
        expect(sha256(got.content)).toBe(v.sha256);
      }

      const moved = await eventually(
        async () => {
          const row = (await stored(dataset.id)).find((o) => o.version_id === v1.id)!;
          return row.key_generation === 2 ? row : undefined;
        },
        20_000,
        'the background re-wrap of version 1',
      );
      const fileAfter = sha256(readFileSync(pathOf(moved)));
      expect(fileAfter).not.toBe(fileBefore);
      expect(fileAfter).toBe(moved.object_sha256);
      expect(moved.has_secret).toBe(true);

      const got = await download(owner, v1.id);
      expect(got.status).toBe(200);
      expect(sha256(got.content)).toBe(v1.sha256);
      expect(got.content.equals(fixture('iris.csv'))).toBe(true);

      const events = await app.ownerQuery(`SELECT actor_id, details FROM audit_events WHERE tenant_id = $1 AND action = 'tenant.key_rotate'`, [owner.tenantId]);
      expect(events).toEqual([{ actor_id: owner.userId, details: expect.objectContaining({ generation: 2 }) }]);
    });

    it('a second rotation gives generation 3', async () => {
      const r = await app.graphql(ROTATE, {}, as(owner));
      expect(r.data.rotateTenantKey.generation).toBe(3);
    });
  });

  describe('retention', () => {
    it('the background sweep erases a dataset once its retention period has ended, and only that one', async () => {
      const owner = await signUpOwner(app, 'retention-owner', 'Retention tenant');
      const projectId = await createProject(owner, 'Retention');
      const due = await createDataset(owner, projectId, { name: 'short-lived', retentionDays: 1 });
      expect(due.retentionDays).toBe(1);
      expect(Date.parse(due.eraseAfter) - Date.parse(due.createdAt)).toBe(86_400_000);
      const kept = await createDataset(owner, projectId, { name: 'not-yet', retentionDays: 1 });
      const dueVersion = await upload(owner, due.id, fixture('iris.csv'));
      const keptVersion = await upload(owner, kept.id, 'a,b\n1,2\n');
      const [dueObject] = await stored(due.id);

      await app.ownerQuery(`UPDATE dataset_retention SET erase_after = now() - interval '1 minute' WHERE dataset_id = $1`, [due.id]);

      await eventually(async () => (await app.ownerQuery('SELECT erased_at FROM datasets WHERE id = $1', [due.id]))[0].erased_at, 15_000, 'the retention sweep');

      expect(codeOf(await app.graphql(DATASET, { id: due.id }, as(owner)))).toBe('NOT_FOUND');
      expect((await download(owner, dueVersion.id)).status).toBe(404);
      const [shredded] = await stored(due.id);
      expect(shredded).toMatchObject({ has_secret: false, shredded: true });
      await eventually(async () => !existsSync(pathOf(dueObject)), 5000, 'the erased object to be deleted');
      expect(await app.ownerQuery('SELECT * FROM dataset_retention WHERE dataset_id = $1', [due.id])).toEqual([]);

      const events = await app.ownerQuery(`SELECT actor_type, details FROM audit_events WHERE tenant_id = $1 AND action = 'dataset.erase' AND resource_id = $2`, [owner.tenantId, due.id]);
      expect(events).toHaveLength(1);
      expect(events[0].actor_type).toBe('system');
      expect(events[0].details).toMatchObject({ reason: 'retention', versions: [expect.objectContaining({ id: dueVersion.id, sha256: dueVersion.sha256 })] });

      // The other dataset is untouched.
      expect((await app.graphql(DATASET, { id: kept.id }, as(owner))).data.dataset.versions).toEqual([{ id: keptVersion.id, version: 1, sha256: keptVersion.sha256 }]);
      expect(sha256((await download(owner, keptVersion.id)).content)).toBe(keptVersion.sha256);
    });
  });

  // Last on purpose: see the comment on the api staying up.
  describe('integrity at rest', () => {
    it('never serves a tampered or swapped object as if it were intact', async () => {
      const owner = await signUpOwner(app, 'tamper-owner', 'Tamper tenant');
      const projectId = await createProject(owner, 'Tamper');
      const dataset = await createDataset(owner, projectId);
      const v1 = await upload(owner, dataset.id, fixture('iris.csv'));
      const v2 = await upload(owner, dataset.id, fixture('penguins.csv'));
      const [o1, o2] = await stored(dataset.id);
      const original1 = readFileSync(pathOf(o1));
      const original2 = readFileSync(pathOf(o2));

      const outcome = async (versionId: string, sha: string) => {
        try {
          const r = await app.fetch(`/v1/dataset-versions/${versionId}/content`, as(owner));
          const body = Buffer.from(await r.arrayBuffer());
          return r.status === 200 && sha256(body) === sha ? 'served' : 'refused';
        } catch {
          return 'refused'; // the connection was cut mid-stream
        }
      };

      // One flipped bit in the last bytes (a GCM tag).
      const flipped = Buffer.from(original1);
      flipped[flipped.length - 1] ^= 0x01;
      writeFileSync(pathOf(o1), flipped);
      expect(await outcome(v1.id, v1.sha256)).toBe('refused');
      // Refusing must not take the api down (this test runs last, so a crash does not cascade).
      const alive = await app.fetch('/healthz').then((r) => r.status, (e: Error) => `down: ${e.message}`);
      expect(alive).toBe(200);

      // Another object of the same tenant moved into v1's place.
      writeFileSync(pathOf(o1), original2);
      expect(await outcome(v1.id, v1.sha256)).toBe('refused');
      expect(await outcome(v1.id, v2.sha256)).toBe('refused');

      writeFileSync(pathOf(o1), original1);
      expect(await outcome(v1.id, v1.sha256)).toBe('served');
      expect(await outcome(v2.id, v2.sha256)).toBe('served');
      expect((await app.fetch('/healthz')).status).toBe(200);
    });
  });
});
