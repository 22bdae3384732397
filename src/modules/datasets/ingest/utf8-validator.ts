import { isUtf8 } from 'node:buffer';
import { Transform, TransformCallback } from 'node:stream';
import { IngestError } from './ingest-error';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

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

/** Where a multi-byte sequence cut by the end of `bytes` starts, or `bytes.length` if none is. */
function endOfCompleteSequences(bytes: Uint8Array): number {
  for (let back = 1; back <= 3 && back <= bytes.length; back++) {
    const byte = bytes[bytes.length - back];
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: keep looking for its lead
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/**
 * Bytes in, the same bytes out, minus a leading BOM: refuses invalid UTF-8 with the line number.
 * Checking bytes (natively, with `isUtf8`) instead of decoding them keeps the parsers on Buffers.
 */
export class Utf8Validator extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private lineFeeds = 0;
  /** Counted for files whose lines end with CR alone (Excel for Mac), which have no LF. */
  private carriageReturns = 0;
  private started = false;

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.check(this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk, false, callback);
  }

  _flush(callback: TransformCallback): void {
    this.check(this.pending, true, callback);
  }

  private check(bytes: Buffer, complete: boolean, callback: TransformCallback): void {
    if (!this.started) {
      // The BOM test needs three bytes (or the end of the file).
      if (bytes.length < BOM.length && !complete) {
        this.pending = Buffer.from(bytes);
        return callback();
      }
      this.started = true;
      if (bytes.subarray(0, BOM.length).equals(BOM)) bytes = bytes.subarray(BOM.length);
    }
    const usableEnd = complete ? bytes.length : endOfCompleteSequences(bytes);
    const usable = bytes.subarray(0, usableEnd);
    if (!isUtf8(usable) || (complete && usableEnd < bytes.length)) {
      const { invalidAt } = firstInvalidUtf8(bytes, complete);
      const before = bytes.subarray(0, Math.max(invalidAt, 0));
      const lineFeeds = this.lineFeeds + countByte(before, 0x0a);
      const line = (lineFeeds > 0 ? lineFeeds : this.carriageReturns + countByte(before, 0x0d)) + 1;
      return callback(new IngestError(line, 'the file is not valid UTF-8 (convert it to UTF-8 and upload again)'));
    }
    this.pending = usableEnd < bytes.length ? Buffer.from(bytes.subarray(usableEnd)) : Buffer.alloc(0);
    this.lineFeeds += countByte(usable, 0x0a);
    if (this.lineFeeds === 0) this.carriageReturns += countByte(usable, 0x0d);
    callback(null, usable.length ? usable : undefined);
  }
}

function countByte(bytes: Uint8Array, byte: number): number {
  let count = 0;
  for (let at = bytes.indexOf(byte); at !== -1; at = bytes.indexOf(byte, at + 1)) count++;
  return count;
}
