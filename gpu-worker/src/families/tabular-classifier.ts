import type { Preprocessing } from '../../../src/contracts/model-artifact';
import { featureWidth } from '../preprocessing';
import type { ModelFamily } from './family';
import { buildMlp, classificationMetrics, definedOnly } from './shared';
import { describeTabular, prepareTabular, tabularProbe } from './tabular';

/** CSV features → one class (scoring, fraud): standardised numbers and one-hot categories into a 64-32 MLP with softmax. */
export const tabularClassifier: ModelFamily = {
  id: 'tabular-classifier',
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
  prepare: (request) => prepareTabular(request, 'classification'),
  build(preprocessing: Preprocessing, seed: number) {
    if (preprocessing.kind !== 'tabular' || preprocessing.target.kind !== 'classification') throw new Error('tabular-classifier needs a tabular classification preprocessing');
    return buildMlp({ inputWidth: featureWidth(preprocessing.features), hidden: [64, 32], dropout: 0.1, outputs: preprocessing.target.classes.length, activation: 'softmax', seed });
  },
  epochMetrics: (logs) => definedOnly(classificationMetrics(logs)),
  describe: describeTabular,
  probePreprocessing: () => tabularProbe({ name: 'y', kind: 'classification', classes: ['a', 'b', 'c'] }),
};
