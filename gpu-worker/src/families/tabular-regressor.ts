import type { Preprocessing } from '../../../src/contracts/model-artifact';
import { featureWidth, targetScale } from '../preprocessing';
import type { ModelFamily } from './family';
import { buildMlp, definedOnly, regressionMetrics } from './shared';
import { describeTabular, prepareTabular, tabularProbe } from './tabular';

/** CSV features → one value: the classifier's inputs, a standardised target, MSE; MAE reported in the target's units. */
export const tabularRegressor: ModelFamily = {
  id: 'tabular-regressor',
  loss: 'meanSquaredError',
  metrics: ['mae'],
  prepare: (request) => prepareTabular(request, 'regression'),
  build(preprocessing: Preprocessing, seed: number) {
    if (preprocessing.kind !== 'tabular' || preprocessing.target.kind !== 'regression') throw new Error('tabular-regressor needs a tabular regression preprocessing');
    return buildMlp({ inputWidth: featureWidth(preprocessing.features), hidden: [64, 32], dropout: 0, outputs: 1, activation: 'linear', seed });
  },
  epochMetrics: (logs, preprocessing) => definedOnly(regressionMetrics(logs, targetScale(preprocessing)!.std)),
  describe: describeTabular,
  probePreprocessing: () => tabularProbe({ name: 'y', kind: 'regression', mean: 0, std: 1 }),
};
