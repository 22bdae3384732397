import * as tf from '@tensorflow/tfjs';
import type { BaseModelId, Hyperparameters } from '../../src/contracts/training';
import { installedCandidates, selectBackend } from '../src/backend';
import type { Table } from '../src/datasets';
import { FAMILIES } from '../src/families';
import { predictRows } from '../src/predict';
import { isMissing } from '../src/preprocessing';
import { createSession, disposeSession, runEpoch, summarize, type EpochOutcome, type TrainingSession } from '../src/training';
import { fixtureTable } from './support/fixtures';

/**
 * The four base models on real data, through the same functions the worker runs (no Redis, no api).
 * Few epochs and small data keep this fast; thresholds are about learning, not about leaderboards.
 */

let backend: string;

beforeAll(async () => {
  tf.env().set('PROD', true);
  backend = (await selectBackend(installedCandidates())).backend;
});

async function train(baseModel: BaseModelId, table: Table, targetColumn: string, hyperparameters: Hyperparameters, validation: Table | null = null): Promise<{ session: TrainingSession; epochs: EpochOutcome[] }> {
  const family = FAMILIES[baseModel];
  const data = family.prepare({ training: table, validation, targetColumn, featureColumns: null, seed: hyperparameters.seed });
  const session = createSession(family, data, hyperparameters);
  const epochs: EpochOutcome[] = [];
  for (let epoch = 0; epoch < hyperparameters.epochs; epoch++) epochs.push(await runEpoch(session, epoch));
  return { session, epochs };
}

function report(name: string, values: Record<string, unknown>): void {
  console.info(`${name} [${backend}] ${JSON.stringify(values)}`);
}

describe('base models on real data', () => {
  it('tabular-classifier: penguins species reach ≥ 0.9 validation accuracy, and serving-style predictions agree', async () => {
    const penguins = fixtureTable('penguins.csv');
    const tensorsBefore = tf.memory().numTensors;
    const { session, epochs } = await train('tabular-classifier', penguins, 'species', { epochs: 12, batchSize: 16, learningRate: 0.01, seed: 7 });
    const last = epochs.at(-1)!.metrics!;
    report('penguins', { ...last, samplesPerSecond: epochs.at(-1)!.samplesPerSecond });
    expect(last.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(epochs.every((e) => e.completed)).toBe(true);

    const summary = summarize(session);
    expect(summary.target).toEqual({ name: 'species', kind: 'classification', classes: ['Adelie', 'Chinstrap', 'Gentoo'] });
    expect(summary.inputs).toContainEqual({ name: 'island', kind: 'categorical' });
    expect(summary.inputs).toContainEqual({ name: 'bill_length_mm', kind: 'numeric' });
    expect(summary.trainingRows + summary.validationRows).toBe(penguins.rows.length);

    // Raw rows (blanks included) through the saved preprocessing, as serving will do it.
    const predictions = predictRows(session.model, session.data.preprocessing, penguins.rows);
    const correct = predictions.filter((p, i) => 'label' in p && p.label === penguins.rows[i].species).length;
    expect(correct / penguins.rows.length).toBeGreaterThanOrEqual(0.9);

    disposeSession(session);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('tabular-regressor: mpg beats the mean predictor on validation', async () => {
    const mpg = fixtureTable('mpg.csv');
    const { session, epochs } = await train('tabular-regressor', mpg, 'mpg', { epochs: 25, batchSize: 16, learningRate: 0.01, seed: 7 });
    const preprocessing = session.data.preprocessing;
    if (preprocessing.kind !== 'tabular' || preprocessing.target.kind !== 'regression') throw new Error('unexpected preprocessing');
    const targets = session.data.validation.targets;
    if (targets.kind !== 'values') throw new Error('unexpected targets');
    // Predicting the training mean for every car: in standardised units that is |target| × std.
    const meanPredictorMae = (Array.from(targets.values).reduce((sum, v) => sum + Math.abs(v), 0) / targets.values.length) * preprocessing.target.std;
    const modelMae = epochs.at(-1)!.metrics!.valMae!;
    report('mpg', { valMae: modelMae, meanPredictorMae, ...epochs.at(-1)!.metrics });
    expect(modelMae).toBeLessThan(meanPredictorMae * 0.6);
    // `name` has hundreds of values: the vocabulary is capped, the rest share the unknown input.
    const name = preprocessing.features.find((f) => f.name === 'name');
    expect(name?.kind === 'categorical' && name.vocabulary.length).toBe(50);
    disposeSession(session);
  });

  it('sequence-forecaster: the LSTM on monthly airline passengers lowers its loss', async () => {
    const flights = fixtureTable('flights.csv');
    const { session, epochs } = await train('sequence-forecaster', flights, 'passengers', { epochs: 15, batchSize: 8, learningRate: 0.01, seed: 7 });
    const first = epochs[0].metrics!;
    const last = epochs.at(-1)!.metrics!;
    report('flights', { firstLoss: first.loss, lastLoss: last.loss, valLoss: last.valLoss, valMae: last.valMae });
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    expect(Number.isFinite(last.valLoss)).toBe(true);
    // One forecast per complete window of 12 months; the last one looks past the end of the data.
    const forecasts = predictRows(session.model, session.data.preprocessing, flights.rows.slice(-12));
    expect(forecasts).toHaveLength(1);
    expect('value' in forecasts[0] && forecasts[0].value).toBeGreaterThan(100);
    disposeSession(session);
  });

  it('text-classifier: French reviews are classified well above chance', async () => {
    const reviews = fixtureTable('reviews-fr.csv');
    const { session, epochs } = await train('text-classifier', reviews, 'sentiment', { epochs: 10, batchSize: 16, learningRate: 0.01, seed: 7 });
    const targets = session.data.validation.targets;
    if (targets.kind !== 'classes') throw new Error('unexpected targets');
    const counts = [0, 0];
    targets.indices.forEach((k) => counts[k]++);
    const chance = Math.max(...counts) / targets.indices.length;
    const last = epochs.at(-1)!.metrics!;
    report('reviews-fr', { ...last, chance });
    expect(last.valAccuracy).toBeGreaterThanOrEqual(chance + 0.2);
    expect(session.data.preprocessing).toMatchObject({ kind: 'text', textColumn: 'avis', buckets: 4096, ngrams: [1, 2] });
    const [verdict] = predictRows(session.model, session.data.preprocessing, [{ avis: 'Le repas était lamentable, fuyez.' }]);
    expect('label' in verdict && verdict.label).toBe('négatif');
    disposeSession(session);
  });

  it('a seed gives the same split and initial weights: a resumed job trains on what the interrupted one had', () => {
    const iris = fixtureTable('iris.csv');
    const hyperparameters = { epochs: 1, batchSize: 16, learningRate: 0.01, seed: 11 };
    const sessions = [0, 1].map(() => {
      const data = FAMILIES['tabular-classifier'].prepare({ training: iris, validation: null, targetColumn: 'species', featureColumns: null, seed: 11 });
      return createSession(FAMILIES['tabular-classifier'], data, hyperparameters);
    });
    const [a, b] = sessions;
    expect(b.data.preprocessing).toEqual(a.data.preprocessing);
    expect(b.data.validation.targets).toEqual(a.data.validation.targets);
    const weightsOf = (session: TrainingSession) => session.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(weightsOf(b)).toEqual(weightsOf(a));
    sessions.forEach(disposeSession);
  });

  it('uses the validation dataset when the job names one', async () => {
    const penguins = fixtureTable('penguins.csv');
    const labelled = penguins.rows.filter((row) => !isMissing(row.species));
    const training = { columns: penguins.columns, rows: labelled.filter((_, i) => i % 4 !== 0) };
    const validation = { columns: penguins.columns, rows: labelled.filter((_, i) => i % 4 === 0) };
    const { session } = await train('tabular-classifier', training, 'species', { epochs: 1, batchSize: 32, learningRate: 0.01, seed: 1 }, validation);
    expect(session.data.train.size).toBe(training.rows.length);
    expect(session.data.validation.size).toBe(validation.rows.length);
    disposeSession(session);
  });
});
