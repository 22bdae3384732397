import { ColumnProfile, ColumnProfiler, isNumeric } from './column-profiler';
import { CSV_ERRORS } from './csv-tokenizer';
import { IngestError } from './ingest-error';
import type { Pseudonymizer } from './pseudonymizer';

export type DatasetFormat = 'CSV' | 'JSONL';
export type Scalar = string | number | boolean | null;

export interface IngestWarning {
  kind: 'FORMULA_CELLS';
  column: string;
  count: number;
  firstLine: number;
  message: string;
}

export interface RowsSummary {
  rowCount: number;
  columns: ColumnProfile[];
  pseudonymizedColumns: string[];
  warnings: IngestWarning[];
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;
const QUOTES = /"/g;

/** Cells a spreadsheet would run as a formula (CSV injection); numbers like "-3" are not. */
function looksLikeFormula(value: Scalar): boolean {
  return typeof value === 'string' && FORMULA_START.test(value) && !isNumeric(value);
}

/**
 * RFC 4180 quoting, as csv-stringify does it (quotes only cells with a delimiter, quote or line
 * break). Inlined because a per-row csv-stringify stage was 12 % of the upload's CPU and kept
 * thousands of row arrays alive across stream hops, which is what grew the api's heap.
 */
export function csvCell(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(QUOTES, '""')}"` : value;
}

/**
 * The row stage shared by both formats: header checks, pseudonymisation of declared PII columns,
 * formula flags and column profiles. Each row goes in as parsed cells and comes out as the text
 * line to store, so no row object outlives the call that parsed it.
 */
export class RowProcessor {
  rowCount = 0;
  private columns: string[] | null = null;
  private profilers: ColumnProfiler[] = [];
  private readonly indexByName = new Map<string, number>();
  private piiByIndex: boolean[] = [];
  private readonly formulaCells = new Map<string, { count: number; firstLine: number }>();
  private readonly pii: Set<string>;

  constructor(
    private readonly format: DatasetFormat,
    piiColumns: string[],
    private readonly pseudonymizer: Pseudonymizer,
  ) {
    this.pii = new Set(piiColumns);
  }

  /** A parsed CSV record (the header first); returns its stored line, newline included. */
  csvRecord(line: number, record: string[]): string {
    if (this.columns === null) {
      this.setHeader(line, record.map((name) => name.trim()));
      return `${this.columns!.map(csvCell).join(',')}\n`;
    }
    if (record.length !== this.columns.length) throw new IngestError(line, CSV_ERRORS.ragged);
    let text = '';
    for (let index = 0; index < record.length; index++) {
      const value = this.cell(line, index, record[index]) as string;
      text += index === 0 ? csvCell(value) : `,${csvCell(value)}`;
    }
    this.rowCount++;
    return `${text}\n`;
  }

  /** A parsed JSON Lines object; returns its stored line, newline included. */
  jsonRecord(line: number, record: Record<string, Scalar>): string {
    if (this.columns === null) this.setHeader(line, []);
    const out: Record<string, Scalar> = {};
    const seen = new Set<number>();
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (key.trim() === '') throw new IngestError(line, 'a field name is empty');
      if (value !== null && typeof value === 'object') throw new IngestError(line, `field "${key}" must be a string, number, boolean or null`);
      let index = this.indexByName.get(key);
      if (index === undefined) {
        index = this.addColumn(key);
        // The rows before this one did not have the field: they count as nulls.
        this.profilers[index].observeMissing(this.rowCount);
      }
      seen.add(index);
      out[key] = this.cell(line, index, value);
    }
    if (seen.size < this.profilers.length) this.profilers.forEach((profiler, index) => seen.has(index) || profiler.observe(null));
    this.rowCount++;
    return `${JSON.stringify(out)}\n`;
  }

  /** Checks what only the end of the file can tell; throws an IngestError. */
  finish(): void {
    if (this.columns === null) throw new IngestError(1, 'the file is empty');
    if (this.rowCount === 0) throw new IngestError(this.format === 'CSV' ? 2 : 1, 'the file has no data rows');
    const missing = [...this.pii].filter((c) => !this.columns!.includes(c));
    if (missing.length) throw new IngestError(0, `declared PII column(s) ${missing.map((c) => `"${c}"`).join(', ')} never appear in the file`);
  }

  summary(): RowsSummary {
    const warnings = [...this.formulaCells.entries()].map(([column, { count, firstLine }]) => ({
      kind: 'FORMULA_CELLS' as const,
      column,
      count,
      firstLine,
      message: `${count} cell(s) in column "${column}" start with =, +, - or @ and could run as a spreadsheet formula (first on line ${firstLine})`,
    }));
    return {
      rowCount: this.rowCount,
      columns: this.profilers.map((profiler) => profiler.profile()),
      pseudonymizedColumns: (this.columns ?? []).filter((c) => this.pii.has(c)),
      warnings,
    };
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
    if (this.format === 'CSV') {
      const missing = [...this.pii].filter((c) => !seen.has(c));
      if (missing.length) throw new IngestError(line, `declared PII column(s) ${missing.map((c) => `"${c}"`).join(', ')} are not in the header`);
    }
  }

  /** Returns the new column's index. */
  private addColumn(name: string): number {
    this.columns!.push(name);
    this.profilers.push(new ColumnProfiler(name, this.pii.has(name)));
    this.piiByIndex.push(this.pii.has(name));
    this.indexByName.set(name, this.columns!.length - 1);
    return this.columns!.length - 1;
  }

  private cell(line: number, index: number, value: Scalar): Scalar {
    const profiler = this.profilers[index];
    if (this.piiByIndex[index] && value !== null && value !== '') {
      const pseudonym = this.pseudonymizer.pseudonymize(String(value));
      profiler.observe(pseudonym);
      return pseudonym;
    }
    profiler.observe(value);
    if (looksLikeFormula(value)) {
      const column = this.columns![index];
      const seen = this.formulaCells.get(column);
      if (seen) seen.count++;
      else this.formulaCells.set(column, { count: 1, firstLine: line });
    }
    return value;
  }
}
