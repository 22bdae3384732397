import { DatasetEntity, DatasetVersionEntity } from './dataset.entities';
import { DatasetModel, DatasetVersionModel } from './models/dataset.model';

export function toVersionModel(version: DatasetVersionEntity): DatasetVersionModel {
  const { id, datasetId, sha256, sizeBytes, rowCount, columns, pseudonymizedColumns, warnings, storageRegion, createdAt } = version;
  return { id, datasetId, version: version.version, sha256, sizeBytes, rowCount, columns, pseudonymizedColumns, warnings, storageRegion, createdAt };
}

export function toDatasetModel(dataset: DatasetEntity, versions: DatasetVersionEntity[]): DatasetModel {
  const { id, projectId, name, format, purpose, legalBasis, containsPersonalData, piiColumns, retentionDays, createdAt } = dataset;
  const eraseAfter = retentionDays ? new Date(createdAt.getTime() + retentionDays * 86_400_000) : null;
  return {
    id,
    projectId,
    name,
    format,
    purpose,
    legalBasis,
    containsPersonalData,
    piiColumns,
    retentionDays,
    eraseAfter,
    createdAt,
    versions: versions.map(toVersionModel),
  };
}
