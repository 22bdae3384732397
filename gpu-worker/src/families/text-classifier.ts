import type { Preprocessing } from '../../../src/contracts/model-artifact';
import type { Table } from '../datasets';
import { dataError } from '../errors';
import { SparseExamples, type ExampleSet } from '../examples';
import { hashedTextFeatures, inferColumnKind, TEXT_BUCKETS, TEXT_NGRAMS, textOf, type Row } from '../preprocessing';
import type { ModelFamily, PrepareRequest } from './family';
import { buildMlp, classificationMetrics, classTargets, definedOnly, holdout, labelledRows, requireColumn, sortedClasses } from './shared';

type TextPreprocessing = Extract<Preprocessing, { kind: 'text' }>;

/**
 * A text column → one class. Hashed unigrams and bigrams feed an MLP; an embedding layer would need
 * UnsortedSegmentSum for its gradient, which wasm lacks and cpu runs slowly.
 */
export const textClassifier: ModelFamily = {
  id: 'text-classifier',
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
  prepare(request) {
    const { training, validation, targetColumn } = request;
    requireColumn(training, targetColumn, 'training dataset', 'the target');
    if (validation) requireColumn(validation, targetColumn, 'validation dataset', 'the target');
    const labelled = labelledRows(training, targetColumn);
    const split = validation ? { train: labelled, validation: labelledRows(validation, targetColumn) } : holdout(labelled, request.seed);
    if (split.train.length === 0 || split.validation.length === 0) throw dataError(`there are no labelled rows to train or validate on in "${targetColumn}"`);

    const preprocessing: TextPreprocessing = request.saved
      ? checkSaved(request.saved, request)
      : {
          kind: 'text',
          textColumn: chooseTextColumn(training, request),
          lowercase: true,
          ngrams: TEXT_NGRAMS,
          buckets: TEXT_BUCKETS,
          target: { name: targetColumn, classes: sortedClasses([...split.train, ...split.validation], targetColumn) },
        };
    requireColumn(training, preprocessing.textColumn, 'training dataset', 'the text');
    if (validation) requireColumn(validation, preprocessing.textColumn, 'validation dataset', 'the text');
    return {
      preprocessing,
      train: textExamples(preprocessing, split.train, 'training dataset'),
      validation: textExamples(preprocessing, split.validation, 'validation dataset'),
    };
  },
  build(preprocessing, seed) {
    if (preprocessing.kind !== 'text') throw new Error('text-classifier needs a text preprocessing');
    return buildMlp({ inputWidth: preprocessing.buckets, hidden: [64], dropout: 0.3, outputs: preprocessing.target.classes.length, activation: 'softmax', seed });
  },
  epochMetrics: (logs) => definedOnly(classificationMetrics(logs)),
  describe(preprocessing) {
    if (preprocessing.kind !== 'text') throw new Error('not a text preprocessing');
    return {
      inputs: [{ name: preprocessing.textColumn, kind: 'text' }],
      target: { name: preprocessing.target.name, kind: 'classification', classes: preprocessing.target.classes },
    };
  },
  probePreprocessing: () => ({ kind: 'text', textColumn: 't', lowercase: true, ngrams: TEXT_NGRAMS, buckets: TEXT_BUCKETS, target: { name: 'y', classes: ['a', 'b'] } }),
};

/**
 * The requested column; else the only other column; else the non-numeric column with the longest
 * values on average, which is what the api's profile calls "text" (long, varied) as opposed to
 * short categorical labels. The api has already checked that there is exactly one.
 */
function chooseTextColumn(training: Table, request: PrepareRequest): string {
  if (request.featureColumns) {
    if (request.featureColumns.length !== 1) throw dataError('text-classifier takes exactly one feature column (the text)');
    return request.featureColumns[0];
  }
  const others = training.columns.filter((column) => column !== request.targetColumn);
  if (others.length === 1) return others[0];
  const textual = others.filter((column) => inferColumnKind(training.rows, column) === 'categorical');
  if (textual.length === 0) throw dataError('the training dataset has no text column besides the target');
  const meanLength = (column: string) => training.rows.reduce((sum, row) => sum + textOf(row[column]).length, 0) / Math.max(1, training.rows.length);
  return textual.reduce((best, column) => (meanLength(column) > meanLength(best) ? column : best));
}

function checkSaved(saved: Preprocessing, request: PrepareRequest): TextPreprocessing {
  if (saved.kind !== 'text') throw dataError('the base model was not trained for this task');
  if (saved.target.name !== request.targetColumn) throw dataError(`the base model predicts "${saved.target.name}", not "${request.targetColumn}"`);
  if (request.featureColumns && (request.featureColumns.length !== 1 || request.featureColumns[0] !== saved.textColumn)) {
    throw dataError(`the base model reads the text column "${saved.textColumn}"`);
  }
  return saved;
}

function textExamples(preprocessing: TextPreprocessing, rows: readonly Row[], what: string): ExampleSet {
  const vectors = rows.map((row) => hashedTextFeatures(textOf(row[preprocessing.textColumn]), preprocessing));
  return new SparseExamples(vectors, preprocessing.buckets, classTargets(rows, preprocessing.target.name, preprocessing.target.classes, what));
}
