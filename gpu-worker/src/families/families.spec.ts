import type { Table } from '../datasets';
import { FAMILIES } from '.';
import type { PrepareRequest } from './family';

function table(columns: string[], rows: (string | null)[][]): Table {
  return { columns, rows: rows.map((values) => Object.fromEntries(columns.map((c, i) => [c, values[i]]))) };
}

function request(training: Table, targetColumn: string, extra: Partial<PrepareRequest> = {}): PrepareRequest {
  return { training, validation: null, targetColumn, featureColumns: null, seed: 1, ...extra };
}

const animals = table(
  ['weight', 'colour', 'kind'],
  [
    ['1', 'red', 'cat'],
    ['2', 'blue', 'dog'],
    ['3', 'red', ''],
    ['4', null, 'dog'],
    ['5', 'red', 'cat'],
    ['6', 'blue', 'dog'],
  ],
);

describe('preparing data per base model', () => {
  it('drops rows without a label and holds out 20 % of the rest', () => {
    const data = FAMILIES['tabular-classifier'].prepare(request(animals, 'kind'));
    expect(data.train.size + data.validation.size).toBe(5);
    expect(data.validation.size).toBe(1);
    expect(data.preprocessing).toMatchObject({ kind: 'tabular', target: { kind: 'classification', classes: ['cat', 'dog'] } });
  });

  it('explains what does not fit, naming columns and counts only', () => {
    const classifier = FAMILIES['tabular-classifier'];
    expect(() => classifier.prepare(request(animals, 'size'))).toThrow('the training dataset has no column "size" (the target)');
    expect(() => classifier.prepare(request(animals, 'kind', { featureColumns: ['kind'] }))).toThrow('the target "kind" cannot also be a feature');
    expect(() => classifier.prepare(request(animals, 'kind', { featureColumns: ['height'] }))).toThrow('the training dataset has no column "height" (a feature)');
    const oneClass = table(['x', 'y'], [['1', 'a'], ['2', 'a'], ['3', 'a']]);
    expect(() => classifier.prepare(request(oneClass, 'y'))).toThrow('the target column "y" needs at least 2 distinct classes');
    expect(() => classifier.prepare(request(table(['x', 'y'], [['1', 'a']]), 'y'))).toThrow('at least 2 usable rows');
    expect(() => FAMILIES['tabular-regressor'].prepare(request(animals, 'colour'))).toThrow('the target "colour" is not numeric, as a regressor needs');
    const validation = table(['weight', 'colour', 'kind'], [['1', 'red', 'bird']]);
    const saved = classifier.prepare(request(animals, 'kind')).preprocessing;
    expect(() => classifier.prepare(request(animals, 'kind', { validation, saved }))).toThrow('1 row(s) of the validation dataset have a target class the base model does not know');
  });

  it('text-classifier reads the one long text column among several', () => {
    const reviews = table(
      ['id', 'lang', 'review', 'label'],
      [
        ['1', 'fr', 'un service vraiment excellent, je recommande', 'pos'],
        ['2', 'fr', 'une attente interminable et un accueil glacial', 'neg'],
        ['3', 'en', 'great food and a lovely terrace', 'pos'],
        ['4', 'fr', 'plus jamais, une vraie déception', 'neg'],
      ],
    );
    expect(FAMILIES['text-classifier'].prepare(request(reviews, 'label')).preprocessing).toMatchObject({ kind: 'text', textColumn: 'review' });
    expect(() => FAMILIES['text-classifier'].prepare(request(reviews, 'label', { featureColumns: ['lang', 'review'] }))).toThrow('exactly one feature column');
  });

  it('sequence-forecaster validates on the end of the series and needs enough points', () => {
    const points = (n: number) => table(['t', 'v'], Array.from({ length: n }, (_, i) => [String(i), String(i * 2)]));
    const data = FAMILIES['sequence-forecaster'].prepare(request(points(32), 'v'));
    // 20 windows of 12: 16 for training, the last 4 (the most recent points) for validation.
    expect([data.train.size, data.validation.size]).toEqual([16, 4]);
    const targets = data.validation.targets;
    const { mean, std } = data.preprocessing as { mean: number; std: number };
    expect(targets.kind === 'values' && Array.from(targets.values, (v) => Math.round(v * std + mean))).toEqual([56, 58, 60, 62]);
    // The api refuses shorter series as bad input from this, before any worker sees them.
    expect(FAMILIES['sequence-forecaster'].describe(data.preprocessing).inputs).toEqual([{ name: 'v', kind: 'series', minLength: 12 }]);
    expect(() => FAMILIES['sequence-forecaster'].prepare(request(points(13), 'v'))).toThrow('the series needs at least 14 points');
    expect(() => FAMILIES['sequence-forecaster'].prepare(request(animals, 'colour'))).toThrow('the series column "colour" of the training dataset is not numeric');
  });
});
