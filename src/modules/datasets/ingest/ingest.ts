import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashTap } from '../../../contracts/hash-tap';
import { Pseudonymizer } from './pseudonymizer';
import { DatasetFormat, RowProcessor, RowsSummary } from './row-processor';
import { CsvRowStage, JsonLinesRowStage } from './row-stages';
import { SizeLimiter } from './size-limiter';
import { Utf8Validator } from './utf8-validator';

export type { DatasetFormat, IngestWarning } from './row-processor';

export interface IngestSummary extends RowsSummary {
  /** Size and SHA-256 of the stored (pseudonymised, normalised) plaintext. */
  sizeBytes: number;
  sha256: string;
}

export interface IngestOptions {
  format: DatasetFormat;
  piiColumns: string[];
  pseudonymizer: Pseudonymizer;
  maxBytes: number;
}

/**
 * Streams an upload through size limit, UTF-8 check, parsing, validation, pseudonymisation and
 * profiling into `sink`, holding at most a few chunks in memory. Rejects with an IngestError that
 * names the line; the caller must then discard whatever `sink` received.
 */
export async function ingest(source: Readable, sink: Writable, options: IngestOptions): Promise<IngestSummary> {
  const rows = new RowProcessor(options.format, options.piiColumns, options.pseudonymizer);
  const rowStage = options.format === 'CSV' ? new CsvRowStage(rows) : new JsonLinesRowStage(rows);
  const tap = new HashTap();
  await pipeline([source, new SizeLimiter(options.maxBytes), new Utf8Validator(), rowStage, tap, sink]);
  return { ...rows.summary(), sizeBytes: tap.bytes, sha256: tap.digest() };
}
