import * as tf from '@tensorflow/tfjs';
import type { SparseVector } from './preprocessing';

/**
 * Encoded training examples kept as plain typed arrays; tensors exist one batch at a time. Hashed
 * text is stored sparse and densified per batch: 50,000 reviews × 4,096 buckets would take 800 MB
 * as one dense tensor, against a few MB this way.
 */

export type Targets = { kind: 'classes'; indices: Int32Array; classCount: number } | { kind: 'values'; values: Float32Array };

export interface ExampleSet {
  readonly size: number;
  /** Shape of one example's input. */
  readonly inputShape: number[];
  readonly targets: Targets;
  /** Inputs and targets of the examples at `indices`, as new tensors the caller disposes. */
  batch(indices: ArrayLike<number>): { xs: tf.Tensor; ys: tf.Tensor };
}

function targetBatch(targets: Targets, indices: ArrayLike<number>): tf.Tensor {
  const count = indices.length;
  if (targets.kind === 'values') {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = targets.values[indices[i]];
    return tf.tensor2d(values, [count, 1]);
  }
  // One-hot built directly: tf.oneHot would add a kernel call and an int tensor per batch.
  const oneHot = new Float32Array(count * targets.classCount);
  for (let i = 0; i < count; i++) oneHot[i * targets.classCount + targets.indices[indices[i]]] = 1;
  return tf.tensor2d(oneHot, [count, targets.classCount]);
}

export class DenseExamples implements ExampleSet {
  private readonly width: number;

  constructor(
    private readonly inputs: Float32Array,
    readonly inputShape: number[],
    readonly targets: Targets,
  ) {
    this.width = inputShape.reduce((a, b) => a * b, 1);
  }

  get size(): number {
    return this.inputs.length / this.width;
  }

  batch(indices: ArrayLike<number>): { xs: tf.Tensor; ys: tf.Tensor } {
    const data = new Float32Array(indices.length * this.width);
    for (let i = 0; i < indices.length; i++) data.set(this.inputs.subarray(indices[i] * this.width, (indices[i] + 1) * this.width), i * this.width);
    return { xs: tf.tensor(data, [indices.length, ...this.inputShape]), ys: targetBatch(this.targets, indices) };
  }
}

export class SparseExamples implements ExampleSet {
  readonly inputShape: number[];

  constructor(
    private readonly vectors: readonly SparseVector[],
    width: number,
    readonly targets: Targets,
  ) {
    this.inputShape = [width];
  }

  get size(): number {
    return this.vectors.length;
  }

  batch(indices: ArrayLike<number>): { xs: tf.Tensor; ys: tf.Tensor } {
    const width = this.inputShape[0];
    const data = new Float32Array(indices.length * width);
    for (let i = 0; i < indices.length; i++) {
      const { indices: buckets, values } = this.vectors[indices[i]];
      for (let k = 0; k < buckets.length; k++) data[i * width + buckets[k]] = values[k];
    }
    return { xs: tf.tensor2d(data, [indices.length, width]), ys: targetBatch(this.targets, indices) };
  }
}

/** Batches of `set` in the given example order, for fitDataset / evaluateDataset. */
export function batchDataset(set: ExampleSet, order: ArrayLike<number>, batchSize: number): tf.data.Dataset<tf.TensorContainer> {
  return tf.data.generator(function* () {
    for (let start = 0; start < order.length; start += batchSize) {
      yield set.batch(Array.prototype.slice.call(order, start, Math.min(start + batchSize, order.length)) as number[]);
    }
  });
}

export function identityOrder(size: number): Int32Array {
  return Int32Array.from({ length: size }, (_, i) => i);
}
