import { FieldError } from '../../common/errors/app-error';
import type { ModelSummary } from '../../contracts/training';

export interface ValidatedInputs {
  rows: Record<string, unknown>[];
  errors: FieldError[];
}

const MAX_REPORTED_ERRORS = 20;

/**
 * Checks each input against the model's feature schema. Errors name the field
 * (`inputs[3].income`) and the expected kind; they never echo the submitted value.
 */
export function validatePredictionInputs(summary: ModelSummary, inputs: unknown[]): ValidatedInputs {
  const errors: FieldError[] = [];
  const rows: Record<string, unknown>[] = [];
  inputs.forEach((input, index) => {
    const at = `inputs[${index}]`;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      errors.push({ field: at, message: 'must be an object keyed by feature name' });
      return;
    }
    const record = input as Record<string, unknown>;
    const row: Record<string, unknown> = {};
    for (const feature of summary.inputs) {
      const value = record[feature.name];
      const field = `${at}.${feature.name}`;
      if (value === undefined || value === null || value === '') {
        errors.push({ field, message: `is required (${feature.kind})` });
        continue;
      }
      switch (feature.kind) {
        case 'numeric':
          if (typeof value !== 'number' || !Number.isFinite(value)) errors.push({ field, message: 'must be a finite number' });
          else row[feature.name] = value;
          break;
        case 'categorical':
          if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') errors.push({ field, message: 'must be a string, number or boolean' });
          else row[feature.name] = String(value);
          break;
        case 'text':
          if (typeof value !== 'string') errors.push({ field, message: 'must be a string' });
          else if (value.length > 100_000) errors.push({ field, message: 'must be at most 100000 characters' });
          else row[feature.name] = value;
          break;
        case 'series':
          if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
            errors.push({ field, message: 'must be a non-empty array of finite numbers' });
          } else if (feature.minLength !== undefined && value.length < feature.minLength) {
            errors.push({ field, message: `must have at least ${feature.minLength} points (the model's window)` });
          } else row[feature.name] = value;
          break;
      }
    }
    rows.push(row);
  });
  return { rows, errors: errors.slice(0, MAX_REPORTED_ERRORS) };
}
