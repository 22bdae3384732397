/** A problem with the uploaded file, located by line. Messages never quote the file's content. */
export class IngestError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
    readonly httpStatus = 400,
  ) {
    super(line > 0 ? `line ${line}: ${reason}` : reason);
  }
}

export class UploadTooLargeError extends IngestError {
  constructor(limitBytes: number) {
    super(0, `the file exceeds the upload limit of ${limitBytes} bytes`, 413);
  }
}
