import { parseGpuPools } from '../../config/config';
import { estimateTrainingCost } from './cost-estimator';
import { placeJob } from './placement';

const pools = parseGpuPools(
  JSON.stringify([
    { id: 'fr-par-a100', region: 'fr-par', gpuClass: 'A100' },
    { id: 'fr-par-l4', region: 'fr-par', gpuClass: 'L4' },
    { id: 'fr-mrs-hds', region: 'fr-mrs', gpuClass: 'A100', dedicatedTenantId: '11111111-1111-4111-8111-111111111111' },
  ]),
);
const shared = { id: '22222222-2222-4222-8222-222222222222', dataResidency: 'FR' };
const hds = { id: '11111111-1111-4111-8111-111111111111', dataResidency: 'FR' };

describe('placeJob', () => {
  it('places a shared tenant on a shared pool of the requested class', () => {
    expect(placeJob(pools, shared, 'L4')).toEqual({ pool: expect.objectContaining({ id: 'fr-par-l4' }) });
    expect(placeJob(pools, shared, undefined)).toEqual({ pool: expect.objectContaining({ id: 'fr-par-a100' }) });
  });

  it('keeps a tenant with a dedicated pool on it, and others off it', () => {
    expect(placeJob(pools, hds, 'A100')).toEqual({ pool: expect.objectContaining({ id: 'fr-mrs-hds' }) });
    expect(placeJob(pools, hds, 'L4')).toEqual({ reason: expect.stringMatching(/gpuClass L4.*available: A100/) });
  });

  it('explains why nothing fits', () => {
    expect(placeJob(pools, shared, 'H100')).toEqual({ reason: expect.stringContaining('gpuClass H100') });
    expect(placeJob(pools, { ...shared, dataResidency: 'US' }, null)).toEqual({ reason: expect.stringContaining('residency') });
  });

  it('refuses pools outside France in configuration', () => {
    expect(() => parseGpuPools('[{"id":"us-east-a100","region":"us-east-1","gpuClass":"A100"}]')).toThrow(/French region/);
  });
});

describe('estimateTrainingCost', () => {
  it('prices in exact decimals from integer micro-euros', () => {
    const estimate = estimateTrainingCost({ rows: 344, epochs: 30, samplesPerSecond: 20000, calibrationJobs: 0, unitPriceMicro: 230, gpuClass: 'L4', family: 'tabular-classifier' });
    // 344 × 30 / 20000 = 0.516 s, + 15 s overhead = 15.516 s × 230 µ€/s = 3568.68 → 3569 µ€
    expect(estimate).toMatchObject({ gpuSeconds: '15.516', amountEur: '0.003569', unitPriceEur: '0.000230', lowEur: '0.002141', highEur: '0.006424' });
  });

  it('narrows the range once the throughput is calibrated on finished jobs', () => {
    const estimate = estimateTrainingCost({ rows: 344, epochs: 30, samplesPerSecond: 5000, calibrationJobs: 4, unitPriceMicro: 230, gpuClass: 'L4', family: 'tabular-classifier' });
    expect(estimate.basis).toContain('measured on the last 4 finished tabular-classifier job(s)');
    expect(Number(estimate.highEur) / Number(estimate.amountEur)).toBeCloseTo(1.25, 2);
  });
});
