import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { DriftBaseline } from '../../contracts/inference';
import type { EpochMetrics, ModelSummary, StoredObjectReport } from '../../contracts/training';
import { DatasetEntity, DatasetVersionEntity } from '../datasets/dataset.entities';
import type { FineTuningJobEntity } from '../fine-tuning/fine-tuning.entities';
import { ModelEntity, ModelVersionEntity } from './model.entities';

const KNOWN_LIMITATIONS: Record<string, string[]> = {
  'tabular-classifier': [
    'Learns correlations present in the training data, including its biases; check performance per subgroup before use.',
    'Categories unseen in training fall into one unknown bucket; numeric values far outside the training range extrapolate poorly.',
  ],
  'tabular-regressor': [
    'Predictions outside the range of the training targets are unreliable.',
    'Missing numeric values are replaced by the training mean, which can hide data quality problems.',
  ],
  'text-classifier': [
    'Bag of hashed n-grams: word order beyond bigrams and negation in long sentences are not modelled.',
    'Trained on one language and domain; other vocabularies degrade accuracy.',
  ],
  'sequence-forecaster': ['Forecasts one step ahead from a fixed window; regime changes absent from the training series are not anticipated.'],
};

/** Turns a finished job into a model version with its lineage and an auto-generated model card. */
@Injectable()
export class ModelRegistryService {
  async registerFromJob(
    manager: EntityManager,
    job: FineTuningJobEntity,
    result: { artifact: StoredObjectReport; metrics: EpochMetrics; epochs: number; backend: string; summary: ModelSummary; baseline?: DriftBaseline },
  ): Promise<ModelVersionEntity> {
    const training = await manager.getRepository(DatasetVersionEntity).findOneByOrFail({ id: job.trainingDatasetVersionId });
    const trainingDataset = await manager.getRepository(DatasetEntity).findOneByOrFail({ id: training.datasetId });
    const validation = job.validationDatasetVersionId ? await manager.getRepository(DatasetVersionEntity).findOneBy({ id: job.validationDatasetVersionId }) : null;
    const model = await this.modelFor(manager, job, trainingDataset);
    // Serialises version numbering of one model (the runtime role may not lock rows of models).
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('model-version:' || $1))`, [model.id]);
    const [{ next }] = await manager.query(`SELECT coalesce(max(version), 0) + 1 AS next FROM model_versions WHERE model_id = $1`, [model.id]);
    const datasets = [training, ...(validation ? [validation] : [])];
    const version: ModelVersionEntity = Object.assign(new ModelVersionEntity(), {
      id: randomUUID(),
      tenantId: job.tenantId,
      modelId: model.id,
      version: Number(next),
      jobId: job.id,
      artifactObjectId: result.artifact.objectId,
      sha256: result.artifact.sha256,
      metrics: { ...result.metrics } as Record<string, number>,
      summary: result.summary as unknown as Record<string, unknown>,
      trainingDatasetVersionIds: datasets.map((d) => d.id),
      backend: result.backend,
      region: result.artifact.region,
      modelCard: {},
      driftBaseline: result.baseline ?? null,
    });
    version.modelCard = {
      model: { name: model.name, version: version.version, baseModel: job.baseModel, continuedFrom: job.baseModelVersionId },
      intendedUse: trainingDataset.purpose,
      legalBasis: trainingDataset.legalBasis,
      trainingData: datasets.map((d) => ({ datasetVersionId: d.id, sha256: d.sha256, rows: d.rowCount, pseudonymizedColumns: d.pseudonymizedColumns })),
      inputs: result.summary.inputs,
      target: result.summary.target,
      hyperparameters: job.hyperparameters,
      epochs: result.epochs,
      metrics: result.metrics,
      evaluation: job.validationDatasetVersionId ? 'held-out validation dataset' : 'seeded 20 % holdout of the training data',
      knownLimitations: KNOWN_LIMITATIONS[job.baseModel] ?? [],
      training: { backend: result.backend, pool: job.poolId, region: job.region, gpuClass: job.gpuClass, node: job.node, jobId: job.id },
      artifact: { sha256: result.artifact.sha256, region: result.artifact.region, encrypted: 'AES-256-GCM envelope' },
      generatedAt: new Date().toISOString(),
    };
    await manager.getRepository(ModelVersionEntity).insert(version as never);
    return version;
  }

  /** Continued training adds a version to the same model; otherwise one model per dataset and family. */
  private async modelFor(manager: EntityManager, job: FineTuningJobEntity, dataset: DatasetEntity): Promise<ModelEntity> {
    const repository = manager.getRepository(ModelEntity);
    if (job.baseModelVersionId) {
      const base = await manager.getRepository(ModelVersionEntity).findOneByOrFail({ id: job.baseModelVersionId });
      return repository.findOneByOrFail({ id: base.modelId });
    }
    const name = `${dataset.name} · ${job.baseModel}`;
    await manager.query(
      `INSERT INTO models (id, tenant_id, project_id, name, base_model) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, name) DO NOTHING`,
      [randomUUID(), job.tenantId, job.projectId, name, job.baseModel],
    );
    return repository.findOneByOrFail({ projectId: job.projectId, name });
  }
}
