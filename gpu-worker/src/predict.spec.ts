import type { Preprocessing } from '../../src/contracts/model-artifact';
import { encodeInputs, inputProblem } from './predict';
import { encodeRows } from './preprocessing';

const sequence: Preprocessing = { kind: 'sequence', seriesColumn: 'passengers', window: 3, mean: 10, std: 2 };
const tabular: Preprocessing = {
  kind: 'tabular',
  features: [
    { name: 'mass', kind: 'numeric', mean: 4000, std: 500 },
    { name: 'island', kind: 'categorical', vocabulary: ['Biscoe', 'Dream'] },
  ],
  target: { name: 'species', kind: 'classification', classes: ['Adelie', 'Gentoo'] },
};

describe('serving inputs', () => {
  it('encodes tabular inputs exactly as training encodes rows', () => {
    const inputs = [
      { mass: 4500, island: 'Dream' },
      { mass: 3000, island: 'Torgersen' },
    ];
    expect(encodeInputs(tabular, inputs)).toEqual(encodeRows(tabular, inputs));
    expect(Array.from(encodeInputs(tabular, inputs).data)).toEqual([1, 0, 1, 0, -2, 0, 0, 1]);
  });

  it("gives a forecaster the last window of each call's series, standardised as in training", () => {
    const encoded = encodeInputs(sequence, [{ passengers: [0, 10, 12, 14] }, { passengers: [8, 10, 12] }]);
    expect(encoded.shape).toEqual([2, 3, 1]);
    expect(Array.from(encoded.data)).toEqual([0, 1, 2, -1, 0, 1]);
  });

  it('says which input a forecaster cannot read, without its values', () => {
    expect(inputProblem(sequence, { passengers: [1, 2, 3] })).toBeUndefined();
    expect(inputProblem(sequence, { passengers: [1, 2] })).toBe("passengers needs at least 3 points (the model's window)");
    expect(inputProblem(sequence, { passengers: 'many' })).toBe('passengers must be an array of finite numbers');
    expect(inputProblem(tabular, {})).toBeUndefined();
  });
});
