import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvelopeIntegrityError } from '../../src/contracts/envelope';
import { openGrant } from '../../src/contracts/key-grant';
import { LocalObjectStore } from '../../src/contracts/local-object-store';
import { installedCandidates, selectBackend } from '../src/backend';
import { modelFromArtifact, modelToArtifact, parseArtifact, serializeArtifact } from '../src/artifact';
import { JobError } from '../src/errors';
import { FAMILIES } from '../src/families';
import { JobObjects } from '../src/objects';
import { predictRows } from '../src/predict';
import { createSession, disposeSession, runEpoch, summarize } from '../src/training';
import { fixtureBytes, fixtureTable } from './support/fixtures';
import { TestTenant } from './support/tenant';

let storageDir: string;
let store: LocalObjectStore;

beforeAll(async () => {
  tf.env().set('PROD', true);
  await selectBackend(installedCandidates());
  storageDir = await mkdtemp(join(tmpdir(), 'lutece-worker-artifacts-'));
  store = new LocalObjectStore(storageDir, 'fr-par', 'test-node');
});

afterAll(async () => {
  await rm(storageDir, { recursive: true, force: true });
});

function jobObjects(tenant: TestTenant, jobId = 'job-1'): JobObjects {
  const payload = tenant.payload({ jobId, poolId: 'fr-par-cpu', baseModel: 'tabular-classifier', training: undefined as never, targetColumn: 'species', hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1 } });
  return new JobObjects(store, tenant.masterKeys, payload);
}

async function trainedPenguins() {
  const family = FAMILIES['tabular-classifier'];
  const data = family.prepare({ training: fixtureTable('penguins.csv'), validation: null, targetColumn: 'species', featureColumns: null, seed: 3 });
  const session = createSession(family, data, { epochs: 3, batchSize: 16, learningRate: 0.01, seed: 3 });
  let metrics;
  for (let epoch = 0; epoch < 3; epoch++) metrics = (await runEpoch(session, epoch)).metrics!;
  return { session, metrics: metrics! };
}

describe('model artifacts', () => {
  it('save → encrypt → store → read → decrypt → load gives the same predictions', async () => {
    const tenant = new TestTenant();
    const objects = jobObjects(tenant);
    const { session, metrics } = await trainedPenguins();
    const artifact = await modelToArtifact(session.model, { baseModel: 'tabular-classifier', preprocessing: session.data.preprocessing, epoch: 3, metrics, backend: 'wasm', summary: summarize(session) });

    const report = await objects.write('model_artifact', serializeArtifact(artifact));
    expect(report.storageKey).toBe(`${tenant.tenantId}/model_artifact/${report.objectId}.lte`);
    expect(report).toMatchObject({ region: 'fr-par', node: 'test-node', keyGeneration: 1 });
    const stored = await readFile(join(storageDir, report.storageKey));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(report.sha256);
    expect(stored.length).toBe(report.sizeBytes);
    // Nothing of the model is readable at rest.
    expect(stored.includes(Buffer.from('Adelie'))).toBe(false);
    expect(stored.includes(Buffer.from('lutece-tfjs'))).toBe(false);
    // The api opens the sealed object secret with its master keys, under the object's own context.
    expect(openGrant(tenant.masterKeys.keys, report.sealedObjectSecret, `object-secret:${report.objectId}`)).toHaveLength(32);

    const loaded = parseArtifact(await objects.readWritten(report));
    expect(loaded.preprocessing).toEqual(session.data.preprocessing);
    expect(loaded.summary.parameters).toBe(session.model.countParams());
    const model = await modelFromArtifact(loaded);
    const rows = fixtureTable('penguins.csv').rows;
    expect(predictRows(model, loaded.preprocessing, rows)).toEqual(predictRows(session.model, session.data.preprocessing, rows));
    model.dispose();
    disposeSession(session);
    objects.dispose();
  });

  it('continued training starts from the base model weights and its preprocessing', async () => {
    const tenant = new TestTenant();
    const objects = jobObjects(tenant);
    const { session, metrics } = await trainedPenguins();
    const artifact = await modelToArtifact(session.model, { baseModel: 'tabular-classifier', preprocessing: session.data.preprocessing, epoch: 3, metrics, backend: 'wasm', summary: summarize(session) });
    const baseRef = await tenant.storeObject(store, 'model_artifact', serializeArtifact(artifact));

    // What the runner does with payload.baseArtifact: the api's read grant opens it.
    const base = parseArtifact(await objects.read(baseRef));
    const family = FAMILIES['tabular-classifier'];
    const data = family.prepare({ training: fixtureTable('penguins.csv'), validation: null, targetColumn: 'species', featureColumns: null, seed: 99, saved: base.preprocessing });
    expect(data.preprocessing).toBe(base.preprocessing);
    const continued = createSession(family, data, { epochs: 1, batchSize: 16, learningRate: 0.001, seed: 99 }, await modelFromArtifact(base));
    const fresh = createSession(family, data, { epochs: 1, batchSize: 16, learningRate: 0.001, seed: 99 });
    const fromBase = (await runEpoch(continued, 0)).metrics!;
    const fromScratch = (await runEpoch(fresh, 0)).metrics!;
    console.info(`continued training, first epoch valLoss: from the base model ${fromBase.valLoss}, from scratch ${fromScratch.valLoss}`);
    expect(fromBase.valLoss!).toBeLessThan(fromScratch.valLoss! / 2);
    expect(fromBase.valAccuracy).toBeGreaterThanOrEqual(0.9);
    disposeSession(fresh);
    disposeSession(continued);
    disposeSession(session);
    objects.dispose();
  });

  it('continued training refuses a base model that predicts another column', () => {
    const family = FAMILIES['tabular-classifier'];
    const penguins = fixtureTable('penguins.csv');
    const saved = family.prepare({ training: penguins, validation: null, targetColumn: 'species', featureColumns: null, seed: 1 }).preprocessing;
    expect(() => family.prepare({ training: penguins, validation: null, targetColumn: 'island', featureColumns: null, seed: 1, saved })).toThrow('the base model predicts "species", not "island"');
    expect(() => FAMILIES['tabular-regressor'].prepare({ training: penguins, validation: null, targetColumn: 'species', featureColumns: null, seed: 1, saved })).toThrow(
      'the base model was not trained for this task',
    );
  });

  it('checks a dataset against its recorded plaintext SHA-256', async () => {
    const tenant = new TestTenant();
    const objects = jobObjects(tenant);
    const csv = fixtureBytes('iris.csv');
    const dataset = await tenant.storeDataset(store, csv);
    expect((await objects.readDataset(dataset, 'training dataset')).equals(csv)).toBe(true);
    await expect(objects.readDataset({ ...dataset, contentSha256: '0'.repeat(64) }, 'training dataset')).rejects.toThrow(new JobError('the training dataset does not match its recorded SHA-256', true));
  });

  it("refuses tampered bytes, another object's envelope, and grants sealed under unknown master keys", async () => {
    const tenant = new TestTenant();
    const objects = jobObjects(tenant);
    const first = await tenant.storeDataset(store, fixtureBytes('iris.csv'));
    const second = await tenant.storeDataset(store, fixtureBytes('iris.csv'));

    const path = join(storageDir, first.storageKey);
    const original = await readFile(path);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 40] ^= 1;
    await writeFile(path, tampered);
    await expect(objects.read(first)).rejects.toBeInstanceOf(EnvelopeIntegrityError);

    // A valid envelope of another object copied over this one's key.
    await writeFile(path, await readFile(join(storageDir, second.storageKey)));
    await expect(objects.read(first)).rejects.toThrow('envelope belongs to another object');

    const stranger = new TestTenant();
    await expect(jobObjects(stranger).read(second)).rejects.toThrow("an object's read grant does not open with this worker's master keys");
  });

  it("a write grant opens only for its own job", async () => {
    const tenant = new TestTenant();
    const payload = tenant.payload({ jobId: 'job-a', poolId: 'fr-par-cpu', baseModel: 'tabular-classifier', training: undefined as never, targetColumn: 'y', hyperparameters: { epochs: 1, batchSize: 1, learningRate: 0.1, seed: 1 } });
    const objects = new JobObjects(store, tenant.masterKeys, { ...payload, jobId: 'job-b' });
    await expect(objects.write('checkpoint', Buffer.from('{}'))).rejects.toThrow("the job's write grant does not open with this worker's master keys");
  });
});
