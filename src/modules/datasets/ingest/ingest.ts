import { CsvError, parse as parseCsv } from 'csv-parse';
import { stringify as stringifyCsv } from 'csv-stringify';
import { Readable, Transform, TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashTap } from '../../../contracts/hash-tap';
import { ColumnProfile, ColumnProfiler, isNumeric } from './column-profiler';
import { IngestError } from './ingest-error';
import { Pseudonymizer } from './pseudonymizer';
import { SizeLimiter } from './size-limiter';
import { Utf8Decoder } from './utf8-decoder';

export type DatasetFormat = 'CSV' | 'JSONL';

export interface IngestWarning {
  kind: 'FORMULA_CELLS';
  column: string;
  count: number;
  firstLine: number;
  message: string;
}

export interface IngestSummary {
  rowCount: number;
  columns: ColumnProfile[];
  pseudonymizedColumns: string[];
  warnings: IngestWarning[];
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

type Scalar = string | number | boolean | null;

/** Cells a spreadsheet would run as a formula (CSV injection); numbers like "-3" are not. */
function looksLikeFormula(value: Scalar): boolean {
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(value) && !isNumeric(value);
}

const CSV_ERRORS: Record<string, string> = {
  RECORD_INCONSISTENT_FIELDS_LENGTH: 'the row does not have as many fields as the header (ragged row)',
  QUOTE_NOT_CLOSED: 'a quoted field is never closed',
  INVALID_OPENING_QUOTE: 'a quote appears inside an unquoted field (quote the whole field and double inner quotes)',
  INVALID_CLOSING_QUOTE: 'a closing quote is followed by something other than a delimiter',
  NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'a closing quote is followed by something other than a delimiter',
  MAX_RECORD_SIZE: 'a row is larger than 1 MiB',
};

/** Turns parser errors into located IngestErrors that never quote the file. */
function csvError(error: { code?: string; lines?: number }): IngestError {
  const code = (error.code ?? '').replace(/^CSV_/, '');
  return new IngestError(error.lines ?? 0, CSV_ERRORS[code] ?? 'the CSV is malformed');
}

/**
 * The row stage: header checks, pseudonymisation of declared PII columns, formula flags and
 * column profiles. Input: `{ line, record }`; output: rows ready to serialise.
 */
class RowProcessor extends Transform {
  rowCount = 0;
  private columns: string[] | null = null;
  private profilers = new Map<string, ColumnProfiler>();
  private formulaCells = new Map<string, { count: number; firstLine: number }>();
  private readonly pii: Set<string>;

  constructor(private readonly options: IngestOptions) {
    super({ objectMode: true });
    this.pii = new Set(options.piiColumns);
  }

  _transform(item: { line: number; record: string[] | Record<string, Scalar> }, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (Array.isArray(item.record)) this.csvRecord(item.line, item.record);
      else this.jsonRecord(item.line, item.record);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  _flush(callback: TransformCallback): void {
    if (this.columns === null) return callback(new IngestError(1, 'the file is empty'));
    if (this.rowCount === 0) return callback(new IngestError(this.options.format === 'CSV' ? 2 : 1, 'the file has no data rows'));
    const missing = [...this.pii].filter((c) => !this.columns!.includes(c));
    if (missing.length) return callback(new IngestError(0, `declared PII column(s) ${missing.map((c) => `"${c}"`).join(', ')} never appear in the file`));
    callback();
  }

  summary(): Pick<IngestSummary, 'rowCount' | 'columns' | 'pseudonymizedColumns' | 'warnings'> {
    const columns = (this.columns ?? []).map((name) => this.profilers.get(name)!.profile());
    const warnings = [...this.formulaCells.entries()].map(([column, { count, firstLine }]) => ({
      kind: 'FORMULA_CELLS' as const,
      column,
      count,
      firstLine,
      message: `${count} cell(s) in column "${column}" start with =, +, - or @ and could run as a spreadsheet formula (first on line ${firstLine})`,
    }));
    return { rowCount: this.rowCount, columns, pseudonymizedColumns: (this.columns ?? []).filter((c) => this.pii.has(c)), warnings };
  }

  private csvRecord(line: number, record: string[]): void {
    if (this.columns === null) {
      this.setHeader(line, record.map((name) => name.trim()));
      this.push(this.columns);
      return;
    }
    const row = record.map((value, index) => this.cell(line, this.columns![index], value));
    this.rowCount++;
    this.push(row);
  }

  private jsonRecord(line: number, record: Record<string, Scalar>): void {
    if (this.columns === null) this.setHeader(line, []);
    const out: Record<string, Scalar> = {};
    for (const [key, value] of Object.entries(record)) {
      if (key.trim() === '') throw new IngestError(line, 'a field name is empty');
      if (value !== null && typeof value === 'object') throw new IngestError(line, `field "${key}" must be a string, number, boolean or null`);
      if (!this.profilers.has(key)) {
        this.addColumn(key);
        // The rows before this one did not have the field: they count as nulls.
        this.profilers.get(key)!.observeMissing(this.rowCount);
      }
      out[key] = this.cell(line, key, value);
    }
    for (const column of this.columns!) if (!(column in record)) this.profilers.get(column)!.observe(null);
    this.rowCount++;
    this.push(out);
  }

  private setHeader(line: number, names: string[]): void {
    const seen = new Set<string>();
    names.forEach((name, index) => {
      if (name === '') throw new IngestError(line, `header field ${index + 1} is empty`);
      if (seen.has(name)) throw new IngestError(line, `header field "${name}" appears more than once`);
      seen.add(name);
    });
    this.columns = [];
    names.forEach((name) => this.addColumn(name));
    if (this.options.format === 'CSV') {
      const missing = [...this.pii].filter((c) => !seen.has(c));
      if (missing.length) throw new IngestError(line, `declared PII column(s) ${missing.map((c) => `"${c}"`).join(', ')} are not in the header`);
    }
  }

  private addColumn(name: string): void {
    this.columns!.push(name);
    this.profilers.set(name, new ColumnProfiler(name, this.pii.has(name)));
  }

  private cell(line: number, column: string, value: Scalar): Scalar {
    if (this.pii.has(column) && value !== null && value !== '') {
      const pseudonym = this.options.pseudonymizer.pseudonymize(String(value));
      this.profilers.get(column)!.observe(pseudonym);
      return pseudonym;
    }
    this.profilers.get(column)!.observe(value);
    if (looksLikeFormula(value)) {
      const seen = this.formulaCells.get(column);
      if (seen) seen.count++;
      else this.formulaCells.set(column, { count: 1, firstLine: line });
    }
    return value;
  }
}

/** Splits text into JSON Lines and parses each one; blank lines are skipped. */
class JsonLinesParser extends Transform {
  private buffered = '';
  private line = 0;

  constructor() {
    super({ readableObjectMode: true, writableObjectMode: false, decodeStrings: false });
  }

  _transform(chunk: string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.buffered + chunk;
    const lines = text.split('\n');
    this.buffered = lines.pop() ?? '';
    if (this.buffered.length > 1 << 20) return callback(new IngestError(this.line + 1, 'a line is longer than 1 MiB'));
    try {
      for (const raw of lines) this.parseLine(raw);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  _flush(callback: TransformCallback): void {
    try {
      if (this.buffered.length) this.parseLine(this.buffered);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private parseLine(raw: string): void {
    this.line++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new IngestError(this.line, 'the line is not valid JSON');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new IngestError(this.line, 'each line must be a JSON object');
    this.push({ line: this.line, record: value });
  }
}

/** Adds csv-parse's line numbers to each record and maps its errors. */
function csvRecords(): Transform[] {
  const parser = parseCsv({ info: true, skip_empty_lines: true, relax_column_count: false, max_record_size: 1 << 20 });
  const locate = new Transform({
    objectMode: true,
    transform(item: { record: string[]; info: { lines: number } }, _encoding, callback) {
      callback(null, { line: item.info.lines, record: item.record });
    },
  });
  return [parser as unknown as Transform, locate];
}

function serializer(format: DatasetFormat): Transform {
  if (format === 'CSV') return stringifyCsv({ record_delimiter: 'unix' }) as unknown as Transform;
  return new Transform({
    writableObjectMode: true,
    transform(row: unknown, _encoding, callback) {
      callback(null, `${JSON.stringify(row)}\n`);
    },
  });
}

/**
 * Streams an upload through size limit, UTF-8 check, parsing, validation, pseudonymisation and
 * profiling into `sink`, holding at most a few chunks in memory. Rejects with an IngestError that
 * names the line; the caller must then discard whatever `sink` received.
 */
export async function ingest(source: Readable, sink: Writable, options: IngestOptions): Promise<IngestSummary> {
  const rows = new RowProcessor(options);
  const tap = new HashTap();
  const parsing = options.format === 'CSV' ? csvRecords() : [new JsonLinesParser()];
  try {
    await pipeline([source, new SizeLimiter(options.maxBytes), new Utf8Decoder(), ...parsing, rows, serializer(options.format), tap, sink]);
  } catch (error) {
    if (error instanceof IngestError) throw error;
    // csv-parse's own messages quote the offending cell: they are replaced, never passed on.
    if (error instanceof CsvError) throw csvError(error as { code?: string; lines?: number });
    throw error;
  }
  return { ...rows.summary(), sizeBytes: tap.bytes, sha256: tap.digest() };
}
