import * as tf from '@tensorflow/tfjs';
import { parse as parseCsv } from 'csv-parse/sync';
import Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArtifact, modelFromArtifact } from '../../gpu-worker/src/artifact';
import { selectBackend, installedCandidates } from '../../gpu-worker/src/backend';
import { DEV_MASTER_KEYS, parseMasterKeys } from '../../gpu-worker/src/config';
import { readGrantedObject } from '../../gpu-worker/src/objects';
import { predictInputs } from '../../gpu-worker/src/predict';
import type { EndpointConfig, PredictionOutput } from '../../src/contracts/inference';
import { servingKeys } from '../../src/contracts/inference';
import { LocalObjectStore } from '../../src/contracts/local-object-store';
import { canonicalJson } from '../../src/modules/audit/audit-chain';
import { Actor, apiKeyWithRole, memberWithRole, signUpOwner } from '../support/actors';
import { AppUnderTest, codeOf, GraphQLResponse } from '../support/app-under-test';
import { createProject, fixture, uploadCsvDataset } from '../support/datasets';
import { TEST_REDIS_URL } from '../support/services';
import { WorkerChild } from '../support/worker-process';

/**
 * Serving end to end: the compiled api, and gpu-worker processes of the test's own (one trains, one
 * serves, a second server joins for warm replicas), on real PostgreSQL and Redis. The model is
 * trained here on penguins; predictions are checked against the same artifact run in this process.
 */

const POOL = 'fr-par-l4';
const DRIFT_MIN_ROWS = 100;
const MAX_PREDICT_ROWS = 400;
const IDLE_SECONDS = 5;

const ENDPOINT_FIELDS = `id name environment status replicas minReplicas idleTimeoutSeconds pool failure promotedFromEndpointId
  modelVersion { id version } drift { status rows windowStart features { name psi } outputPsi } events { level message }`;
const CREATE_ENDPOINT = `mutation($input: CreateEndpointInput!) { createEndpoint(input: $input) { ${ENDPOINT_FIELDS} } }`;
const GET_ENDPOINT = `query($id: ID!) { endpoint(id: $id) { ${ENDPOINT_FIELDS} } }`;
const PREDICT = 'mutation($id: ID!, $inputs: [JSON!]!) { predict(endpointId: $id, inputs: $inputs) { outputs modelVersionId latencyMs coldStart } }';
const JOB = 'query($id: ID!) { fineTuningJob(id: $id) { status error resultModelVersion { id version driftBaseline } } }';

type Penguin = { island: string; bill_length_mm: number; bill_depth_mm: number; flipper_length_mm: number; body_mass_g: number; sex: string };
type Labelled = { input: Penguin; species: string };

/** The complete rows of penguins.csv as predict inputs (numbers as numbers), with their species. */
function penguins(): Labelled[] {
  const records = parseCsv(fixture('penguins.csv'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return records
    .filter((r) => Object.values(r).every((v) => v !== '' && v !== 'NA'))
    .map((r) => ({
      species: r.species,
      input: { island: r.island, bill_length_mm: Number(r.bill_length_mm), bill_depth_mm: Number(r.bill_depth_mm), flipper_length_mm: Number(r.flipper_length_mm), body_mass_g: Number(r.body_mass_g), sex: r.sex },
    }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('serving: endpoints on real gpu-workers', () => {
  const rows = penguins();
  let app: AppUnderTest;
  let redis: Redis;
  let storageDir: string;
  let owner: Actor;
  let projectId: string;
  let trainer: WorkerChild;
  let server: WorkerChild;
  const workers: WorkerChild[] = [];
  let v1: { id: string; driftBaseline: any };
  let v2: { id: string };
  let staging: any;
  /** Successful predict calls made on the staging endpoint, and their rows: audit and usage must match. */
  const stagingCalls = { calls: 0, rows: 0 };
  const as = (actor: Actor) => ({ token: actor.token, tenantId: actor.tenantId });

  async function predict(actor: Actor, endpointId: string, inputs: unknown[]): Promise<GraphQLResponse> {
    const response = await app.graphql(PREDICT, { id: endpointId, inputs }, as(actor));
    if (endpointId === staging?.id && response.data?.predict) {
      stagingCalls.calls++;
      stagingCalls.rows += inputs.length;
    }
    return response;
  }

  async function endpoint(id: string): Promise<any> {
    const response = await app.graphql(GET_ENDPOINT, { id }, as(owner));
    if (!response.data) throw new Error(`endpoint ${id}: ${JSON.stringify(response.errors)}`);
    return response.data.endpoint;
  }

  async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  }

  async function train(input: Record<string, unknown>): Promise<any> {
    const created = await app.graphql('mutation($input: CreateFineTuningJobInput!) { createFineTuningJob(input: $input) { id } }', { input }, as(owner));
    if (!created.data) throw new Error(`createFineTuningJob: ${JSON.stringify(created.errors)}`);
    const id = created.data.createFineTuningJob.id;
    const job = await until(async () => {
      const j = (await app.graphql(JOB, { id }, as(owner))).data?.fineTuningJob;
      return ['FAILED', 'CANCELLED'].includes(j?.status) || (j?.status === 'SUCCEEDED' && j.resultModelVersion) ? j : undefined;
    }, `job ${id}`, 90_000);
    if (job.status !== 'SUCCEEDED') throw new Error(`training ${job.status}: ${job.error}`);
    return job.resultModelVersion;
  }

  async function createEndpoint(actor: Actor, input: Record<string, unknown>): Promise<GraphQLResponse> {
    return app.graphql(CREATE_ENDPOINT, { input: { projectId, modelVersionId: v1.id, environment: 'STAGING', idleTimeoutSeconds: IDLE_SECONDS, ...input } }, as(actor));
  }

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'lutece-serving-'));
    app = await AppUnderTest.start({ STORAGE_DIR: storageDir, WORKERS: '0', DRIFT_MIN_ROWS: String(DRIFT_MIN_ROWS), MAX_PREDICT_ROWS: String(MAX_PREDICT_ROWS) });
    redis = new Redis(TEST_REDIS_URL);
    // One worker trains, another serves: calls never wait behind an epoch, and only the server holds models.
    trainer = new WorkerChild(app, { storageDir, pool: POOL, node: 'trainer', WORKER_ROLES: 'training' });
    // A 50 ms batch window instead of the default 2 ms: calls that the api spreads over a few
    // milliseconds each (20 GraphQL calls on a 2-CPU runner) still meet in one batch.
    server = new WorkerChild(app, { storageDir, pool: POOL, node: 'server-a', WORKER_ROLES: 'inference', WORKER_METRICS_PORT: '0', WORKER_BATCH_WAIT_MS: '50' });
    workers.push(trainer, server);
    owner = await signUpOwner(app, 'serving-owner');
    projectId = await createProject(app, owner);
    const dataset = await uploadCsvDataset(app, owner, projectId, fixture('penguins.csv'), { name: 'penguins' });
    await Promise.all([trainer.ready(), server.ready()]);
    const hyperparameters = { epochs: 6, batchSize: 16, learningRate: 0.01, seed: 7 };
    v1 = await train({ projectId, baseModel: 'tabular-classifier', trainingDatasetVersionId: dataset.versionId, targetColumn: 'species', hyperparameters });
    v2 = await train({ projectId, baseModel: 'tabular-classifier', baseModelVersionId: v1.id, trainingDatasetVersionId: dataset.versionId, targetColumn: 'species', hyperparameters: { ...hyperparameters, epochs: 1, seed: 8 } });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    redis?.disconnect();
    await app?.stop();
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });

  it('keeps a drift baseline of the training data with the model version, named after its inputs', () => {
    const baseline = v1.driftBaseline;
    expect(baseline.features.map((f: any) => f.name)).toEqual(['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'sex']);
    const mass = baseline.features.find((f: any) => f.name === 'body_mass_g');
    expect(mass.kind).toBe('numeric');
    expect(mass.binEdges.length).toBeGreaterThanOrEqual(8);
    expect(mass.proportions).toHaveLength(mass.binEdges.length + 1);
    expect(mass.proportions.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
    expect(baseline.features.find((f: any) => f.name === 'island')).toMatchObject({ kind: 'categorical', proportions: { Biscoe: expect.any(Number), Dream: expect.any(Number), Torgersen: expect.any(Number) } });
    // 152 Adelie among the 344 labelled penguins.
    expect(baseline.output.kind).toBe('classes');
    expect(baseline.output.proportions.Adelie).toBeCloseTo(152 / 344, 3);
    expect(baseline.rows).toBe(344);
  });

  it('deploys to STAGING and predicts: a cold start, then warm, with what the model itself predicts', async () => {
    const created = await createEndpoint(owner, { name: 'penguins' });
    expect(codeOf(created)).toBeUndefined();
    staging = created.data.createEndpoint;
    expect(staging).toMatchObject({ environment: 'STAGING', status: 'SCALED_TO_ZERO', replicas: 0, pool: POOL, modelVersion: { id: v1.id } });

    const sample = rows.filter((_, i) => i % 37 === 0);
    const cold = await predict(owner, staging.id, sample.map((r) => r.input));
    expect(codeOf(cold)).toBeUndefined();
    expect(cold.data.predict).toMatchObject({ coldStart: true, modelVersionId: v1.id });
    const warm = await predict(owner, staging.id, sample.map((r) => r.input));
    expect(warm.data.predict.coldStart).toBe(false);
    expect(warm.data.predict.outputs).toEqual(cold.data.predict.outputs);
    expect(await endpoint(staging.id)).toMatchObject({ status: 'READY', replicas: 1 });

    // The same artifact, opened with the grant the api published for the pool, predicted in this process.
    const config = JSON.parse((await redis.hget(servingKeys.endpointsConfig(app.redisPrefix, POOL), staging.id))!) as EndpointConfig;
    const store = new LocalObjectStore(storageDir, 'fr-par', 'test');
    const artifact = parseArtifact(await readGrantedObject(store, parseMasterKeys(DEV_MASTER_KEYS), owner.tenantId, config.artifact));
    tf.env().set('PROD', true);
    await selectBackend(installedCandidates(), 'wasm');
    const model = await modelFromArtifact(artifact);
    const expected = predictInputs(model, artifact.preprocessing, sample.map((r) => r.input));
    model.dispose();
    const served = cold.data.predict.outputs as PredictionOutput[];
    expect(served).toHaveLength(sample.length);
    served.forEach((output, i) => {
      const want = expected[i] as { label: string; probabilities: Record<string, number> };
      expect(output).toEqual({ label: want.label, probabilities: expect.any(Object) });
      for (const species of ['Adelie', 'Chinstrap', 'Gentoo']) expect((output as typeof want).probabilities[species]).toBeCloseTo(want.probabilities[species], 5);
    });
    // And the model is right about the penguins it was trained on.
    const correct = served.filter((o, i) => 'label' in o && o.label === sample[i].species).length;
    expect(correct / sample.length).toBeGreaterThanOrEqual(0.9);
  });
  it('scales to zero after idleTimeoutSeconds without traffic, and the next call is cold again', async () => {
    const idle = await until(async () => {
      const e = await endpoint(staging.id);
      return e.status === 'SCALED_TO_ZERO' ? e : undefined;
    }, 'SCALED_TO_ZERO', (IDLE_SECONDS + 8) * 1000);
    expect(idle.replicas).toBe(0);
    const again = await predict(owner, staging.id, [rows[0].input]);
    expect(again.data.predict.coldStart).toBe(true);
    expect((await predict(owner, staging.id, [rows[1].input])).data.predict.coldStart).toBe(false);
  });

  it('batches concurrent callers into one predict, as the audit trail and the worker metrics show', async () => {
    const auditedBefore = await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'endpoint.predict' AND resource_id = $1`, [staging.id]);
    const responses = await Promise.all(rows.slice(0, 20).map((r) => predict(owner, staging.id, [r.input])));
    expect(responses.map(codeOf).filter(Boolean)).toEqual([]);
    const batchSizes = (
      await app.ownerQuery<{ batch: number }>(
        `SELECT (details->>'batchSize')::int AS batch FROM audit_events WHERE action = 'endpoint.predict' AND resource_id = $1 ORDER BY seq OFFSET $2`,
        [staging.id, auditedBefore[0].n],
      )
    ).map((r) => r.batch);
    console.info(`20 concurrent callers, batch size seen by each: ${batchSizes.join(' ')}`);
    expect(batchSizes).toHaveLength(20);
    // Each call reports the rows of the batch it was part of: most calls shared their predict.
    expect(batchSizes.filter((size) => size > 1).length).toBeGreaterThanOrEqual(10);

    // The worker's own histogram: fewer predict runs than rows, and at least one over one row.
    const metrics = await (await fetch(`http://127.0.0.1:${await server.metricsPort()}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1]);
    const batches = value(/^lutece_worker_inference_batch_size_count (\d+)/m);
    const rowsPredicted = value(/^lutece_worker_inference_batch_size_sum (\d+)/m);
    const singleRow = value(/^lutece_worker_inference_batch_size_bucket\{le="1"\} (\d+)/m);
    expect(batches).toBeLessThan(rowsPredicted);
    expect(singleRow).toBeLessThan(batches);
    expect(metrics).toMatch(/^lutece_worker_inference_calls_total\{outcome="ok",cold_start="true"\} [1-9]/m);
    expect(metrics).not.toContain(staging.id);
  });

  it('swaps the model version under load without failing a request', async () => {
    let stop = false;
    const results: { version?: string; error?: string; startedAt: number }[] = [];
    const caller = async (offset: number) => {
      for (let i = 0; !stop; i++) {
        const startedAt = Date.now();
        const response = await predict(owner, staging.id, [rows[(offset + i) % rows.length].input]);
        results.push({ version: response.data?.predict?.modelVersionId, error: response.errors?.[0]?.message, startedAt });
      }
    };
    const callers = [0, 50, 100, 150].map(caller);
    await until(async () => results.length >= 12, 'calls on the first version');
    const updated = await app.graphql(`mutation($id: ID!, $input: UpdateEndpointInput!) { updateEndpoint(id: $id, input: $input) { modelVersion { id } } }`, { id: staging.id, input: { modelVersionId: v2.id } }, as(owner));
    expect(updated.data.updateEndpoint.modelVersion.id).toBe(v2.id);
    const swappedAt = Date.now();
    await until(async () => results.filter((r) => r.startedAt > swappedAt).length >= 20, 'calls after the swap');
    stop = true;
    await Promise.all(callers);

    // Calls in flight during the swap finish on either version; none fails.
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(results.filter((r) => r.version === v1.id).length).toBeGreaterThanOrEqual(12);
    // Every call made once the update has returned is served by the new version.
    expect(results.filter((r) => r.startedAt > swappedAt).every((r) => r.version === v2.id)).toBe(true);
    const replica = await until(async () => {
      const [key] = await redis.keys(servingKeys.replicaPattern(app.redisPrefix, staging.id));
      return key && (await redis.get(key)) === v2.id ? key : undefined;
    }, 'the replica key naming the new version');
    expect(await redis.ttl(replica)).toBeGreaterThan(0);
    expect(await endpoint(staging.id)).toMatchObject({ status: 'READY', modelVersion: { id: v2.id } });
  });

  it('drift reaches ALERT on shifted inputs and stays OK on the training rows', async () => {
    const steady = (await createEndpoint(owner, { name: 'drift-steady' })).data.createEndpoint;
    const shifted = (await createEndpoint(owner, { name: 'drift-shifted' })).data.createEndpoint;

    expect(codeOf(await predict(owner, steady.id, rows.map((r) => r.input)))).toBeUndefined();
    const ok = (await endpoint(steady.id)).drift;
    expect(ok).toMatchObject({ status: 'OK', rows: rows.length });
    expect(ok.features).toHaveLength(6);
    for (const feature of ok.features) expect(feature.psi).toBeLessThan(0.1);

    const heavy = rows.slice(0, DRIFT_MIN_ROWS).map((r) => ({ ...r.input, body_mass_g: r.input.body_mass_g * 3 }));
    expect(codeOf(await predict(owner, shifted.id, heavy))).toBeUndefined();
    const alert = await endpoint(shifted.id);
    expect(alert.drift.status).toBe('ALERT');
    const psi = Object.fromEntries(alert.drift.features.map((f: any) => [f.name, f.psi]));
    expect(psi.body_mass_g).toBeGreaterThan(0.25);
    expect(psi.island).toBeLessThan(0.25);
    expect(alert.events.map((e: any) => e.message).join('\n')).toMatch(/drift OK → ALERT over 100 rows; largest PSI [\d.]+ on body_mass_g/);
    const audited = await app.ownerQuery(`SELECT details FROM audit_events WHERE action = 'endpoint.drift' AND resource_id = $1`, [shifted.id]);
    expect(audited).toHaveLength(1);
    expect(audited[0].details).toMatchObject({ from: 'OK', to: 'ALERT', rows: DRIFT_MIN_ROWS });
    expect((await app.ownerQuery(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'endpoint.drift' AND resource_id = $1`, [steady.id]))[0].n).toBe(0);
  });

  it('audits every call and meters it with deterministic ids, never keeping an input value', async () => {
    const marked = { ...rows[3].input, body_mass_g: 4321.987 };
    const response = await predict(owner, staging.id, [marked]);
    expect(codeOf(response)).toBeUndefined();

    const audits = await app.ownerQuery(`SELECT actor_id, details FROM audit_events WHERE action = 'endpoint.predict' AND resource_id = $1 ORDER BY seq`, [staging.id]);
    expect(audits).toHaveLength(stagingCalls.calls);
    expect(audits.reduce((sum, a) => sum + a.details.rows, 0)).toBe(stagingCalls.rows);
    const last = audits[audits.length - 1];
    expect(last.actor_id).toBe(owner.userId);
    expect(last.details).toMatchObject({ rows: 1, coldStart: false, modelVersionId: v2.id, latencyMs: expect.any(Number), worker: expect.stringMatching(/^server-a-/) });
    expect(last.details.inputsSha256).toBe(createHash('sha256').update(canonicalJson([marked])).digest('hex'));

    const usage = await app.ownerQuery(`SELECT id, meter, quantity::text AS quantity, details FROM usage_events WHERE source_id = $1`, [staging.id]);
    const requestIds = audits.map((a) => a.details.requestId).sort();
    const ids = (meter: string) => usage.filter((u) => u.meter === meter).map((u) => u.id).sort();
    expect(ids('PREDICTIONS')).toEqual(requestIds.map((id) => `predict:${id}`).sort());
    // wasm is CPU work: metered as CPU seconds, never GPU seconds.
    expect(ids('CPU_SECONDS')).toEqual(requestIds.map((id) => `predict-compute:${id}`).sort());
    expect(ids('GPU_SECONDS')).toEqual([]);
    expect(usage.filter((u) => u.meter === 'PREDICTIONS').reduce((sum, u) => sum + Number(u.quantity), 0)).toBe(stagingCalls.rows);
    expect(usage.filter((u) => u.meter === 'CPU_SECONDS').every((u) => /^\d+\.\d+$/.test(u.quantity) && u.details.backend === 'wasm')).toBe(true);

    const everything = JSON.stringify([await app.ownerQuery(`SELECT * FROM audit_events WHERE tenant_id = $1`, [owner.tenantId]), await app.ownerQuery(`SELECT * FROM usage_events WHERE tenant_id = $1`, [owner.tenantId])]);
    expect(everything).not.toContain('4321.987');
    expect(server.output.join('\n')).not.toContain('4321.987');
  });

  it('lets VIEWER predict but not BILLING; ML_ENGINEER cannot deploy to PRODUCTION nor promote', async () => {
    const viewer = await memberWithRole(app, owner, 'VIEWER');
    const billing = await memberWithRole(app, owner, 'BILLING');
    const engineer = await memberWithRole(app, owner, 'ML_ENGINEER');
    expect(codeOf(await predict(viewer, staging.id, [rows[5].input]))).toBeUndefined();
    expect(codeOf(await predict(billing, staging.id, [rows[5].input]))).toBe('FORBIDDEN');
    expect(codeOf(await createEndpoint(engineer, { name: 'engineer-prod', environment: 'PRODUCTION' }))).toBe('FORBIDDEN');
    expect(codeOf(await app.graphql('mutation($id: ID!) { promoteEndpoint(id: $id) { id } }', { id: staging.id }, as(engineer)))).toBe('FORBIDDEN');
    expect(codeOf(await createEndpoint(engineer, { name: 'engineer-staging' }))).toBeUndefined();
  });

  it('OWNER promotes STAGING to PRODUCTION (audited with the staging endpoint), then predicts over REST with an API key', async () => {
    const promoted = await app.graphql(`mutation($id: ID!) { promoteEndpoint(id: $id) { ${ENDPOINT_FIELDS} } }`, { id: staging.id }, as(owner));
    expect(codeOf(promoted)).toBeUndefined();
    const production = promoted.data.promoteEndpoint;
    expect(production).toMatchObject({ environment: 'PRODUCTION', name: 'penguins', promotedFromEndpointId: staging.id, modelVersion: { id: v2.id } });
    const [audit] = await app.ownerQuery(`SELECT actor_id, details FROM audit_events WHERE action = 'endpoint.promote' AND resource_id = $1`, [production.id]);
    expect(audit.actor_id).toBe(owner.userId);
    expect(audit.details).toMatchObject({ fromStagingEndpointId: staging.id, modelVersionId: v2.id, promotedBy: owner.userId, promotedAt: expect.any(String) });

    const key = await apiKeyWithRole(app, owner, 'ML_ENGINEER');
    const response = await app.fetch(`/v1/endpoints/${production.id}/predict`, { method: 'POST', token: key.secret, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: rows.slice(0, 3).map((r) => r.input) }) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { modelVersionId: string; outputs: unknown[] };
    expect(body).toMatchObject({ modelVersionId: v2.id, coldStart: expect.any(Boolean), latencyMs: expect.any(Number) });
    expect(body.outputs).toHaveLength(3);
    expect(body.outputs[0]).toEqual({ label: expect.stringMatching(/^(Adelie|Chinstrap|Gentoo)$/), probabilities: expect.any(Object) });
    const [audited] = await app.ownerQuery(`SELECT actor_type, actor_id FROM audit_events WHERE action = 'endpoint.predict' AND resource_id = $1`, [production.id]);
    expect(audited).toEqual({ actor_type: 'api_key', actor_id: key.id });
  });

  it('answers NOT_FOUND to another tenant for every endpoint operation', async () => {
    const stranger = await signUpOwner(app, 'stranger');
    const them = as(stranger);
    const input = { inputs: [rows[0].input] };
    expect(codeOf(await app.graphql(GET_ENDPOINT, { id: staging.id }, them))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('query($p: ID!) { endpoints(projectId: $p) { totalCount } }', { p: projectId }, them))).toBe('NOT_FOUND');
    expect(codeOf(await predict(stranger, staging.id, input.inputs))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('mutation($id: ID!) { updateEndpoint(id: $id, input: {minReplicas: 0}) { id } }', { id: staging.id }, them))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('mutation($id: ID!) { promoteEndpoint(id: $id) { id } }', { id: staging.id }, them))).toBe('NOT_FOUND');
    expect(codeOf(await app.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: staging.id }, them))).toBe('NOT_FOUND');
    const rest = await app.fetch(`/v1/endpoints/${staging.id}/predict`, { method: 'POST', ...them, headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    expect(rest.status).toBe(404);
    // The stranger's deleteEndpoint deleted nothing.
    expect((await endpoint(staging.id)).id).toBe(staging.id);
  });

  it('refuses bad inputs naming the field, and rate-limits with a retry-after', async () => {
    const fieldsOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.fields?.map((f) => f.field);
    const { body_mass_g: _dropped, ...missing } = rows[0].input;
    const noMass = await predict(owner, staging.id, [missing]);
    expect(codeOf(noMass)).toBe('BAD_USER_INPUT');
    expect(fieldsOf(noMass)).toEqual(['inputs[0].body_mass_g']);
    const illTyped = await predict(owner, staging.id, [rows[0].input, { ...rows[1].input, bill_length_mm: 'forty-two' }]);
    expect(codeOf(illTyped)).toBe('BAD_USER_INPUT');
    expect(fieldsOf(illTyped)).toEqual(['inputs[1].bill_length_mm']);
    expect(JSON.stringify(illTyped.errors)).not.toContain('forty-two');
    const empty = await predict(owner, staging.id, []);
    expect([codeOf(empty), fieldsOf(empty)]).toEqual(['BAD_USER_INPUT', ['inputs']]);
    const tooMany = await predict(owner, staging.id, Array.from({ length: MAX_PREDICT_ROWS + 1 }, (_, i) => rows[i % rows.length].input));
    expect([codeOf(tooMany), fieldsOf(tooMany)]).toEqual(['BAD_USER_INPUT', ['inputs']]);

    const limited = (await createEndpoint(owner, { name: 'rate-limited', rateLimitPerMinute: 3 })).data.createEndpoint;
    let refused: GraphQLResponse | undefined;
    for (let i = 0; i < 8 && !refused; i++) {
      const response = await predict(owner, limited.id, [rows[i].input]);
      if (codeOf(response)) refused = response;
    }
    expect(codeOf(refused!)).toBe('RATE_LIMITED');
    const retryAfter = refused!.errors![0].extensions!.retryAfterSeconds as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('keeps minReplicas warm replicas across the pool without traffic, and scales to zero once they are not needed', async () => {
    // A second serving worker: exactly minReplicas of the two hold the endpoint.
    const second = new WorkerChild(app, { storageDir, pool: POOL, node: 'server-b', WORKER_ROLES: 'inference' });
    workers.push(second);
    await second.ready();
    const warm = (await createEndpoint(owner, { name: 'warm', minReplicas: 1, maxReplicas: 2 })).data.createEndpoint;
    await until(async () => (await endpoint(warm.id)).status === 'READY', 'a warm replica');
    await sleep((IDLE_SECONDS + 3) * 1000);
    expect(await endpoint(warm.id)).toMatchObject({ status: 'READY', replicas: 1 });

    const update = (input: Record<string, unknown>) => app.graphql('mutation($id: ID!, $input: UpdateEndpointInput!) { updateEndpoint(id: $id, input: $input) { id } }', { id: warm.id, input }, as(owner));
    expect(codeOf(await update({ minReplicas: 2 }))).toBeUndefined();
    await until(async () => (await endpoint(warm.id)).replicas === 2, 'two warm replicas');
    expect(codeOf(await update({ minReplicas: 0 }))).toBeUndefined();
    await until(async () => (await endpoint(warm.id)).status === 'SCALED_TO_ZERO', 'scale to zero', (IDLE_SECONDS + 10) * 1000);
  });
});
