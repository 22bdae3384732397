import * as tf from '@tensorflow/tfjs';
import type { PredictionOutput } from '../../src/contracts/inference';
import type { Preprocessing } from '../../src/contracts/model-artifact';
import { decodeOutputs, encodeRows, type DecodedOutput, type EncodedInputs, type Row } from './preprocessing';

/** Predictions for raw rows through the saved preprocessing: what serving does, and what tests compare. */
export function predictRows(model: tf.LayersModel, preprocessing: Preprocessing, rows: readonly Row[]): DecodedOutput[] {
  const encoded = encodeRows(preprocessing, rows);
  if (encoded.shape[0] === 0) return [];
  return decodeOutputs(preprocessing, runModel(model, encoded));
}

/**
 * One input of a predict call as the api validated it against the model's summary: feature values
 * (tabular), `{<text column>: "..."}` (text), or `{<series column>: [..]}` (forecaster).
 */
export type PredictionInput = Record<string, unknown>;

/** Why an input cannot be predicted, naming the field but never its value; undefined when it can. */
export function inputProblem(preprocessing: Preprocessing, input: PredictionInput): string | undefined {
  if (preprocessing.kind !== 'sequence') return undefined;
  const series = input[preprocessing.seriesColumn];
  if (!Array.isArray(series) || series.some((v) => typeof v !== 'number' || !Number.isFinite(v))) return `${preprocessing.seriesColumn} must be an array of finite numbers`;
  return series.length < preprocessing.window ? `${preprocessing.seriesColumn} needs at least ${preprocessing.window} points (the model's window)` : undefined;
}

/**
 * Model inputs for predict calls, one example per input, through the very encoding of training:
 * tabular and text inputs are rows; a series becomes the rows of its last `window` points, whose
 * one complete window is what the forecaster reads.
 */
export function encodeInputs(preprocessing: Preprocessing, inputs: readonly PredictionInput[]): EncodedInputs {
  if (preprocessing.kind !== 'sequence') return encodeRows(preprocessing, inputs as readonly Row[]);
  const { seriesColumn, window } = preprocessing;
  const data = new Float32Array(inputs.length * window);
  inputs.forEach((input, i) => {
    const points = (input[seriesColumn] as number[]).slice(-window).map((value) => ({ [seriesColumn]: value }));
    data.set(encodeRows(preprocessing, points).data, i * window);
  });
  return { data, shape: [inputs.length, window, 1] };
}

/** Outputs per contract: classifiers {label, probabilities}, regressors {value}, forecasters {forecast: [next]}. */
export function predictInputs(model: tf.LayersModel, preprocessing: Preprocessing, inputs: readonly PredictionInput[]): PredictionOutput[] {
  if (inputs.length === 0) return [];
  const decoded = decodeOutputs(preprocessing, runModel(model, encodeInputs(preprocessing, inputs)));
  if (preprocessing.kind !== 'sequence') return decoded;
  return decoded.map((output) => ({ forecast: [(output as { value: number }).value] }));
}

function runModel(model: tf.LayersModel, { data, shape }: EncodedInputs): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(data, shape)) as tf.Tensor).dataSync() as Float32Array);
}
