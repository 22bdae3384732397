import Decimal from 'decimal.js';

/** Loading data, compiling the model and writing a checkpoint per epoch, before calibration. */
export const FIXED_OVERHEAD_SECONDS = 15;
/** Before calibration the throughput is a documented default, hence a wide range; after, narrower. */
const RANGE = { default: [new Decimal('0.6'), new Decimal('1.8')], calibrated: [new Decimal('0.8'), new Decimal('1.25')] } as const;

export interface CostEstimate {
  gpuSeconds: string;
  amountEur: string;
  gpuClass: string;
  unitPriceEur: string;
  lowEur: string;
  highEur: string;
  basis: string;
}

export function microEurosToEur(micro: Decimal.Value): string {
  return new Decimal(micro).div(1_000_000).toFixed(6);
}

/**
 * GPU-seconds from the data size, the epochs and the family's throughput; amounts in exact decimal
 * arithmetic from integer micro-euro prices. The range reflects how uncertain an uncalibrated
 * throughput is.
 */
export function estimateTrainingCost(input: {
  rows: number;
  epochs: number;
  samplesPerSecond: number;
  /** Finished jobs the throughput was measured on; 0 means the family's default. */
  calibrationJobs: number;
  unitPriceMicro: number;
  gpuClass: string;
  family: string;
}): CostEstimate {
  const unitMicro = input.unitPriceMicro;
  const [lowFactor, highFactor] = input.calibrationJobs > 0 ? RANGE.calibrated : RANGE.default;
  const throughput = input.calibrationJobs > 0 ? `measured on the last ${input.calibrationJobs} finished ${input.family} job(s) of this pool` : `${input.family} default throughput`;
  const seconds = new Decimal(input.rows).mul(input.epochs).div(input.samplesPerSecond).add(FIXED_OVERHEAD_SECONDS).toDecimalPlaces(3, Decimal.ROUND_UP);
  const amountMicro = seconds.mul(unitMicro).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  return {
    gpuSeconds: seconds.toFixed(3),
    amountEur: microEurosToEur(amountMicro),
    gpuClass: input.gpuClass,
    unitPriceEur: microEurosToEur(unitMicro),
    lowEur: microEurosToEur(amountMicro.mul(lowFactor).toDecimalPlaces(0)),
    highEur: microEurosToEur(amountMicro.mul(highFactor).toDecimalPlaces(0)),
    basis: `${input.rows} rows × ${input.epochs} epochs at ${Math.round(input.samplesPerSecond)} samples/s (${throughput}) + ${FIXED_OVERHEAD_SECONDS} s overhead, ${microEurosToEur(unitMicro)} €/s on ${input.gpuClass}`,
  };
}
