import type { DriftBaseline } from '../../contracts/inference';

/** PSI thresholds in common use: below 0.1 stable, 0.1–0.25 moderate shift, above 0.25 major shift. */
export const PSI_WARNING = 0.1;
export const PSI_ALERT = 0.25;
const EPSILON = 1e-4;

export type DriftStatus = 'OK' | 'WARNING' | 'ALERT';

/** Bin index of a numeric value given the training bin edges (edges are the inner boundaries). */
export function binOf(edges: number[], value: number): number {
  let bin = 0;
  while (bin < edges.length && value >= edges[bin]) bin++;
  return bin;
}

/** Population Stability Index between expected (training) and actual (live) proportions. */
export function psi(expected: number[], actualCounts: number[]): number {
  const total = actualCounts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  return expected.reduce((sum, e, i) => {
    const p = Math.max(e, EPSILON);
    const q = Math.max(actualCounts[i] / total, EPSILON);
    return sum + (q - p) * Math.log(q / p);
  }, 0);
}

export function statusOf(values: number[]): DriftStatus {
  const worst = Math.max(0, ...values);
  return worst >= PSI_ALERT ? 'ALERT' : worst >= PSI_WARNING ? 'WARNING' : 'OK';
}

/** Counts per bin/category of a window, as kept in Redis: `${feature}\u0000${bucket}` → count. */
export type WindowCounts = Map<string, number>;

export function bucketKey(feature: string, bucket: string | number): string {
  return `${feature}\u0000${bucket}`;
}

/** Buckets of one input row and its output, for the live window. Unseen categories count as "__other__". */
export function bucketsOf(baseline: DriftBaseline, row: Record<string, unknown>, output: unknown): string[] {
  const keys: string[] = [];
  for (const feature of baseline.features) {
    const value = row[feature.name];
    if (feature.kind === 'numeric' && typeof value === 'number') keys.push(bucketKey(feature.name, binOf(feature.binEdges, value)));
    if (feature.kind === 'categorical' && value !== undefined) {
      const category = String(value);
      keys.push(bucketKey(feature.name, category in feature.proportions ? category : '__other__'));
    }
  }
  const out = output as { label?: string; value?: number; forecast?: number[] };
  // A forecaster answers {forecast: [next, …]}: its first point is what the baseline's output bins describe.
  const value = typeof out?.value === 'number' ? out.value : typeof out?.forecast?.[0] === 'number' ? out.forecast[0] : undefined;
  if (baseline.output.kind === 'classes' && typeof out?.label === 'string') keys.push(bucketKey('__output__', out.label));
  if (baseline.output.kind === 'numeric' && value !== undefined) keys.push(bucketKey('__output__', binOf(baseline.output.binEdges, value)));
  return keys;
}

export interface DriftReport {
  status: DriftStatus;
  rows: number;
  features: { name: string; psi: number }[];
  outputPsi: number | null;
}

export function driftReport(baseline: DriftBaseline, counts: WindowCounts, rows: number): DriftReport {
  const count = (feature: string, bucket: string | number) => counts.get(bucketKey(feature, bucket)) ?? 0;
  const features = baseline.features.map((feature) => {
    if (feature.kind === 'numeric') {
      return { name: feature.name, psi: psi(feature.proportions, feature.proportions.map((_, i) => count(feature.name, i))) };
    }
    // A baseline may list "__other__" itself (categories pooled past the vocabulary): counted once.
    const categories = [...new Set([...Object.keys(feature.proportions), '__other__'])];
    return { name: feature.name, psi: psi(categories.map((c) => feature.proportions[c] ?? 0), categories.map((c) => count(feature.name, c))) };
  });
  let outputPsi: number | null = null;
  if (baseline.output.kind === 'classes') {
    const classes = Object.keys(baseline.output.proportions);
    const proportions = baseline.output.proportions;
    outputPsi = psi(classes.map((c) => proportions[c]), classes.map((c) => count('__output__', c)));
  } else {
    outputPsi = psi(baseline.output.proportions, baseline.output.proportions.map((_, i) => count('__output__', i)));
  }
  const rounded = features.map((f) => ({ name: f.name, psi: Math.round(f.psi * 10000) / 10000 }));
  return { status: statusOf([...features.map((f) => f.psi), outputPsi ?? 0]), rows, features: rounded, outputPsi: Math.round(outputPsi * 10000) / 10000 };
}
