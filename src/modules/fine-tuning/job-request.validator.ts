import { FieldErrors, isUuid } from '../../common/errors/validation';
import type { ColumnProfile } from '../datasets/ingest/column-profiler';
import { BaseModelSpec, findBaseModel } from './base-models';
import { CreateFineTuningJobInput } from './models/fine-tuning.model';

const CLASS_TARGET_TYPES = ['categorical', 'boolean'];
const MAX_CLASSES = 100;

/** Shape checks that need no database: ids, ranges, known base model. */
export function checkJobInput(input: CreateFineTuningJobInput): BaseModelSpec {
  const errors = new FieldErrors();
  const spec = findBaseModel(input.baseModel);
  errors.check(spec !== undefined, 'baseModel', 'is not a known base model (see baseModels)');
  errors.check(isUuid(input.projectId), 'projectId', 'must be a UUID');
  errors.check(isUuid(input.trainingDatasetVersionId), 'trainingDatasetVersionId', 'must be a UUID');
  if (input.validationDatasetVersionId) errors.check(isUuid(input.validationDatasetVersionId), 'validationDatasetVersionId', 'must be a UUID');
  if (input.baseModelVersionId) errors.check(isUuid(input.baseModelVersionId), 'baseModelVersionId', 'must be a UUID');
  errors.check(input.targetColumn.trim().length > 0, 'targetColumn', 'is required');
  if (input.idempotencyKey !== undefined && input.idempotencyKey !== null) {
    errors.check(input.idempotencyKey.length >= 1 && input.idempotencyKey.length <= 200, 'idempotencyKey', 'must be 1 to 200 characters');
  }
  const { epochs, batchSize, learningRate, seed } = input.hyperparameters;
  errors.check(Number.isInteger(epochs) && epochs >= 1 && epochs <= 500, 'hyperparameters.epochs', 'must be an integer from 1 to 500');
  errors.check(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 4096, 'hyperparameters.batchSize', 'must be an integer from 1 to 4096');
  errors.check(Number.isFinite(learningRate) && learningRate > 0 && learningRate <= 1, 'hyperparameters.learningRate', 'must be in (0, 1]');
  if (seed !== undefined && seed !== null) errors.check(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 31 - 1, 'hyperparameters.seed', 'must be an integer from 0 to 2147483647');
  errors.throwIfAny();
  return spec!;
}

/** Checks the target and feature columns against the dataset version's profile and the task. */
export function checkColumns(spec: BaseModelSpec, columns: ColumnProfile[], target: string, features: string[] | null | undefined, validationColumns?: ColumnProfile[]): void {
  const errors = new FieldErrors();
  const byName = new Map(columns.map((c) => [c.name, c]));
  const targetColumn = byName.get(target);
  if (!targetColumn) {
    errors.add('targetColumn', `is not a column of the training dataset (columns: ${columns.map((c) => c.name).join(', ')})`);
    errors.throwIfAny();
  }
  const t = targetColumn!;
  if (spec.task === 'CLASSIFICATION') {
    errors.check(CLASS_TARGET_TYPES.includes(t.type) || (t.type === 'numeric' && t.distinctEstimate <= 20), 'targetColumn', `must be categorical for ${spec.id} (it is ${t.type})`);
    errors.check(t.distinctEstimate >= 2 && t.distinctEstimate <= MAX_CLASSES, 'targetColumn', `must have between 2 and ${MAX_CLASSES} classes`);
  } else {
    errors.check(t.type === 'numeric', 'targetColumn', `must be numeric for ${spec.id} (it is ${t.type})`);
  }
  for (const name of features ?? []) {
    errors.check(byName.has(name), 'featureColumns', `"${name}" is not a column of the training dataset`);
    errors.check(name !== target, 'featureColumns', 'must not contain the target column');
  }
  if (features) errors.check(new Set(features).size === features.length, 'featureColumns', 'must not repeat a column');
  if (spec.inputKind === 'SERIES') errors.check(!features || features.length === 0, 'featureColumns', `must be empty for ${spec.id}: the target column is the series`);
  if (spec.inputKind === 'TEXT') {
    const candidates = features && features.length ? features : columns.filter((c) => c.name !== target && c.type === 'text').map((c) => c.name);
    errors.check(candidates.length === 1, 'featureColumns', `${spec.id} needs exactly one text column`);
  }
  if (spec.inputKind === 'TABULAR' && features) errors.check(features.length >= 1, 'featureColumns', 'must name at least one column');
  if (validationColumns) {
    const names = new Set(validationColumns.map((c) => c.name));
    const needed = [target, ...(features ?? columns.filter((c) => c.name !== target).map((c) => c.name))];
    const missing = needed.filter((n) => !names.has(n));
    errors.check(missing.length === 0, 'validationDatasetVersionId', `lacks column(s) ${missing.join(', ')}`);
  }
  errors.throwIfAny();
}
