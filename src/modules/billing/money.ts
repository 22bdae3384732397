import Decimal from 'decimal.js';

/** Money is integer micro-euros inside, decimal strings with 6 places outside. Never a float. */
export function microToEur(micro: Decimal.Value): string {
  return new Decimal(micro).div(1_000_000).toFixed(6);
}

export function eurToMicro(eur: string): bigint {
  if (!/^\d{1,12}(\.\d{1,6})?$/.test(eur)) throw new Error('not a EUR amount with at most 6 decimals');
  return BigInt(new Decimal(eur).mul(1_000_000).toFixed(0));
}

/** quantity (decimal string) × unit price (micro-euros), rounded half-up to a whole micro-euro. */
export function amountMicro(quantity: string, unitPriceMicro: number | bigint): bigint {
  return BigInt(new Decimal(quantity).mul(unitPriceMicro.toString()).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(0));
}

export function billingPeriodOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}
