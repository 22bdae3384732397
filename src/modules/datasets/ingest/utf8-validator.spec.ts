import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IngestError } from './ingest-error';
import { Utf8Validator } from './utf8-validator';

async function validate(chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks, { objectMode: false }), new Utf8Validator(), sink);
  return Buffer.concat(out);
}

function everyCut(bytes: Buffer): Buffer[][] {
  const cuts: Buffer[][] = [];
  for (let at = 0; at <= bytes.length; at++) cuts.push([bytes.subarray(0, at), bytes.subarray(at)].filter((b) => b.length));
  cuts.push([...bytes].map((byte) => Buffer.from([byte])));
  return cuts;
}

describe('Utf8Validator', () => {
  const text = Buffer.from('prénom,ville\nZoë,Saint-Étienne 🙂\n', 'utf8');

  it('passes valid UTF-8 through unchanged, wherever a character is cut', async () => {
    for (const chunks of everyCut(text)) expect((await validate(chunks)).equals(text)).toBe(true);
  });

  it('drops a leading BOM, even when it arrives a byte at a time', async () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]);
    for (const chunks of everyCut(withBom)) expect((await validate(chunks)).equals(text)).toBe(true);
  });

  it.each([
    ['Latin-1 é', Buffer.from([0x61, 0x0a, 0x62, 0xe9, 0x0a]), 2],
    ['an overlong encoding', Buffer.from([0x61, 0x0a, 0x0a, 0xc0, 0xaf]), 3],
    ['a surrogate', Buffer.from([0x0a, 0xed, 0xa0, 0x80]), 2],
    ['a sequence cut by the end of the file', Buffer.from([0x61, 0x0a, 0xf0, 0x9f, 0x99]), 2],
    ['Latin-1 in a file with CR line ends', Buffer.from([0x61, 0x0d, 0x62, 0x0d, 0x63, 0xe9, 0x0d]), 3],
    ['Latin-1 in a file with CRLF line ends', Buffer.from([0x61, 0x0d, 0x0a, 0x62, 0xe9, 0x0d, 0x0a]), 2],
  ])('refuses %s with its line number, however the bytes are cut', async (_label, bytes, line) => {
    for (const chunks of everyCut(bytes)) {
      const error = await validate(chunks).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IngestError);
      expect((error as IngestError).line).toBe(line);
    }
  });
});
