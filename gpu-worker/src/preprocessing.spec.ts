import type { Preprocessing } from '../../src/contracts/model-artifact';
import {
  decodeOutputs,
  encodeRows,
  featureWidth,
  fitFeatureTransforms,
  hashedTextFeatures,
  hashToken,
  inferColumnKind,
  isMissing,
  numericValue,
  seriesValues,
  topCategories,
} from './preprocessing';

describe('preprocessing', () => {
  it('treats blanks and NA-like markers as missing, and parses numbers strictly', () => {
    for (const value of [null, undefined, '', '  ', 'NA', 'n/a', 'NaN', 'null', Number.NaN]) expect(isMissing(value)).toBe(true);
    expect(isMissing('0')).toBe(false);
    expect(numericValue(' 3.5 ')).toBe(3.5);
    expect(numericValue('-1e3')).toBe(-1000);
    expect(numericValue(7)).toBe(7);
    // Number() would accept these; a column holding them is not numeric.
    for (const value of ['0x1F', '1,5', 'Infinity', '12 kg', true]) expect(numericValue(value)).toBeUndefined();
  });

  it('infers a column as numeric only when every present value is a number', () => {
    const rows = [{ a: '1', b: 'x', c: '' }, { a: '', b: '2', c: 'NA' }, { a: '3.5', b: '3', c: null }];
    expect(inferColumnKind(rows, 'a')).toBe('numeric');
    expect(inferColumnKind(rows, 'b')).toBe('categorical');
    expect(inferColumnKind(rows, 'c')).toBe('categorical');
  });

  it('keeps the 50 most frequent categories, deterministically', () => {
    const values = [...Array.from({ length: 60 }, (_, i) => `v${i}`), 'v59', 'v59', 'v58'];
    const vocabulary = topCategories(values);
    expect(vocabulary).toHaveLength(50);
    expect(vocabulary.slice(0, 2)).toEqual(['v59', 'v58']);
    expect(topCategories([...values].reverse())).toEqual(vocabulary);
  });

  it('standardises numbers (missing → mean) and one-hot encodes categories with an unknown input', () => {
    const rows = [{ x: '1', c: 'red' }, { x: '3', c: 'blue' }, { x: '', c: 'red' }];
    const features = fitFeatureTransforms(rows, ['x', 'c']);
    expect(features).toEqual([
      { name: 'x', kind: 'numeric', mean: 2, std: 1 },
      { name: 'c', kind: 'categorical', vocabulary: ['red', 'blue'] },
    ]);
    expect(featureWidth(features)).toBe(4);
    const preprocessing: Preprocessing = { kind: 'tabular', features, target: { name: 'y', kind: 'classification', classes: ['a', 'b'] } };
    const { data, shape } = encodeRows(preprocessing, [{ x: '3', c: 'blue' }, { x: null, c: 'green' }, { c: '' }]);
    expect(shape).toEqual([3, 4]);
    expect(Array.from(data)).toEqual([1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('hashes unigrams and bigrams into L2-normalised term frequencies', () => {
    const options = { lowercase: true, ngrams: [1, 2], buckets: 4096 };
    const features = hashedTextFeatures("Très BON, très bon !", options);
    const norm = Math.sqrt(Array.from(features.values).reduce((sum, v) => sum + v * v, 0));
    expect(norm).toBeCloseTo(1, 6);
    // "très", "bon" twice each; "très bon" twice, "bon très" once.
    expect(features.indices).toHaveLength(4);
    expect(features.indices).toContain(hashToken('très bon', 4096));
    expect(hashedTextFeatures('', options).indices).toHaveLength(0);
    // Stable across runs and platforms: serving recomputes these buckets.
    expect(hashToken('très bon', 4096)).toBe(hashToken('très bon', 4096));
    expect(hashToken('a', 1 << 30)).toBe(0xe40c292c % (1 << 30));
  });

  it('encodes a series as sliding windows and forward-fills gaps', () => {
    const rows = [{ v: '1' }, { v: '' }, { v: '3' }, { v: '4' }];
    expect(seriesValues(rows, 'v')).toEqual([1, 1, 3, 4]);
    const preprocessing: Preprocessing = { kind: 'sequence', seriesColumn: 'v', window: 3, mean: 2, std: 1 };
    const { data, shape } = encodeRows(preprocessing, rows);
    expect(shape).toEqual([2, 3, 1]);
    expect(Array.from(data)).toEqual([-1, -1, 1, -1, 1, 2]);
  });

  it('decodes outputs back into labels and original units', () => {
    const classifier: Preprocessing = { kind: 'text', textColumn: 't', lowercase: true, ngrams: [1], buckets: 8, target: { name: 'y', classes: ['neg', 'pos'] } };
    expect(decodeOutputs(classifier, [0.2, 0.8, 0.9, 0.1])).toEqual([
      { label: 'pos', probabilities: { neg: 0.2, pos: 0.8 } },
      { label: 'neg', probabilities: { neg: 0.9, pos: 0.1 } },
    ]);
    const regressor: Preprocessing = { kind: 'tabular', features: [], target: { name: 'y', kind: 'regression', mean: 20, std: 5 } };
    expect(decodeOutputs(regressor, [1, -0.5])).toEqual([{ value: 25 }, { value: 17.5 }]);
  });
});
