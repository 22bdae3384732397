import { IngestError } from './ingest-error';

const COMMA = 0x2c;
const QUOTE = 0x22;
const CARRIAGE_RETURN = '\r';

/** Returned by the slow path when the record runs past the text seen so far. */
const INCOMPLETE = -1;

export const CSV_ERRORS = {
  ragged: 'the row does not have as many fields as the header (ragged row)',
  quoteNotClosed: 'a quoted field is never closed',
  strayQuote: 'a quote appears inside an unquoted field (quote the whole field and double inner quotes)',
  afterClosingQuote: 'a closing quote is followed by something other than a delimiter',
  tooLarge: 'a row is larger than 1 MiB',
};

function countOf(char: string, text: string, from: number, to: number): number {
  let count = 0;
  for (let at = from; at < to; at++) if (text[at] === char) count++;
  return count;
}

/**
 * A strict RFC 4180 tokenizer (comma, double quotes; LF, CRLF, or CR alone as Excel for Mac
 * writes it, decided by the file's first line break outside quotes) that takes text in chunks and
 * reports each record with the line it starts on. Blank lines are skipped. A quote inside an
 * unquoted field, text after a closing quote, an unclosed quote and a record over the size limit
 * are errors; messages name the line and never quote the file.
 *
 * Why not csv-parse: its byte-at-a-time loop was a third of the upload's CPU, and 2.3 MB of its
 * objects survived every scavenge, which grew the api's old generation by ~180 MB per upload.
 * Records without quotes, the common case, go through `indexOf` and `split` here.
 *
 * An unfinished record is scanned again from its start when more text arrives. To keep that linear
 * whatever the chunk sizes a client sends, small pieces are set aside until they add up to half of
 * what is carried over.
 */
export class CsvTokenizer {
  private carry = '';
  /** Text received since the last scan, not looked at yet (see the class comment). */
  private pending: string[] = [];
  private pendingLength = 0;
  /** Physical line number (1-based) where `carry` starts. */
  private line = 1;
  private fields: string[] = [];
  /** Where the slow path's record ended, and how many line breaks it spanned. */
  private recordEnd = 0;
  private recordNewlines = 0;
  /** '\n' (also for CRLF files, whose CR is then dropped) or '\r'; undefined until the first line break. */
  private lineBreak: '\n' | '\r' | undefined;
  private lineBreakCode = 0x0a;

  constructor(
    private readonly onRecord: (line: number, fields: string[]) => void,
    private readonly maxRecordChars = 1 << 20,
  ) {}

  write(text: string): void {
    if (this.carry.length > 0 && this.pendingLength + text.length < this.carry.length / 2) {
      this.pending.push(text);
      this.pendingLength += text.length;
      return;
    }
    this.scan(this.takeCarried() + text, false);
  }

  end(): void {
    this.scan(this.takeCarried(), true);
  }

  private takeCarried(): string {
    const text = this.pendingLength ? this.carry + this.pending.join('') : this.carry;
    this.pending = [];
    this.pendingLength = 0;
    return text;
  }

  private scan(text: string, final: boolean): void {
    const length = text.length;
    if (this.lineBreak === undefined && !this.decideLineBreak(text, final)) {
      this.carry = text;
      if (this.carry.length > this.maxRecordChars) throw new IngestError(this.line, CSV_ERRORS.tooLarge);
      return;
    }
    const lineBreak = this.lineBreak!;
    const dropsCarriageReturn = lineBreak === '\n';
    let pos = 0;
    let nextQuote = text.indexOf('"');
    while (pos < length) {
      if (nextQuote !== -1 && nextQuote < pos) nextQuote = text.indexOf('"', pos);
      let newline = text.indexOf(lineBreak, pos);
      if (newline === -1 && !final) break;
      if (newline === -1) newline = length;
      if (nextQuote === -1 || nextQuote > newline) {
        // Fast path: no quote before the end of the line, so the line is the record.
        if (newline - pos > this.maxRecordChars) throw new IngestError(this.line, CSV_ERRORS.tooLarge);
        let end = newline;
        if (dropsCarriageReturn && end > pos && text[end - 1] === CARRIAGE_RETURN) end--;
        if (end > pos) this.onRecord(this.line, text.slice(pos, end).split(','));
        this.line++;
        pos = newline + 1;
        continue;
      }
      if (this.quotedRecord(text, pos, final) === INCOMPLETE) break;
      if (this.recordEnd - pos > this.maxRecordChars) throw new IngestError(this.line, CSV_ERRORS.tooLarge);
      this.onRecord(this.line, this.fields);
      this.line += this.recordNewlines;
      pos = this.recordEnd;
    }
    this.carry = pos < length ? text.slice(pos) : '';
    if (this.carry.length > this.maxRecordChars) throw new IngestError(this.line, CSV_ERRORS.tooLarge);
  }

  /**
   * CR alone when the first line break outside quotes is a CR not followed by LF; else LF (which
   * covers CRLF). False: not known yet.
   */
  private decideLineBreak(text: string, final: boolean): boolean {
    let quoted = false;
    let at = 0;
    for (; at < text.length; at++) {
      const char = text[at];
      if (char === '"') quoted = !quoted;
      else if (!quoted && (char === '\n' || char === CARRIAGE_RETURN)) break;
    }
    if (at === text.length) {
      if (!final) return false;
      this.lineBreak = '\n';
    } else if (text[at] === CARRIAGE_RETURN) {
      if (at + 1 === text.length && !final) return false;
      this.lineBreak = text[at + 1] === '\n' ? '\n' : CARRIAGE_RETURN;
    } else {
      this.lineBreak = '\n';
    }
    this.lineBreakCode = this.lineBreak.charCodeAt(0);
    return true;
  }

  /** The slow path, for a record with quotes: fills `fields`, `recordEnd` and `recordNewlines`. */
  private quotedRecord(text: string, start: number, final: boolean): number {
    const length = text.length;
    const lineBreak = this.lineBreak!;
    const NEWLINE = this.lineBreakCode;
    const crlf = lineBreak === '\n';
    const fields: string[] = [];
    let newlines = 0;
    let i = start;
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        let value = '';
        let from = i + 1;
        for (;;) {
          const quote = text.indexOf('"', from);
          if (quote === -1 || (quote + 1 === length && !final)) {
            if (!final) return INCOMPLETE;
            throw new IngestError(this.line + newlines, CSV_ERRORS.quoteNotClosed);
          }
          value += text.slice(from, quote);
          newlines += countOf(lineBreak, text, from, quote);
          if (text.charCodeAt(quote + 1) === QUOTE) {
            value += '"';
            from = quote + 2;
            continue;
          }
          i = quote + 1;
          break;
        }
        fields.push(value);
        const next = text.charCodeAt(i);
        if (i === length) return this.recordDone(fields, i, newlines);
        if (next === COMMA) {
          i++;
          continue;
        }
        if (next === NEWLINE) return this.recordDone(fields, i + 1, newlines + 1);
        if (crlf && text[i] === CARRIAGE_RETURN && i + 1 === length) return final ? this.recordDone(fields, length, newlines) : INCOMPLETE;
        if (crlf && text[i] === CARRIAGE_RETURN && text.charCodeAt(i + 1) === NEWLINE) return this.recordDone(fields, i + 2, newlines + 1);
        throw new IngestError(this.line + newlines, CSV_ERRORS.afterClosingQuote);
      }
      let j = i;
      let code = 0;
      while (j < length) {
        code = text.charCodeAt(j);
        if (code === COMMA || code === NEWLINE || code === QUOTE) break;
        j++;
      }
      if (j === length && !final) return INCOMPLETE;
      if (j < length && code === QUOTE) throw new IngestError(this.line + newlines, CSV_ERRORS.strayQuote);
      let end = j;
      if (crlf && (j === length || code === NEWLINE) && end > i && text[end - 1] === CARRIAGE_RETURN) end--;
      fields.push(text.slice(i, end));
      if (j === length) return this.recordDone(fields, j, newlines);
      if (code === NEWLINE) return this.recordDone(fields, j + 1, newlines + 1);
      i = j + 1;
    }
  }

  private recordDone(fields: string[], end: number, newlines: number): number {
    this.fields = fields;
    this.recordEnd = end;
    this.recordNewlines = newlines;
    return end;
  }
}
