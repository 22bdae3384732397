import type { BaseModelId } from '../../contracts/training';

export interface BaseModelSpec {
  id: BaseModelId;
  task: 'CLASSIFICATION' | 'REGRESSION' | 'FORECASTING';
  inputKind: 'TABULAR' | 'TEXT' | 'SERIES';
  description: string;
  defaultHyperparameters: { epochs: number; batchSize: number; learningRate: number };
  /**
   * Training samples per second on one worker before any job of this family has finished: the
   * wasm backend on a 2-core node, measured by the gpu-worker's training-quality runs. Estimates use it until calibrated.
   */
  defaultSamplesPerSecond: number;
}

export const BASE_MODEL_CATALOGUE: BaseModelSpec[] = [
  {
    id: 'tabular-classifier',
    task: 'CLASSIFICATION',
    inputKind: 'TABULAR',
    description: 'MLP over standardised numeric and one-hot categorical columns, softmax over the target classes (scoring, fraud, triage).',
    defaultHyperparameters: { epochs: 30, batchSize: 32, learningRate: 0.01 },
    defaultSamplesPerSecond: 4800,
  },
  {
    id: 'tabular-regressor',
    task: 'REGRESSION',
    inputKind: 'TABULAR',
    description: 'MLP over standardised numeric and one-hot categorical columns predicting one numeric value.',
    defaultHyperparameters: { epochs: 50, batchSize: 32, learningRate: 0.01 },
    defaultSamplesPerSecond: 13000,
  },
  {
    id: 'text-classifier',
    task: 'CLASSIFICATION',
    inputKind: 'TEXT',
    description: 'Hashed word n-grams (unigrams and bigrams) feeding an MLP: one text column to a class.',
    defaultHyperparameters: { epochs: 20, batchSize: 32, learningRate: 0.005 },
    defaultSamplesPerSecond: 1400,
  },
  {
    id: 'sequence-forecaster',
    task: 'FORECASTING',
    inputKind: 'SERIES',
    description: 'LSTM over sliding windows of a numeric series (sensors, demand), forecasting the next value.',
    defaultHyperparameters: { epochs: 60, batchSize: 16, learningRate: 0.01 },
    defaultSamplesPerSecond: 850,
  },
];

export function findBaseModel(id: string): BaseModelSpec | undefined {
  return BASE_MODEL_CATALOGUE.find((m) => m.id === id);
}
