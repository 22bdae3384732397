import type { ModelSummary } from '../../contracts/training';
import { validatePredictionInputs } from './prediction-inputs';

const base = { trainingRows: 100, validationRows: 20, parameters: 10 };
const tabular: ModelSummary = {
  ...base,
  baseModel: 'tabular-classifier',
  inputs: [
    { name: 'age', kind: 'numeric' },
    { name: 'ward', kind: 'categorical' },
  ],
  target: { name: 'outcome', kind: 'classification', classes: ['a', 'b'] },
};
const forecaster: ModelSummary = {
  ...base,
  baseModel: 'sequence-forecaster',
  inputs: [{ name: 'load', kind: 'series', minLength: 12 }],
  target: { name: 'load', kind: 'forecast' },
};

describe('validatePredictionInputs', () => {
  it('keeps valid rows, with categories as strings', () => {
    expect(validatePredictionInputs(tabular, [{ age: 42, ward: 3 }])).toEqual({ rows: [{ age: 42, ward: '3' }], errors: [] });
  });

  it('names each bad field without echoing its value', () => {
    const { errors } = validatePredictionInputs(tabular, [{ age: 'SECRET-VALUE', ward: 'A' }, 'row', { ward: {} }]);
    expect(errors.map((e) => e.field)).toEqual(['inputs[0].age', 'inputs[1]', 'inputs[2].age', 'inputs[2].ward']);
    expect(JSON.stringify(errors)).not.toContain('SECRET-VALUE');
  });

  it("refuses a series shorter than the forecaster's window as bad input", () => {
    const short = validatePredictionInputs(forecaster, [{ load: [1, 2, 3] }]);
    expect(short.errors).toEqual([{ field: 'inputs[0].load', message: "must have at least 12 points (the model's window)" }]);
    expect(validatePredictionInputs(forecaster, [{ load: Array.from({ length: 12 }, (_, i) => i) }]).errors).toEqual([]);
    expect(validatePredictionInputs(forecaster, [{ load: [1, Number.NaN] }]).errors[0].message).toMatch(/finite numbers/);
  });
});
