import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../../../src/contracts/model-artifact';
import type { Table } from '../datasets';
import { dataError } from '../errors';
import { DenseExamples, type ExampleSet } from '../examples';
import { inferColumnKind, meanAndStd, SERIES_WINDOW, seriesValues } from '../preprocessing';
import { deriveSeed } from '../random';
import type { ModelFamily, PrepareRequest } from './family';
import { definedOnly, HOLDOUT_FRACTION, regressionMetrics, requireColumn } from './shared';

type SequencePreprocessing = Extract<Preprocessing, { kind: 'sequence' }>;

/**
 * The next point of a numeric series (sensors, sales) from the previous `window` points, with an
 * LSTM. The rows are the series in order; the target column is the series itself.
 */
export const sequenceForecaster: ModelFamily = {
  id: 'sequence-forecaster',
  loss: 'meanSquaredError',
  metrics: ['mae'],
  prepare(request) {
    const column = request.targetColumn;
    const series = numericSeries(request.training, column, 'training dataset');
    const saved = request.saved ? checkSaved(request.saved, column) : undefined;
    const window = saved?.window ?? SERIES_WINDOW;

    let trainEnd: number; // windows [0, trainEnd) train, in time order
    let validationSeries: number[];
    if (request.validation) {
      trainEnd = series.length - window;
      validationSeries = numericSeries(request.validation, column, 'validation dataset');
      if (validationSeries.length < window + 1) throw dataError(`the validation series needs at least ${window + 1} points`);
    } else {
      // The holdout is the end of the series, not a random sample: overlapping windows drawn at
      // random would let the model see validation points as inputs of neighbouring training windows.
      const windows = series.length - window;
      if (windows < 2) throw dataError(`the series needs at least ${window + 2} points to train and validate`);
      trainEnd = windows - Math.max(1, Math.round(windows * HOLDOUT_FRACTION));
      validationSeries = series.slice(trainEnd);
    }
    if (trainEnd < 1) throw dataError(`the training series needs at least ${window + 1} points`);

    const preprocessing: SequencePreprocessing = saved ?? { kind: 'sequence', seriesColumn: column, window, ...meanAndStd(series.slice(0, trainEnd + window)) };
    return {
      preprocessing,
      train: windowExamples(preprocessing, series.slice(0, trainEnd + window)),
      validation: windowExamples(preprocessing, validationSeries),
    };
  },
  build(preprocessing, seed) {
    if (preprocessing.kind !== 'sequence') throw new Error('sequence-forecaster needs a sequence preprocessing');
    const model = tf.sequential();
    // Glorot rather than the default orthogonal recurrent init: it is seedable the same way, and
    // orthogonal's QR step is slow on wasm and cpu for no gain on windows this short.
    model.add(
      tf.layers.lstm({
        units: 32,
        inputShape: [preprocessing.window, 1],
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'lstm-kernel') }),
        recurrentInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'lstm-recurrent') }),
      }),
    );
    model.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'output') }) }));
    return model;
  },
  epochMetrics(logs, preprocessing) {
    if (preprocessing.kind !== 'sequence') throw new Error('not a sequence preprocessing');
    return definedOnly(regressionMetrics(logs, preprocessing.std));
  },
  describe(preprocessing) {
    if (preprocessing.kind !== 'sequence') throw new Error('not a sequence preprocessing');
    return { inputs: [{ name: preprocessing.seriesColumn, kind: 'series', minLength: preprocessing.window }], target: { name: preprocessing.seriesColumn, kind: 'forecast' } };
  },
  probePreprocessing: () => ({ kind: 'sequence', seriesColumn: 'y', window: SERIES_WINDOW, mean: 0, std: 1 }),
};

function numericSeries(table: Table, column: string, what: string): number[] {
  requireColumn(table, column, what, 'the series');
  if (inferColumnKind(table.rows, column) !== 'numeric') throw dataError(`the series column "${column}" of the ${what} is not numeric`);
  return seriesValues(table.rows, column);
}

function checkSaved(saved: Preprocessing, column: string): SequencePreprocessing {
  if (saved.kind !== 'sequence') throw dataError('the base model was not trained for this task');
  if (saved.seriesColumn !== column) throw dataError(`the base model forecasts "${saved.seriesColumn}", not "${column}"`);
  return saved;
}

/** Each window of `window` points predicts the point right after it. */
function windowExamples(preprocessing: SequencePreprocessing, series: readonly number[]): ExampleSet {
  const { window, mean, std } = preprocessing;
  const count = series.length - window;
  const inputs = new Float32Array(count * window);
  const targets = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < window; k++) inputs[i * window + k] = (series[i + k] - mean) / std;
    targets[i] = (series[i + window] - mean) / std;
  }
  return new DenseExamples(inputs, [window, 1], { kind: 'values', values: targets });
}
