import Decimal from 'decimal.js';

/** Default price book, integer micro-euros per accelerator-second (issue #6 makes it per tenant). */
export const DEFAULT_MICRO_EUR_PER_SECOND: Record<string, number> = {
  H100: 2200,
  A100: 1250,
  L40S: 520,
  L4: 230,
  T4: 150,
  CPU: 12,
};

/** Loading data, compiling the model and writing a checkpoint per epoch, before calibration. */
export const FIXED_OVERHEAD_SECONDS = 15;
const LOW_FACTOR = new Decimal('0.6');
const HIGH_FACTOR = new Decimal('1.8');

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
export function estimateTrainingCost(input: { rows: number; epochs: number; samplesPerSecond: number; gpuClass: string; family: string }): CostEstimate {
  const unitMicro = DEFAULT_MICRO_EUR_PER_SECOND[input.gpuClass.toUpperCase()] ?? DEFAULT_MICRO_EUR_PER_SECOND.L4;
  const seconds = new Decimal(input.rows).mul(input.epochs).div(input.samplesPerSecond).add(FIXED_OVERHEAD_SECONDS).toDecimalPlaces(3, Decimal.ROUND_UP);
  const amountMicro = seconds.mul(unitMicro).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
  return {
    gpuSeconds: seconds.toFixed(3),
    amountEur: microEurosToEur(amountMicro),
    gpuClass: input.gpuClass,
    unitPriceEur: microEurosToEur(unitMicro),
    lowEur: microEurosToEur(amountMicro.mul(LOW_FACTOR).toDecimalPlaces(0)),
    highEur: microEurosToEur(amountMicro.mul(HIGH_FACTOR).toDecimalPlaces(0)),
    basis: `${input.rows} rows × ${input.epochs} epochs at ${input.samplesPerSecond} samples/s (${input.family} default throughput) + ${FIXED_OVERHEAD_SECONDS} s overhead, ${microEurosToEur(unitMicro)} €/s on ${input.gpuClass}`,
  };
}
