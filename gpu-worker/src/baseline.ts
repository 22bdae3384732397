import type { DriftBaseline } from '../../src/contracts/inference';
import type { Preprocessing } from '../../src/contracts/model-artifact';
import type { Table } from './datasets';
import { labelledRows } from './families/shared';
import { categoryOf, MAX_VOCABULARY, numericValue, seriesValues, topCategories, type Row } from './preprocessing';

/**
 * The training data's distribution, kept with the model version so that serving can measure drift
 * (PSI) against it: quantile bins of each numeric input, category frequencies of each categorical
 * one, and the distribution of the target. Only bin edges and proportions leave the worker, never
 * rows.
 *
 * It describes the training dataset version the model version's lineage names (all its labelled
 * rows, the seeded validation holdout included), not only the 80 % the weights were fitted on: the
 * holdout is drawn from the same rows, and more rows make a steadier reference.
 */

/** Deciles, the usual PSI binning; tied values can merge bins (edges are kept distinct). */
export const BASELINE_BINS = 10;
/** The category the api counts unseen values under (src/modules/endpoints/drift.ts). */
export const OTHER_CATEGORY = '__other__';

type NumericDistribution = { binEdges: number[]; proportions: number[] };

/**
 * Bin of `value` given inner edges: the number of edges at or below it. The api bins live values with
 * the same rule (drift.ts `binOf`), so a value equal to an edge falls in the bin above it.
 */
export function binIndex(edges: readonly number[], value: number): number {
  let bin = 0;
  while (bin < edges.length && value >= edges[bin]) bin++;
  return bin;
}

/** Inner edges at the quantiles k/bins of `values`, strictly increasing, and the share of `values` in each bin. */
export function numericDistribution(values: readonly number[], bins = BASELINE_BINS): NumericDistribution {
  if (values.length === 0) return { binEdges: [], proportions: [] };
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = sorted[Math.floor((k * sorted.length) / bins)];
    // An edge at the minimum would leave bin 0 always empty; a repeated one, a bin that cannot fill.
    if (edge > sorted[0] && (edges.length === 0 || edge > edges[edges.length - 1])) edges.push(edge);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const value of sorted) counts[binIndex(edges, value)]++;
  return { binEdges: edges, proportions: counts.map((count) => round(count / sorted.length)) };
}

/**
 * Shares of each category; past the model's own vocabulary size the rarest ones are pooled under
 * OTHER_CATEGORY, which is where the api counts a live category the baseline does not list.
 */
export function categoricalDistribution(values: readonly string[], limit = MAX_VOCABULARY): Record<string, number> {
  if (values.length === 0) return {};
  const kept = new Set(topCategories(values, limit));
  const counts = new Map<string, number>();
  for (const value of values) {
    const key = kept.has(value) ? value : OTHER_CATEGORY;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].map(([category, count]) => [category, round(count / values.length)]));
}

/**
 * Feature names are those of the model summary's inputs. Text models keep no feature histogram (the
 * api bins numbers and categories only; a text is neither) and sequence models none either (their
 * input is a whole series): both keep the distribution of their output.
 */
export function driftBaseline(preprocessing: Preprocessing, training: Table): DriftBaseline {
  switch (preprocessing.kind) {
    case 'tabular': {
      const rows = labelledRows(training, preprocessing.target.name);
      const target = preprocessing.target;
      return {
        rows: rows.length,
        features: preprocessing.features.map((feature) =>
          feature.kind === 'numeric'
            ? { name: feature.name, kind: 'numeric' as const, ...numericDistribution(presentNumbers(rows, feature.name)) }
            : { name: feature.name, kind: 'categorical' as const, proportions: categoricalDistribution(presentCategories(rows, feature.name)) },
        ),
        output:
          target.kind === 'classification'
            ? { kind: 'classes', proportions: classProportions(rows, target.name, target.classes) }
            : { kind: 'numeric', ...numericDistribution(presentNumbers(rows, target.name)) },
      };
    }
    case 'text': {
      const rows = labelledRows(training, preprocessing.target.name);
      return { rows: rows.length, features: [], output: { kind: 'classes', proportions: classProportions(rows, preprocessing.target.name, preprocessing.target.classes) } };
    }
    case 'sequence': {
      // What the forecaster outputs is the point after each window: its distribution is the series' past the first window.
      const targets = seriesValues(training.rows, preprocessing.seriesColumn).slice(preprocessing.window);
      return { rows: targets.length, features: [], output: { kind: 'numeric', ...numericDistribution(targets) } };
    }
  }
}

function presentNumbers(rows: readonly Row[], column: string): number[] {
  return rows.map((row) => numericValue(row[column])).filter((v): v is number => v !== undefined);
}

function presentCategories(rows: readonly Row[], column: string): string[] {
  return rows.map((row) => categoryOf(row[column])).filter((v): v is string => v !== undefined);
}

function classProportions(rows: readonly Row[], target: string, classes: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>(classes.map((label) => [label, 0]));
  for (const row of rows) {
    const label = categoryOf(row[target]);
    if (label !== undefined && counts.has(label)) counts.set(label, counts.get(label)! + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return Object.fromEntries([...counts].map(([label, count]) => [label, total ? round(count / total) : 0]));
}

/** Six decimals: enough for any PSI, and a baseline stays a few hundred bytes of JSON. */
function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
