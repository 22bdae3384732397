import { Transform, TransformCallback } from 'node:stream';
import { UploadTooLargeError } from './ingest-error';

/** Fails the stream as soon as more than `limitBytes` have arrived, whatever Content-Length said. */
export class SizeLimiter extends Transform {
  bytes = 0;

  constructor(private readonly limitBytes: number) {
    super();
  }

  _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limitBytes) callback(new UploadTooLargeError(this.limitBytes));
    else callback(null, chunk);
  }
}
