import type { FeatureTransform, Preprocessing } from '../../../src/contracts/model-artifact';
import type { ModelSummary } from '../../../src/contracts/training';
import type { Table } from '../datasets';
import { dataError } from '../errors';
import { DenseExamples, type ExampleSet, type Targets } from '../examples';
import { featureWidth, fitFeatureTransforms, inferColumnKind, meanAndStd, numericValue, writeTabularFeatures, type Row } from '../preprocessing';
import type { PreparedData, PrepareRequest } from './family';
import { classTargets, holdout, labelledRows, requireColumn, sortedClasses } from './shared';

type TabularPreprocessing = Extract<Preprocessing, { kind: 'tabular' }>;
export type TabularTask = 'classification' | 'regression';

/** What tabular-classifier and tabular-regressor share: feature columns in, one target out. */
export function prepareTabular(request: PrepareRequest, task: TabularTask): PreparedData {
  const { training, validation, targetColumn } = request;
  requireColumn(training, targetColumn, 'training dataset', 'the target');
  if (validation) requireColumn(validation, targetColumn, 'validation dataset', 'the target');

  const labelled = labelledRows(training, targetColumn);
  const split = validation ? { train: labelled, validation: labelledRows(validation, targetColumn) } : holdout(labelled, request.seed);
  if (split.train.length === 0) throw dataError(`the training dataset has no row with a value in "${targetColumn}"`);
  if (split.validation.length === 0) throw dataError(`the validation dataset has no row with a value in "${targetColumn}"`);

  const preprocessing = request.saved ? checkSaved(request.saved, request, task) : fitTabular(request, split, task);
  for (const feature of preprocessing.features) {
    requireColumn(training, feature.name, 'training dataset', 'a feature');
    if (validation) requireColumn(validation, feature.name, 'validation dataset', 'a feature');
  }
  return {
    preprocessing,
    train: tabularExamples(preprocessing, split.train, 'training dataset'),
    validation: tabularExamples(preprocessing, split.validation, 'validation dataset'),
  };
}

function fitTabular(request: PrepareRequest, split: { train: Row[]; validation: Row[] }, task: TabularTask): TabularPreprocessing {
  const { training, targetColumn } = request;
  const columns = request.featureColumns ?? training.columns.filter((column) => column !== targetColumn);
  if (columns.includes(targetColumn)) throw dataError(`the target "${targetColumn}" cannot also be a feature`);
  if (columns.length === 0) throw dataError('there is no feature column besides the target');
  for (const column of columns) requireColumn(training, column, 'training dataset', 'a feature');

  const features = fitFeatureTransforms(split.train, columns);
  if (task === 'classification') {
    // Classes from both sets: a class seen only in validation still counts (as an error) there.
    return { kind: 'tabular', features, target: { name: targetColumn, kind: 'classification', classes: sortedClasses([...split.train, ...split.validation], targetColumn) } };
  }
  if (inferColumnKind(split.train, targetColumn) !== 'numeric') throw dataError(`the target "${targetColumn}" is not numeric, as a regressor needs`);
  const values = split.train.map((row) => numericValue(row[targetColumn])!);
  return { kind: 'tabular', features, target: { name: targetColumn, kind: 'regression', ...meanAndStd(values) } };
}

function checkSaved(saved: Preprocessing, request: PrepareRequest, task: TabularTask): TabularPreprocessing {
  if (saved.kind !== 'tabular' || saved.target.kind !== task) throw dataError('the base model was not trained for this task');
  if (saved.target.name !== request.targetColumn) throw dataError(`the base model predicts "${saved.target.name}", not "${request.targetColumn}"`);
  if (request.featureColumns && !sameSet(request.featureColumns, saved.features.map((f) => f.name))) {
    throw dataError("featureColumns differ from the base model's features");
  }
  return saved;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}

export function tabularExamples(preprocessing: TabularPreprocessing, rows: readonly Row[], what: string): ExampleSet {
  const width = featureWidth(preprocessing.features);
  const inputs = new Float32Array(rows.length * width);
  rows.forEach((row, i) => writeTabularFeatures(preprocessing.features, row, inputs, i * width));
  return new DenseExamples(inputs, [width], tabularTargets(preprocessing, rows, what));
}

function tabularTargets(preprocessing: TabularPreprocessing, rows: readonly Row[], what: string): Targets {
  const target = preprocessing.target;
  if (target.kind === 'classification') return classTargets(rows, target.name, target.classes, what);
  const values = new Float32Array(rows.length);
  let notNumbers = 0;
  rows.forEach((row, i) => {
    const value = numericValue(row[target.name]);
    if (value === undefined) notNumbers++;
    else values[i] = (value - target.mean) / target.std;
  });
  if (notNumbers > 0) throw dataError(`${notNumbers} row(s) of the ${what} have a target "${target.name}" that is not a number`);
  return { kind: 'values', values };
}

export function describeTabular(preprocessing: Preprocessing): Pick<ModelSummary, 'inputs' | 'target'> {
  if (preprocessing.kind !== 'tabular') throw new Error('not a tabular preprocessing');
  const inputs = preprocessing.features.map((feature: FeatureTransform) => ({ name: feature.name, kind: feature.kind }));
  const target = preprocessing.target;
  return {
    inputs,
    target: target.kind === 'classification' ? { name: target.name, kind: 'classification', classes: target.classes } : { name: target.name, kind: 'regression' },
  };
}

export function tabularProbe(target: TabularPreprocessing['target']): TabularPreprocessing {
  return {
    kind: 'tabular',
    features: [
      { name: 'x', kind: 'numeric', mean: 0, std: 1 },
      { name: 'c', kind: 'categorical', vocabulary: ['a', 'b'] },
    ],
    target,
  };
}
