import { Transform, TransformCallback } from 'node:stream';
import { IngestError } from './ingest-error';

/**
 * Offset of the first byte that cannot start or continue valid UTF-8 (overlongs, surrogates and
 * code points past U+10FFFF included), or -1. `complete` says whether a sequence may be cut at the end.
 */
export function firstInvalidUtf8(bytes: Uint8Array, complete: boolean): { invalidAt: number; pendingFrom: number } {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let min: number;
    if (lead >= 0xc2 && lead <= 0xdf) [length, min] = [2, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [length, min] = [3, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [length, min] = [4, 0x10000];
    else return { invalidAt: i, pendingFrom: -1 };
    if (i + length > bytes.length) {
      for (let j = i + 1; j < bytes.length; j++) if ((bytes[j] & 0xc0) !== 0x80) return { invalidAt: j, pendingFrom: -1 };
      return complete ? { invalidAt: i, pendingFrom: -1 } : { invalidAt: -1, pendingFrom: i };
    }
    let codePoint = lead & (0xff >> (length + 1));
    for (let j = 1; j < length; j++) {
      const continuation = bytes[i + j];
      if ((continuation & 0xc0) !== 0x80) return { invalidAt: i + j, pendingFrom: -1 };
      codePoint = (codePoint << 6) | (continuation & 0x3f);
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return { invalidAt: i, pendingFrom: -1 };
    i += length;
  }
  return { invalidAt: -1, pendingFrom: -1 };
}

/** Bytes in, UTF-8 text out: refuses invalid encodings with the line number, drops a leading BOM. */
export class Utf8Decoder extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  private pending: Buffer = Buffer.alloc(0);
  private newlines = 0;

  constructor() {
    super({ decodeStrings: true, readableObjectMode: false, encoding: 'utf8' });
  }

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.decode(this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk, false, callback);
  }

  _flush(callback: TransformCallback): void {
    this.decode(this.pending, true, callback);
  }

  private decode(bytes: Buffer, complete: boolean, callback: TransformCallback): void {
    const { invalidAt, pendingFrom } = firstInvalidUtf8(bytes, complete);
    if (invalidAt >= 0) {
      const line = this.newlines + countNewlines(bytes.subarray(0, invalidAt)) + 1;
      callback(new IngestError(line, 'the file is not valid UTF-8 (convert it to UTF-8 and upload again)'));
      return;
    }
    const usable = pendingFrom >= 0 ? bytes.subarray(0, pendingFrom) : bytes;
    this.pending = pendingFrom >= 0 ? Buffer.from(bytes.subarray(pendingFrom)) : Buffer.alloc(0);
    this.newlines += countNewlines(usable);
    const text = this.decoder.decode(usable, { stream: !complete });
    callback(null, text.length ? text : undefined);
  }
}

function countNewlines(bytes: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) count++;
  return count;
}
