/**
 * Usage as the ledger wants it: a deterministic id per measured segment (a redelivered event is
 * ignored, a new attempt never reuses an id because the attempt counter only grows), and seconds as
 * a decimal string, since quantities are summed as NUMERIC and never as JS floats.
 */

export function usageEventId(jobId: string, attempt: number, segment: number): string {
  return `${jobId}:${attempt}:${segment}`;
}

/** Milliseconds precision, e.g. 12.3456 → "12.346". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error('a usage duration must be a finite, non-negative number');
  const milliseconds = Math.round(seconds * 1000);
  return `${Math.floor(milliseconds / 1000)}.${String(milliseconds % 1000).padStart(3, '0')}`;
}
