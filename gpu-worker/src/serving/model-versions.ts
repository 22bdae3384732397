import type * as tf from '@tensorflow/tfjs';
import type { PredictionOutput } from '../../../src/contracts/inference';
import type { Preprocessing } from '../../../src/contracts/model-artifact';
import type { ObjectStore } from '../../../src/contracts/object-store';
import type { BaseModelId, ObjectRef, TfjsBackend } from '../../../src/contracts/training';
import { modelFromArtifact, parseArtifact } from '../artifact';
import type { BackendLease } from '../backend';
import type { MasterKeyRing } from '../config';
import { JobError } from '../errors';
import { readGrantedObject } from '../objects';
import { predictInputs, type PredictionInput } from '../predict';
import { DynamicBatcher } from './batcher';
import type { ServingMetrics } from './metrics';

/** A model version in memory, ready to predict, with its own batcher. */
export interface LoadedModel {
  tenantId: string;
  modelVersionId: string;
  baseModel: BaseModelId;
  backend: TfjsBackend;
  preprocessing: Preprocessing;
  batcher: DynamicBatcher<PredictionInput, PredictionOutput>;
}

/** One model version of one tenant: loading, then loaded, with the calls that hold it. */
export interface ModelEntry {
  readonly key: string;
  readonly modelVersionId: string;
  readonly ready: Promise<LoadedModel>;
  loaded?: LoadedModel;
  /** Calls between acquire() and release(): a model in use is never disposed. */
  users: number;
}

export interface ModelVersionsContext {
  store: ObjectStore;
  masterKeys: MasterKeyRing;
  /** The backend each family runs on here (from the startup probe). */
  familyBackends: ReadonlyMap<string, TfjsBackend>;
  lease: BackendLease;
  batching: { maxBatchRows: number; batchWaitMs: number };
  metrics: ServingMetrics;
}

/**
 * The model versions this worker holds. A version is loaded once however many calls and endpoints
 * ask for it at the same moment; the calls that waited for the load are its cold starts. A failed
 * load is forgotten, so the next call tries again.
 */
export class ModelVersions {
  private readonly entries = new Map<string, ModelEntry>();
  private readonly models = new Map<string, tf.LayersModel>();

  constructor(private readonly context: ModelVersionsContext) {}

  /**
   * The entry of a version, loading it if needed; `cold` when the caller must wait for a load. The
   * artifact's object id is part of the key, and the envelope must belong to the tenant: a version id
   * alone never reaches another tenant's weights.
   */
  acquire(tenantId: string, modelVersionId: string, artifact: ObjectRef): { entry: ModelEntry; cold: boolean } {
    const key = modelKey(tenantId, modelVersionId, artifact);
    let entry = this.entries.get(key);
    const cold = !entry?.loaded;
    if (!entry) {
      const ready = this.load(key, tenantId, modelVersionId, artifact);
      const created: ModelEntry = { key, modelVersionId, ready, users: 0 };
      entry = created;
      this.entries.set(key, created);
      ready.then(
        (loaded) => (created.loaded = loaded),
        () => this.entries.delete(key),
      );
    }
    entry.users++;
    return { entry, cold };
  }

  release(entry: ModelEntry): void {
    entry.users--;
  }

  /** Frees the loaded versions no call holds and `keep` does not name (by key). */
  unloadUnused(keep: ReadonlySet<string>): string[] {
    const unloaded: string[] = [];
    for (const entry of this.entries.values()) {
      if (!entry.loaded || entry.users > 0 || keep.has(entry.key)) continue;
      this.entries.delete(entry.key);
      this.models.get(entry.key)?.dispose();
      this.models.delete(entry.key);
      unloaded.push(entry.modelVersionId);
    }
    this.context.metrics.modelsLoaded.set(this.models.size);
    return unloaded;
  }

  get loadedCount(): number {
    return this.models.size;
  }

  disposeAll(): void {
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
    this.entries.clear();
  }

  private async load(key: string, tenantId: string, modelVersionId: string, artifactRef: ObjectRef): Promise<LoadedModel> {
    const { store, masterKeys, familyBackends, lease, metrics } = this.context;
    const started = process.hrtime.bigint();
    const plaintext = await readGrantedObject(store, masterKeys, tenantId, artifactRef);
    let artifact;
    try {
      artifact = parseArtifact(plaintext);
    } finally {
      plaintext.fill(0);
    }
    const backend = familyBackends.get(artifact.baseModel);
    if (!backend) throw new JobError(`a ${artifact.baseModel} cannot run on this worker (no backend passed its probe)`, true);
    const release = await lease.acquire(backend);
    let model: tf.LayersModel;
    try {
      model = await modelFromArtifact(artifact);
      // One prediction on a blank input compiles the backend's kernels now, inside the cold start,
      // rather than in the first caller's batch.
      predictInputs(model, artifact.preprocessing, [blankInput(artifact.preprocessing)]);
    } finally {
      release();
    }
    this.models.set(key, model);
    metrics.modelsLoaded.set(this.models.size);
    metrics.loadSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);

    const { preprocessing } = artifact;
    const batcher = new DynamicBatcher<PredictionInput, PredictionOutput>(
      async (inputs) => {
        const releaseBackend = await lease.acquire(backend);
        try {
          const runStarted = process.hrtime.bigint();
          const outputs = predictInputs(model, preprocessing, inputs);
          return { outputs, seconds: Number(process.hrtime.bigint() - runStarted) / 1e9 };
        } finally {
          releaseBackend();
        }
      },
      {
        maxBatch: this.context.batching.maxBatchRows,
        maxWaitMs: this.context.batching.batchWaitMs,
        onBatch: (size, seconds) => {
          metrics.batchSize.observe(size);
          metrics.batchSeconds.observe(seconds);
        },
      },
    );
    return { tenantId, modelVersionId, baseModel: artifact.baseModel, backend, preprocessing, batcher };
  }
}

export function modelKey(tenantId: string, modelVersionId: string, artifact: Pick<ObjectRef, 'objectId'>): string {
  return `${tenantId}:${modelVersionId}:${artifact.objectId}`;
}

/** An input with every feature missing (or a flat series): encodes to the model's input shape. */
function blankInput(preprocessing: Preprocessing): PredictionInput {
  if (preprocessing.kind === 'sequence') return { [preprocessing.seriesColumn]: new Array<number>(preprocessing.window).fill(preprocessing.mean) };
  return {};
}
