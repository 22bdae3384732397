import type { FeatureTransform, Preprocessing } from '../../src/contracts/model-artifact';

/**
 * Turning rows into model inputs, and model outputs back into answers. Pure functions of a saved
 * Preprocessing and the rows, with no tfjs in sight: training uses them now and serving will apply
 * the very same ones to a request, so a model never sees inputs encoded differently from training.
 */

export type CellValue = string | number | boolean | null;
export type Row = Record<string, CellValue | undefined>;

/** Up to this many categories get their own input; the rest share one "unknown" input. */
export const MAX_VOCABULARY = 50;
export const TEXT_BUCKETS = 4096;
export const TEXT_NGRAMS = [1, 2];
export const SERIES_WINDOW = 12;

const MISSING_MARKERS = new Set(['', 'na', 'n/a', 'nan', 'null']);
const NUMBER_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function isMissing(value: CellValue | undefined): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'number') return !Number.isFinite(value);
  return typeof value === 'string' && MISSING_MARKERS.has(value.trim().toLowerCase());
}

/** The number a cell holds, or undefined when it is missing or not a number. */
export function numericValue(value: CellValue | undefined): number | undefined {
  if (isMissing(value)) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return NUMBER_PATTERN.test(text) ? Number(text) : undefined;
}

export function categoryOf(value: CellValue | undefined): string | undefined {
  return isMissing(value) ? undefined : String(value).trim();
}

/** Numeric when every present value parses as a number (and at least one is present). */
export function inferColumnKind(rows: readonly Row[], column: string): 'numeric' | 'categorical' {
  let present = 0;
  for (const row of rows) {
    const value = row[column];
    if (isMissing(value)) continue;
    present++;
    if (numericValue(value) === undefined) return 'categorical';
  }
  return present > 0 ? 'numeric' : 'categorical';
}

export function meanAndStd(values: readonly number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: 0, std: 1 };
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  const std = Math.sqrt(variance);
  // A constant column carries no signal; std 1 keeps it at zero instead of dividing by zero.
  return { mean, std: std > 1e-12 ? std : 1 };
}

/** The most frequent categories, ties broken by value so that the same rows always give the same vocabulary. */
export function topCategories(values: Iterable<string>, limit = MAX_VOCABULARY): string[] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([value]) => value);
}

export function fitFeatureTransforms(rows: readonly Row[], columns: readonly string[]): FeatureTransform[] {
  return columns.map((name) => {
    if (inferColumnKind(rows, name) === 'numeric') {
      const values = rows.map((row) => numericValue(row[name])).filter((v): v is number => v !== undefined);
      return { name, kind: 'numeric', ...meanAndStd(values) };
    }
    const categories = rows.map((row) => categoryOf(row[name])).filter((v): v is string => v !== undefined);
    return { name, kind: 'categorical', vocabulary: topCategories(categories) };
  });
}

/** Width of one encoded feature: a numeric value, or one input per known category plus "unknown". */
export function transformWidth(transform: FeatureTransform): number {
  return transform.kind === 'numeric' ? 1 : transform.vocabulary.length + 1;
}

export function featureWidth(features: readonly FeatureTransform[]): number {
  return features.reduce((sum, transform) => sum + transformWidth(transform), 0);
}

/**
 * Writes one row's tabular features at `offset`. A missing number becomes the training mean (0 once
 * standardised); a missing category leaves all its inputs at 0, an unseen one lights "unknown".
 */
export function writeTabularFeatures(features: readonly FeatureTransform[], row: Row, out: Float32Array, offset: number): void {
  let position = offset;
  for (const transform of features) {
    if (transform.kind === 'numeric') {
      const value = numericValue(row[transform.name]);
      out[position++] = value === undefined ? 0 : (value - transform.mean) / transform.std;
      continue;
    }
    const category = categoryOf(row[transform.name]);
    if (category !== undefined) {
      const index = transform.vocabulary.indexOf(category);
      out[position + (index === -1 ? transform.vocabulary.length : index)] = 1;
    }
    position += transform.vocabulary.length + 1;
  }
}

/** FNV-1a over UTF-16 code units: stable across platforms and versions, which serving depends on. */
export function hashToken(token: string, buckets: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    hash ^= token.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}

export function tokenize(text: string, lowercase: boolean): string[] {
  return (lowercase ? text.toLowerCase() : text).match(/[\p{L}\p{N}]+/gu) ?? [];
}

export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

/** Hashed n-gram term frequencies, L2-normalised so that long and short texts weigh the same. */
export function hashedTextFeatures(text: string, options: { lowercase: boolean; ngrams: readonly number[]; buckets: number }): SparseVector {
  const tokens = tokenize(text, options.lowercase);
  const counts = new Map<number, number>();
  for (const n of options.ngrams) {
    for (let start = 0; start + n <= tokens.length; start++) {
      // A space cannot occur inside a token, so an n-gram never collides with a longer token by construction.
      const bucket = hashToken(tokens.slice(start, start + n).join(' '), options.buckets);
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
  }
  const indices = Int32Array.from(counts.keys());
  const values = Float32Array.from(counts.values());
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
  if (norm > 0) for (let i = 0; i < values.length; i++) values[i] /= norm;
  return { indices, values };
}

/** The series in row order; a missing point takes the previous value (the first present one at the start). */
export function seriesValues(rows: readonly Row[], column: string): number[] {
  const raw = rows.map((row) => numericValue(row[column]));
  const first = raw.find((v) => v !== undefined);
  if (first === undefined) return [];
  let previous = first;
  return raw.map((value) => (previous = value ?? previous));
}

export interface EncodedInputs {
  data: Float32Array;
  /** [examples, ...inputShape] */
  shape: number[];
}

/**
 * Model inputs for raw rows, exactly as in training. Tabular and text: one example per row. Sequence:
 * the rows are consecutive points of the series, and there is one example per complete window,
 * each predicting the point that follows it (the last example forecasts past the end of the rows).
 */
export function encodeRows(preprocessing: Preprocessing, rows: readonly Row[]): EncodedInputs {
  switch (preprocessing.kind) {
    case 'tabular': {
      const width = featureWidth(preprocessing.features);
      const data = new Float32Array(rows.length * width);
      rows.forEach((row, i) => writeTabularFeatures(preprocessing.features, row, data, i * width));
      return { data, shape: [rows.length, width] };
    }
    case 'text': {
      const data = new Float32Array(rows.length * preprocessing.buckets);
      rows.forEach((row, i) => {
        const { indices, values } = hashedTextFeatures(textOf(row[preprocessing.textColumn]), preprocessing);
        indices.forEach((bucket, k) => (data[i * preprocessing.buckets + bucket] = values[k]));
      });
      return { data, shape: [rows.length, preprocessing.buckets] };
    }
    case 'sequence': {
      const scaled = seriesValues(rows, preprocessing.seriesColumn).map((v) => (v - preprocessing.mean) / preprocessing.std);
      const count = Math.max(0, scaled.length - preprocessing.window + 1);
      const data = new Float32Array(count * preprocessing.window);
      for (let i = 0; i < count; i++) data.set(scaled.slice(i, i + preprocessing.window), i * preprocessing.window);
      return { data, shape: [count, preprocessing.window, 1] };
    }
  }
}

export function textOf(value: CellValue | undefined): string {
  return isMissing(value) ? '' : String(value);
}

export type DecodedOutput = { label: string; probabilities: Record<string, number> } | { value: number };

/** Answers from model outputs (`width` numbers per example), in the data's own labels and units. */
export function decodeOutputs(preprocessing: Preprocessing, outputs: ArrayLike<number>): DecodedOutput[] {
  const classes = classLabels(preprocessing);
  if (classes) {
    const decoded: DecodedOutput[] = [];
    for (let offset = 0; offset < outputs.length; offset += classes.length) {
      const probabilities: Record<string, number> = {};
      let best = 0;
      classes.forEach((label, k) => {
        probabilities[label] = outputs[offset + k];
        if (outputs[offset + k] > outputs[offset + best]) best = k;
      });
      decoded.push({ label: classes[best], probabilities });
    }
    return decoded;
  }
  const { mean, std } = targetScale(preprocessing)!;
  return Array.from(outputs, (value) => ({ value: value * std + mean }));
}

export function classLabels(preprocessing: Preprocessing): string[] | undefined {
  if (preprocessing.kind === 'text') return preprocessing.target.classes;
  if (preprocessing.kind === 'tabular' && preprocessing.target.kind === 'classification') return preprocessing.target.classes;
  return undefined;
}

/** How a regression or forecast target was standardised; undefined for classifiers. */
export function targetScale(preprocessing: Preprocessing): { mean: number; std: number } | undefined {
  if (preprocessing.kind === 'sequence') return { mean: preprocessing.mean, std: preprocessing.std };
  if (preprocessing.kind === 'tabular' && preprocessing.target.kind === 'regression') return { mean: preprocessing.target.mean, std: preprocessing.target.std };
  return undefined;
}
