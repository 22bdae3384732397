import type { BaseModelId } from '../../../src/contracts/training';
import type { ModelFamily } from './family';
import { sequenceForecaster } from './sequence-forecaster';
import { tabularClassifier } from './tabular-classifier';
import { tabularRegressor } from './tabular-regressor';
import { textClassifier } from './text-classifier';

export type { ColumnSpec, ModelFamily, PreparedData, PrepareRequest } from './family';

export const FAMILIES: Record<BaseModelId, ModelFamily> = {
  'tabular-classifier': tabularClassifier,
  'tabular-regressor': tabularRegressor,
  'text-classifier': textClassifier,
  'sequence-forecaster': sequenceForecaster,
};
