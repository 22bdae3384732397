import { ModelEntity, ModelVersionEntity } from './model.entities';
import { ModelModel, ModelVersionModel } from './models/model.model';

export function toModelVersionModel(version: ModelVersionEntity): ModelVersionModel {
  const { id, modelId, metrics, modelCard, trainingDatasetVersionIds, sha256, backend, region, jobId, createdAt, driftBaseline } = version;
  return { id, modelId, version: version.version, metrics, modelCard, trainingDatasetVersionIds, sha256, backend, region, jobId, createdAt, driftBaseline: driftBaseline as unknown as Record<string, unknown> | null };
}

export function toModelModel(model: ModelEntity, versions: ModelVersionEntity[]): ModelModel {
  return { id: model.id, projectId: model.projectId, name: model.name, baseModel: model.baseModel, createdAt: model.createdAt, versions: versions.map(toModelVersionModel) };
}
