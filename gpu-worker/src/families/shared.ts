import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics } from '../../../src/contracts/training';
import type { Table } from '../datasets';
import { dataError } from '../errors';
import type { Targets } from '../examples';
import { categoryOf, isMissing, type Row } from '../preprocessing';
import { deriveSeed, shuffledOrder } from '../random';

export const HOLDOUT_FRACTION = 0.2;

/** A seeded random 20 % of the rows for validation, the rest for training. */
export function holdout(rows: readonly Row[], seed: number): { train: Row[]; validation: Row[] } {
  if (rows.length < 2) throw dataError('the training dataset needs at least 2 usable rows to hold some out for validation');
  const order = shuffledOrder(rows.length, deriveSeed(seed, 'holdout'));
  const validationCount = Math.max(1, Math.round(rows.length * HOLDOUT_FRACTION));
  const picked = Array.from(order, (i) => rows[i]);
  return { validation: picked.slice(0, validationCount), train: picked.slice(validationCount) };
}

export function requireColumn(table: Table, column: string, what: string, role: string): void {
  if (!table.columns.includes(column)) throw dataError(`the ${what} has no column "${column}" (${role})`);
}

/** Rows whose target is present: a row without a label teaches nothing. */
export function labelledRows(table: Table, target: string): Row[] {
  return table.rows.filter((row) => !isMissing(row[target]));
}

export function classTargets(rows: readonly Row[], target: string, classes: readonly string[], what: string): Targets {
  const index = new Map(classes.map((label, i) => [label, i]));
  const indices = new Int32Array(rows.length);
  let unknown = 0;
  rows.forEach((row, i) => {
    const k = index.get(categoryOf(row[target])!);
    if (k === undefined) unknown++;
    else indices[i] = k;
  });
  if (unknown > 0) throw dataError(`${unknown} row(s) of the ${what} have a target class the base model does not know`);
  return { kind: 'classes', indices, classCount: classes.length };
}

export function sortedClasses(rows: readonly Row[], target: string): string[] {
  const classes = [...new Set(rows.map((row) => categoryOf(row[target])!))].sort();
  if (classes.length < 2) throw dataError(`the target column "${target}" needs at least 2 distinct classes`);
  return classes;
}

/**
 * Dense ReLU layers then the output. Weight initialisers are seeded; dropout is not, because a fixed
 * seed in tfjs would draw the same mask at every step and stop regularising.
 */
export function buildMlp(options: { inputWidth: number; hidden: number[]; dropout: number; outputs: number; activation: 'softmax' | 'linear'; seed: number }): tf.LayersModel {
  const model = tf.sequential();
  options.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(options.seed, 'dense', i) }),
        ...(i === 0 ? { inputShape: [options.inputWidth] } : {}),
      }),
    );
    if (options.dropout > 0) model.add(tf.layers.dropout({ rate: options.dropout }));
  });
  model.add(
    tf.layers.dense({
      units: options.outputs,
      activation: options.activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(options.seed, 'output') }),
    }),
  );
  return model;
}

function logValue(logs: tf.Logs, key: string): number | undefined {
  const value = logs[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function requiredLoss(logs: tf.Logs): number {
  const loss = logValue(logs, 'loss');
  // NaN loss means training diverged (e.g. a learning rate far too high): say so rather than report NaN.
  if (loss === undefined) throw dataError('training diverged (the loss is not a finite number); try a lower learning rate');
  return loss;
}

export function classificationMetrics(logs: tf.Logs): EpochMetrics {
  return { loss: requiredLoss(logs), valLoss: logValue(logs, 'val_loss'), accuracy: logValue(logs, 'acc'), valAccuracy: logValue(logs, 'val_acc') };
}

/** MAE scales linearly with the target's standardisation, so multiplying by std gives the data's units. */
export function regressionMetrics(logs: tf.Logs, std: number): EpochMetrics {
  const mae = logValue(logs, 'mae');
  const valMae = logValue(logs, 'val_mae');
  return {
    loss: requiredLoss(logs),
    valLoss: logValue(logs, 'val_loss'),
    mae: mae === undefined ? undefined : mae * std,
    valMae: valMae === undefined ? undefined : valMae * std,
  };
}

/** Drops undefined fields, so metrics survive JSON and Redis unchanged. */
export function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
