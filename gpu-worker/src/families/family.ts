import type * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../../../src/contracts/model-artifact';
import type { BaseModelId, EpochMetrics, ModelSummary } from '../../../src/contracts/training';
import type { Table } from '../datasets';
import type { ExampleSet } from '../examples';

/** Which columns a job trains on (from the payload). */
export interface ColumnSpec {
  targetColumn: string;
  featureColumns: string[] | null;
}

export interface PreparedData {
  preprocessing: Preprocessing;
  train: ExampleSet;
  validation: ExampleSet;
}

export interface PrepareRequest extends ColumnSpec {
  training: Table;
  /** The job's validation dataset; absent, the family holds out part of `training` (seeded). */
  validation: Table | null;
  seed: number;
  /** From a checkpoint or a base model: applied as saved, never refitted, so inputs keep their meaning. */
  saved?: Preprocessing;
}

/** One base model: how it reads data, its network, its loss and what it reports. */
export interface ModelFamily {
  readonly id: BaseModelId;
  prepare(request: PrepareRequest): PreparedData;
  build(preprocessing: Preprocessing, seed: number): tf.LayersModel;
  readonly loss: string;
  readonly metrics: string[];
  /** Converts tfjs epoch logs (standardised units) into the platform's metrics (the data's units). */
  epochMetrics(logs: tf.Logs, preprocessing: Preprocessing): EpochMetrics;
  describe(preprocessing: Preprocessing): Pick<ModelSummary, 'inputs' | 'target'>;
  /** A tiny preprocessing of this family's shape, to check that the backend runs its kernels. */
  probePreprocessing(): Preprocessing;
}
