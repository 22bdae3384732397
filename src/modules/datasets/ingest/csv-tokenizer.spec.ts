import { parse } from 'csv-parse/sync';
import { CsvTokenizer } from './csv-tokenizer';
import { IngestError } from './ingest-error';

interface Parsed {
  line: number;
  fields: string[];
}

function tokenize(chunks: string[], maxRecordChars?: number): Parsed[] {
  const records: Parsed[] = [];
  const tokenizer = new CsvTokenizer((line, fields) => records.push({ line, fields: [...fields] }), maxRecordChars);
  for (const chunk of chunks) tokenizer.write(chunk);
  tokenizer.end();
  return records;
}

function failure(chunks: string[], maxRecordChars?: number): IngestError {
  try {
    tokenize(chunks, maxRecordChars);
  } catch (error) {
    expect(error).toBeInstanceOf(IngestError);
    return error as IngestError;
  }
  throw new Error('the tokenizer accepted invalid CSV');
}

/** Every way of cutting `text` in two, plus cuts every 1 to 5 characters. */
function chunkings(text: string): string[][] {
  const cuts: string[][] = [];
  for (let at = 0; at <= text.length; at++) cuts.push([text.slice(0, at), text.slice(at)]);
  for (let size = 1; size <= 5; size++) {
    const pieces: string[] = [];
    for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
    cuts.push(pieces);
  }
  return cuts;
}

const VALID: Array<[string, string]> = [
  ['plain rows', 'a,b,c\n1,2,3\n4,5,6\n'],
  ['no final newline', 'a,b\n1,2'],
  ['CRLF line ends', 'a,b\r\n1,2\r\n3,4\r\n'],
  ['CRLF and no final newline', 'a,b\r\n1,2'],
  ['empty fields and a trailing comma', 'a,b,c\n,,\n1,,\n'],
  ['quoted delimiters and doubled quotes', 'name,quote\n"Dupont, Marie","she said ""non"""\n'],
  ['a quoted line break', 'id,note\n1,"first\nsecond"\n2,"a\r\nb"\n3,c\n'],
  ['a quoted line break in a CRLF file', 'id,note\r\n1,"first\r\nsecond"\r\n2,"a\nb"\r\n'],
  ['an empty quoted field and a quoted last field', 'a,b\n"",x\ny,""\n"z","w"'],
  ['blank lines, skipped', 'a,b\n\n1,2\n\n\n3,4\n\n'],
  ['non-ASCII text', 'ville,prénom\nSaint-Étienne,"Zoë, 🙂"\n'],
  ['a lone carriage return inside a field', 'a,b\n1\r2,3\n'],
  ['CR line ends (Excel for Mac)', 'a,b\r1,"x\ry"\r\r3,4\r'],
  ['CR line ends, a line feed inside a field, no final line end', 'a,b\r1,x\ny\r3,"q""r"'],
  ['a first line with no line break at all', 'a,b'],
  ['a CR inside a quoted header cell of an LF file', '"x\ry",z\n1,2\n3,4\n'],
  ['an LF inside a quoted header cell of a CR file', '"a\nb",c\r1,2\r3,4\r'],
  ['a quoted CR alone on the first line', '"\r"\n'],
];

describe('CsvTokenizer', () => {
  it.each(VALID)('reads %s like csv-parse does, however the text is cut', (_label, text) => {
    const expected = parse(text, { skip_empty_lines: true, relax_column_count: true }) as string[][];
    for (const chunks of chunkings(text)) expect(tokenize(chunks).map((r) => r.fields)).toEqual(expected);
  });

  // csv-parse fixes the record delimiter from the first line; uploads mixing LF and CRLF are accepted here.
  it.each([
    ['a CRLF line in an LF file', 'a,b\n1,"2"\r\n3,4\n', [['a', 'b'], ['1', '2'], ['3', '4']]],
    ['a blank CRLF line in an LF file', 'a\n1\n\r\n2\n', [['a'], ['1'], ['2']]],
    ['a quoted field ending the file with a CR', 'a\n"x"\r', [['a'], ['x']]],
  ])('reads %s', (_label, text, expected) => {
    for (const chunks of chunkings(text)) expect(tokenize(chunks).map((r) => r.fields)).toEqual(expected);
  });

  it('reports the line each record starts on, counting quoted line breaks', () => {
    const records = tokenize(['h1,h2\n', '1,"two\nlines"\n\n', '3,4\r\n"five",6']);
    expect(records.map((r) => r.line)).toEqual([1, 2, 5, 6]);
    for (const chunks of chunkings('h\r1\r"2\r3"\r4')) expect(tokenize(chunks).map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  it.each([
    ['a stray quote in an unquoted field', 'a,b\n1,se"cret\n', 2, /quote appears inside an unquoted field/],
    ['text after a closing quote', 'a,b\n1,"x"y\n', 2, /closing quote is followed/],
    ['an unclosed quote', 'a,b\n1,"never closed\nand more\n', 2, /never closed/],
    ['a stray quote after a quoted line break', 'a,b\n1,"x\ny"\n2,z"\n', 4, /quote appears inside/],
  ])('refuses %s at the right line, without quoting the file', (_label, text, line, message) => {
    for (const chunks of chunkings(text)) {
      const error = failure(chunks);
      expect(error.line).toBe(line);
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/secret|never closed\n|cret/);
    }
  });

  it('refuses a record over the size limit, with or without quotes, even before its end arrives', () => {
    expect(failure(['a\n', 'x'.repeat(50), '\n'], 40).message).toMatch(/larger than/);
    expect(failure(['a\n', `"${'x'.repeat(50)}"\n`], 40).message).toMatch(/larger than/);
    // No line end yet: the carried-over text alone is too long.
    const error = failure(['a\n', 'y'.repeat(30), 'y'.repeat(30)], 40);
    expect(error.line).toBe(2);
  });
});
