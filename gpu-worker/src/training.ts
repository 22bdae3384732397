import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, Hyperparameters, ModelSummary } from '../../src/contracts/training';
import { batchDataset, identityOrder } from './examples';
import type { ModelFamily, PreparedData } from './families';
import { deriveSeed, shuffledOrder } from './random';

/**
 * Training without any I/O: a compiled model, its prepared data, and one epoch at a time. The runner
 * adds checkpoints, events and metering between epochs; tests call these functions directly.
 */

const VALIDATION_BATCH_SIZE = 512;

export interface TrainingSession {
  family: ModelFamily;
  model: tf.LayersModel;
  data: PreparedData;
  hyperparameters: Hyperparameters;
}

/**
 * Compiles `model` (from a checkpoint or base model), or a new network of the family, with a fresh
 * Adam at the job's learning rate. Optimizer state is not part of an artifact, so a resumed job
 * restarts Adam's moment estimates from zero; the weights carry the learning.
 */
export function createSession(family: ModelFamily, data: PreparedData, hyperparameters: Hyperparameters, model?: tf.LayersModel): TrainingSession {
  const network = model ?? family.build(data.preprocessing, deriveSeed(hyperparameters.seed, 'weights'));
  network.compile({ optimizer: tf.train.adam(hyperparameters.learningRate), loss: family.loss, metrics: family.metrics });
  return { family, model: network, data, hyperparameters };
}

export interface EpochControl {
  /** After each batch, with the batches done so far in this epoch. */
  onBatch?(batchesDone: number, batchesPerEpoch: number): void;
  /** Checked after each batch: true ends training after that batch. */
  shouldStop?(): boolean;
}

export interface EpochOutcome {
  /** False when shouldStop ended the epoch early (no validation ran, no metrics). */
  completed: boolean;
  /** Time spent training and validating this epoch: what the job is metered for. */
  seconds: number;
  batchesDone: number;
  batchesPerEpoch: number;
  samplesPerSecond: number;
  metrics?: EpochMetrics;
}

/** Runs epoch `epochIndex` (0-based) with a seeded order, so a resumed job sees the same batches. */
export async function runEpoch(session: TrainingSession, epochIndex: number, control: EpochControl = {}): Promise<EpochOutcome> {
  const { model, data, hyperparameters } = session;
  const batchSize = Math.max(1, Math.min(hyperparameters.batchSize, data.train.size));
  const batchesPerEpoch = Math.ceil(data.train.size / batchSize);
  const order = shuffledOrder(data.train.size, deriveSeed(hyperparameters.seed, 'epoch', epochIndex));
  let batchesDone = 0;
  let samplesDone = 0;
  let stopped = false;
  let epochLogs: tf.Logs | undefined;

  const started = process.hrtime.bigint();
  await model.fitDataset(batchDataset(data.train, order, batchSize), {
    epochs: epochIndex + 1,
    initialEpoch: epochIndex,
    validationData: batchDataset(data.validation, identityOrder(data.validation.size), VALIDATION_BATCH_SIZE),
    verbose: 0,
    // tfjs yields to the event loop every 125 ms, which keeps Bull's lock renewals, the heartbeat
    // and the cancellation check alive while a long epoch runs.
    yieldEvery: 'auto',
    callbacks: {
      onBatchEnd: async (_batch, logs) => {
        batchesDone++;
        samplesDone += typeof logs?.size === 'number' ? logs.size : batchSize;
        control.onBatch?.(batchesDone, batchesPerEpoch);
        if (control.shouldStop?.()) {
          stopped = true;
          model.stopTraining = true;
        }
      },
      onEpochEnd: async (_epoch, logs) => {
        epochLogs = logs;
      },
    },
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const completed = !stopped && batchesDone === batchesPerEpoch;
  return {
    completed,
    seconds,
    batchesDone,
    batchesPerEpoch,
    samplesPerSecond: seconds > 0 ? Math.round((samplesDone / seconds) * 10) / 10 : 0,
    metrics: completed && epochLogs ? session.family.epochMetrics(epochLogs, data.preprocessing) : undefined,
  };
}

export function summarize(session: TrainingSession): ModelSummary {
  return {
    baseModel: session.family.id,
    ...session.family.describe(session.data.preprocessing),
    trainingRows: session.data.train.size,
    validationRows: session.data.validation.size,
    parameters: session.model.countParams(),
  };
}

/** Frees the weights and the optimizer state (the model does not own an optimizer passed to compile). */
export function disposeSession(session: TrainingSession): void {
  session.model.optimizer?.dispose();
  session.model.dispose();
}
