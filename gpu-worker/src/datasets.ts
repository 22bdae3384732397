import { parse as parseCsv } from 'csv-parse/sync';
import { dataError } from './errors';
import type { CellValue, Row } from './preprocessing';

/** A dataset version in memory: the api already validated and pseudonymised it at upload. */
export interface Table {
  columns: string[];
  rows: Row[];
}

export function parseDataset(plaintext: Buffer, format: 'CSV' | 'JSONL', what: string): Table {
  const text = plaintext.toString('utf8');
  return format === 'CSV' ? parseCsvTable(text, what) : parseJsonLinesTable(text, what);
}

function parseCsvTable(text: string, what: string): Table {
  let records: string[][];
  try {
    records = parseCsv(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (error) {
    // csv-parse quotes the offending cell in its message: only the line number is passed on.
    const line = (error as { lines?: number }).lines;
    throw dataError(`the ${what} is not valid CSV${line ? ` (line ${line})` : ''}`);
  }
  if (records.length < 1) throw dataError(`the ${what} is empty`);
  const columns = records[0].map((name) => name.trim());
  const rows = records.slice(1).map((record) => Object.fromEntries(columns.map((column, i) => [column, record[i]])) as Row);
  return { columns, rows };
}

function parseJsonLinesTable(text: string, what: string): Table {
  const columns: string[] = [];
  const known = new Set<string>();
  const rows: Row[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw dataError(`the ${what} is not valid JSON Lines (line ${index + 1})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw dataError(`the ${what} has a line that is not a JSON object (line ${index + 1})`);
    const row: Row = {};
    for (const [key, cell] of Object.entries(value)) {
      if (cell !== null && typeof cell === 'object') throw dataError(`the ${what} has a nested value in field "${key}" (line ${index + 1})`);
      if (!known.has(key)) {
        known.add(key);
        columns.push(key);
      }
      row[key] = cell as CellValue;
    }
    rows.push(row);
  });
  return { columns, rows };
}
