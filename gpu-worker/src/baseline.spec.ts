import type { Table } from './datasets';
import { binIndex, categoricalDistribution, driftBaseline, numericDistribution, OTHER_CATEGORY } from './baseline';
import { FAMILIES } from './families';

function table(columns: string[], rows: (string | null)[][]): Table {
  return { columns, rows: rows.map((values) => Object.fromEntries(columns.map((c, i) => [c, values[i]]))) };
}

describe('drift baseline', () => {
  it('bins like the api: a value on an edge belongs to the bin above it', () => {
    expect([0, 10, 15, 20, 99].map((v) => binIndex([10, 20], v))).toEqual([0, 1, 1, 2, 2]);
  });

  it('cuts numbers at their deciles, with proportions measured on the data itself', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const { binEdges, proportions } = numericDistribution(values);
    expect(binEdges).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(proportions).toEqual(new Array(10).fill(0.1));
  });

  it('merges bins that ties would leave empty, and never starts with an empty bin', () => {
    const values = [...new Array(80).fill(5), ...Array.from({ length: 20 }, (_, i) => 10 + i)];
    const { binEdges, proportions } = numericDistribution(values);
    expect(binEdges[0]).toBeGreaterThan(5);
    expect(new Set(binEdges).size).toBe(binEdges.length);
    expect(proportions[0]).toBe(0.8);
    expect(proportions.every((p) => p > 0)).toBe(true);
    expect(proportions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(numericDistribution([7, 7, 7])).toEqual({ binEdges: [], proportions: [1] });
  });

  it('pools categories past the vocabulary under the bucket the api uses for unseen ones', () => {
    expect(categoricalDistribution(['a', 'a', 'b', 'c'], 2)).toEqual({ a: 0.5, b: 0.25, [OTHER_CATEGORY]: 0.25 });
    expect(categoricalDistribution(['a', 'b'])).toEqual({ a: 0.5, b: 0.5 });
  });

  it('describes a tabular classifier: its features by their summary names, and the class shares of the labelled rows', () => {
    const training = table(
      ['weight', 'colour', 'kind'],
      [
        ['1', 'red', 'cat'],
        ['2', 'blue', 'dog'],
        ['3', 'red', ''],
        ['NA', null, 'dog'],
        ['5', 'red', 'cat'],
        ['6', 'blue', 'dog'],
      ],
    );
    const family = FAMILIES['tabular-classifier'];
    const { preprocessing } = family.prepare({ training, validation: null, targetColumn: 'kind', featureColumns: null, seed: 1 });
    const baseline = driftBaseline(preprocessing, training);
    expect(baseline.features.map((f) => f.name)).toEqual(family.describe(preprocessing).inputs.map((i) => i.name));
    expect(baseline.rows).toBe(5);
    expect(baseline.features[0]).toMatchObject({ name: 'weight', kind: 'numeric' });
    // Missing values are not a category: four colours among the five labelled rows.
    expect(baseline.features[1]).toEqual({ name: 'colour', kind: 'categorical', proportions: { red: 0.5, blue: 0.5 } });
    expect(baseline.output).toEqual({ kind: 'classes', proportions: { cat: 0.4, dog: 0.6 } });
    expect(JSON.stringify(baseline)).not.toMatch(/"\d"/);
  });

  it('describes a regressor by the bins of its target, a text model and a forecaster by their outputs', () => {
    const cars = table(['power', 'mpg'], Array.from({ length: 50 }, (_, i) => [String(50 + i), String(10 + (i % 25))]));
    const regressor = driftBaseline(FAMILIES['tabular-regressor'].prepare({ training: cars, validation: null, targetColumn: 'mpg', featureColumns: null, seed: 1 }).preprocessing, cars);
    expect(regressor.output.kind).toBe('numeric');
    expect(regressor.output.kind === 'numeric' && regressor.output.binEdges.length).toBe(9);

    const reviews = table(['text', 'label'], [['great food', 'pos'], ['awful service', 'neg'], ['lovely', 'pos'], ['never again', 'neg'], ['superb', 'pos']]);
    const text = driftBaseline(FAMILIES['text-classifier'].prepare({ training: reviews, validation: null, targetColumn: 'label', featureColumns: null, seed: 1 }).preprocessing, reviews);
    expect(text).toEqual({ rows: 5, features: [], output: { kind: 'classes', proportions: { neg: 0.4, pos: 0.6 } } });

    const series = table(['t', 'v'], Array.from({ length: 40 }, (_, i) => [String(i), String(i)]));
    const forecaster = driftBaseline(FAMILIES['sequence-forecaster'].prepare({ training: series, validation: null, targetColumn: 'v', featureColumns: null, seed: 1 }).preprocessing, series);
    // The points after the first window of 12: what the forecaster learns to output.
    expect(forecaster.rows).toBe(28);
    expect(forecaster.features).toEqual([]);
    expect(forecaster.output.kind === 'numeric' && forecaster.output.binEdges[0]).toBeGreaterThan(12);
  });
});
