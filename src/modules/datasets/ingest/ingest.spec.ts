import { Readable, Writable } from 'node:stream';
import { ingest, IngestOptions } from './ingest';
import { IngestError } from './ingest-error';
import { Pseudonymizer } from './pseudonymizer';

function collect(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

const options = (overrides: Partial<IngestOptions> = {}): IngestOptions => ({
  format: 'CSV',
  piiColumns: [],
  pseudonymizer: new Pseudonymizer(Buffer.alloc(32, 1)),
  maxBytes: 1 << 20,
  ...overrides,
});

async function run(input: string | Buffer, overrides: Partial<IngestOptions> = {}) {
  const { sink, text } = collect();
  const summary = await ingest(Readable.from([Buffer.from(input)]), sink, options(overrides));
  return { summary, output: text() };
}

async function failure(input: string | Buffer, overrides: Partial<IngestOptions> = {}): Promise<IngestError> {
  try {
    await run(input, overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(IngestError);
    return error as IngestError;
  }
  throw new Error('ingest accepted invalid input');
}

describe('ingest: CSV', () => {
  it('profiles columns, pseudonymises PII and keeps other cells', async () => {
    const { summary, output } = await run('\uFEFFpatient,age,ward,smoker\nMARIE DUPONT,42,A,yes\nJEAN MARTIN,,B,no\nMARIE DUPONT,37,A,no\n', { piiColumns: ['patient'] });
    expect(summary.rowCount).toBe(3);
    expect(summary.columns).toEqual([
      { name: 'patient', type: 'categorical', nullCount: 0, distinctEstimate: 2, pseudonymized: true },
      { name: 'age', type: 'numeric', nullCount: 1, distinctEstimate: 2, pseudonymized: false },
      { name: 'ward', type: 'categorical', nullCount: 0, distinctEstimate: 2, pseudonymized: false },
      { name: 'smoker', type: 'boolean', nullCount: 0, distinctEstimate: 2, pseudonymized: false },
    ]);
    expect(output).not.toContain('DUPONT');
    const lines = output.trim().split('\n').map((l) => l.split(','));
    expect(lines[0]).toEqual(['patient', 'age', 'ward', 'smoker']);
    expect(lines[1][0]).toMatch(/^pii_/);
    expect(lines[1][0]).toBe(lines[3][0]);
    expect(lines[1][0]).not.toBe(lines[2][0]);
    expect(summary.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads a file with CR line ends, as Excel for Mac saves CSV, and stores it with LF', async () => {
    const { summary, output } = await run('patient,age\rMARIE DUPONT,42\rJEAN MARTIN,37\r', { piiColumns: ['patient'] });
    expect(summary.rowCount).toBe(2);
    expect(output.split('\n').map((line) => line.split(',')[1])).toEqual(['age', '42', '37', undefined]);
    expect((await failure('a,b\r1,2\r3,4,5\r')).line).toBe(3);
  });

  it('gives different pseudonyms under another tenant key', async () => {
    const a = await run('id\nX\n', { piiColumns: ['id'] });
    const b = await run('id\nX\n', { piiColumns: ['id'], pseudonymizer: new Pseudonymizer(Buffer.alloc(32, 2)) });
    expect(a.output).not.toBe(b.output);
  });

  it('flags formula cells as warnings without quoting them, and keeps negative numbers', async () => {
    const { summary } = await run('a,b\n=SUM(A1:A9),-3\n@SUM(1),-4\n');
    expect(summary.warnings).toEqual([expect.objectContaining({ kind: 'FORMULA_CELLS', column: 'a', count: 2, firstLine: 2 })]);
    expect(JSON.stringify(summary.warnings)).not.toContain('SUM');
  });

  it.each([
    ['an empty file', '', 1, /empty/],
    ['a header without rows', 'a,b\n', 2, /no data rows/],
    ['a ragged row', 'a,b\n1,2\n3,4,5\n', 3, /ragged/],
    ['a duplicate header', 'a,a\n1,2\n', 1, /more than once/],
    ['an empty header name', 'a,,c\n1,2,3\n', 1, /header field 2 is empty/],
    ['an unclosed quote', 'a,b\n1,"2\n', 2, /never closed/],
    ['a stray quote, without quoting the cell', 'a,b\n1,se"cret\n', 2, /quote appears inside/],
  ])('refuses %s with its line number', async (_label, input, line, message) => {
    const error = await failure(input as string);
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message as RegExp);
  });

  it('refuses invalid UTF-8 (Latin-1) at the right line', async () => {
    const error = await failure(Buffer.concat([Buffer.from('name,city\nok,Paris\nbad,'), Buffer.from([0xc9, 0x76, 0x72, 0x79]), Buffer.from('\n')]));
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/UTF-8/);
  });

  it('refuses a declared PII column missing from the header', async () => {
    expect((await failure('a,b\n1,2\n', { piiColumns: ['nir'] })).message).toMatch(/"nir"/);
  });

  it('refuses a file past the size limit with a 413', async () => {
    const error = await failure('a\n' + '1\n'.repeat(1000), { maxBytes: 100 });
    expect(error.httpStatus).toBe(413);
  });
});

describe('ingest: JSON Lines', () => {
  it('accepts objects, unions their keys and pseudonymises PII', async () => {
    const { summary, output } = await run('{"email":"a@b.fr","amount":12.5}\n\n{"email":"c@d.fr","amount":3,"flag":true}\n', { format: 'JSONL', piiColumns: ['email'] });
    expect(summary.rowCount).toBe(2);
    expect(summary.columns.map((c) => [c.name, c.type, c.nullCount])).toEqual([
      ['email', 'categorical', 0],
      ['amount', 'numeric', 0],
      ['flag', 'boolean', 1],
    ]);
    expect(output).not.toContain('a@b.fr');
  });

  it.each([
    ['a line that is not an object', '{"a":1}\n[1,2]\n', 2, /JSON object/],
    ['a line that is not JSON', '{"a":1}\n{"a":\n', 2, /not valid JSON/],
    ['a nested value', '{"a":{"b":1}}\n', 1, /string, number, boolean or null/],
  ])('refuses %s with its line number', async (_label, input, line, message) => {
    const error = await failure(input as string, { format: 'JSONL' });
    expect(error.line).toBe(line);
    expect(error.message).toMatch(message as RegExp);
  });
});
