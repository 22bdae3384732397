import { StringDecoder } from 'node:string_decoder';
import { Transform, TransformCallback } from 'node:stream';
import { CsvTokenizer } from './csv-tokenizer';
import { IngestError } from './ingest-error';
import type { RowProcessor, Scalar } from './row-processor';

const MAX_ROW_CHARS = 1 << 20;

/**
 * Bytes in, stored text out, one batch per incoming chunk. Each row is parsed, processed and
 * serialised before the next one is parsed, so only chunk Buffers ever wait on a slow disk: no
 * per-row object lives long enough to be promoted to the old generation.
 */
abstract class RowStage extends Transform {
  protected batch: string[] = [];
  private readonly decoder = new StringDecoder('utf8');

  constructor(protected readonly rows: RowProcessor) {
    super();
  }

  /** Parses `text`, adding the stored lines to `batch`; throws an IngestError. */
  protected abstract parse(text: string): void;
  protected abstract parseEnd(): void;

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.run(callback, () => this.parse(this.decoder.write(chunk)));
  }

  _flush(callback: TransformCallback): void {
    this.run(callback, () => {
      const rest = this.decoder.end();
      if (rest.length) this.parse(rest);
      this.parseEnd();
      this.rows.finish();
    });
  }

  private run(callback: TransformCallback, work: () => void): void {
    try {
      work();
    } catch (error) {
      return callback(error as Error);
    }
    const text = this.batch.join('');
    this.batch = [];
    callback(null, text.length ? text : undefined);
  }
}

export class CsvRowStage extends RowStage {
  private readonly tokenizer = new CsvTokenizer((line, fields) => this.batch.push(this.rows.csvRecord(line, fields)), MAX_ROW_CHARS);

  protected parse(text: string): void {
    this.tokenizer.write(text);
  }

  protected parseEnd(): void {
    this.tokenizer.end();
  }
}

/** JSON Lines: one object per line; blank lines are skipped. */
export class JsonLinesRowStage extends RowStage {
  private buffered = '';
  private line = 0;

  protected parse(text: string): void {
    const lines = (this.buffered + text).split('\n');
    this.buffered = lines.pop() ?? '';
    if (this.buffered.length > MAX_ROW_CHARS) throw new IngestError(this.line + lines.length + 1, 'a line is longer than 1 MiB');
    for (const raw of lines) this.parseLine(raw);
  }

  protected parseEnd(): void {
    if (this.buffered.length) this.parseLine(this.buffered);
    this.buffered = '';
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
    this.batch.push(this.rows.jsonRecord(this.line, value as Record<string, Scalar>));
  }
}
