import type { DriftBaseline } from '../../contracts/inference';
import { seededRandom } from '../../../gpu-worker/src/random';
import { loadConfig } from '../../config/config';
import { binOf, bucketKey, bucketsOf, driftReport, psi, PSI_WARNING } from './drift';

const baseline: DriftBaseline = {
  rows: 1000,
  features: [
    { name: 'income', kind: 'numeric', binEdges: [10, 20, 30], proportions: [0.25, 0.25, 0.25, 0.25] },
    { name: 'region', kind: 'categorical', proportions: { idf: 0.5, paca: 0.5 } },
  ],
  output: { kind: 'classes', proportions: { repaid: 0.8, default: 0.2 } },
};

function window(rows: { income: number; region: string; label: string }[]) {
  const counts = new Map<string, number>();
  for (const r of rows) for (const key of bucketsOf(baseline, r, { label: r.label })) counts.set(key, (counts.get(key) ?? 0) + 1);
  return driftReport(baseline, counts, rows.length);
}

/** The worst PSI over `features` features of 10 equal bins, for rows drawn from the baseline itself. */
function worstNoisePsi(rows: number, features: number, random: () => number): number {
  let worst = 0;
  for (let f = 0; f < features; f++) {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < rows; i++) counts[Math.floor(random() * 10)]++;
    worst = Math.max(worst, psi(new Array(10).fill(0.1), counts));
  }
  return worst;
}

describe('drift', () => {
  it('needs enough rows by default that sampling noise alone never reads as drift', () => {
    const defaultMinRows = loadConfig({}).serving.driftMinRows;
    const random = seededRandom(7);
    const windows = (rows: number) => Array.from({ length: 300 }, () => worstNoisePsi(rows, 6, random));
    // 300 windows of rows drawn exactly like the training data, 6 features (as penguins has).
    expect(windows(defaultMinRows).filter((value) => value >= PSI_WARNING)).toEqual([]);
    // The former default of 50 rows called nearly every such window a WARNING.
    expect(windows(50).filter((value) => value >= PSI_WARNING).length).toBeGreaterThan(250);
  });

  it('bins values by training edges', () => {
    expect([5, 10, 15, 29.9, 30, 99].map((v) => binOf([10, 20, 30], v))).toEqual([0, 1, 1, 2, 3, 3]);
  });

  it('PSI is 0 for identical distributions and grows with the shift', () => {
    expect(psi([0.5, 0.5], [50, 50])).toBeCloseTo(0, 6);
    expect(psi([0.5, 0.5], [60, 40])).toBeLessThan(0.1);
    expect(psi([0.5, 0.5], [95, 5])).toBeGreaterThan(0.25);
  });

  it('stays OK on rows drawn like the training data', () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ income: [5, 15, 25, 35][i % 4], region: i % 2 ? 'idf' : 'paca', label: i % 5 === 0 ? 'default' : 'repaid' }));
    expect(window(rows).status).toBe('OK');
  });

  it('raises ALERT when inputs shift, naming the feature', () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({ income: 50 + i, region: i % 2 ? 'idf' : 'paca', label: i % 5 === 0 ? 'default' : 'repaid' }));
    const report = window(rows);
    expect(report.status).toBe('ALERT');
    expect(report.features.find((f) => f.name === 'income')!.psi).toBeGreaterThan(0.25);
    expect(report.features.find((f) => f.name === 'region')!.psi).toBeLessThan(0.1);
  });

  it('counts unseen categories in their own bucket', () => {
    const rows = Array.from({ length: 200 }, () => ({ income: 15, region: 'bretagne', label: 'repaid' }));
    expect(window(rows).features.find((f) => f.name === 'region')!.psi).toBeGreaterThan(0.25);
  });
  it("counts a baseline's own __other__ share once, against live categories it does not list", () => {
    const pooled: DriftBaseline = { rows: 100, features: [{ name: 'city', kind: 'categorical', proportions: { paris: 0.5, lyon: 0.3, __other__: 0.2 } }], output: { kind: 'classes', proportions: { a: 1 } } };
    const counts = new Map<string, number>();
    const live = [...Array(45).fill('paris'), ...Array(25).fill('lyon'), ...Array(30).fill('nantes')];
    for (const city of live) for (const key of bucketsOf(pooled, { city }, { label: 'a' })) counts.set(key, (counts.get(key) ?? 0) + 1);
    expect(driftReport(pooled, counts, live.length).features[0].psi).toBeCloseTo(psi([0.5, 0.3, 0.2], [45, 25, 30]), 4);
  });

  it("bins a forecaster's first forecast point against the output baseline", () => {
    const forecasts: DriftBaseline = { rows: 100, features: [], output: { kind: 'numeric', binEdges: [100, 200], proportions: [0.3, 0.4, 0.3] } };
    expect(bucketsOf(forecasts, { series: [1, 2, 3] }, { forecast: [250] })).toEqual([bucketKey('__output__', 2)]);
    expect(bucketsOf(forecasts, {}, { value: 50 })).toEqual([bucketKey('__output__', 0)]);
  });
});
