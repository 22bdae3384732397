import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../../src/contracts/model-artifact';
import { decodeOutputs, encodeRows, type DecodedOutput, type Row } from './preprocessing';

/** Predictions for raw rows through the saved preprocessing: what serving does, and what tests compare. */
export function predictRows(model: tf.LayersModel, preprocessing: Preprocessing, rows: readonly Row[]): DecodedOutput[] {
  const { data, shape } = encodeRows(preprocessing, rows);
  if (shape[0] === 0) return [];
  const outputs = tf.tidy(() => (model.predict(tf.tensor(data, shape)) as tf.Tensor).dataSync());
  return decodeOutputs(preprocessing, outputs);
}
