import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { HashTap } from './hash-tap';
import type { ObjectStore, WrittenObject } from './object-store';

export interface S3Options {
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/**
 * An S3-compatible bucket (a French object store in production). Multipart upload is atomic: the
 * object exists only after CompleteMultipartUpload, and a failed upload is aborted.
 */
export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;

  constructor(
    private readonly options: S3Options,
    readonly region: string,
    readonly node: string,
  ) {
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: options.accessKeyId && options.secretAccessKey ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } : undefined,
    });
  }

  /** Closes the client's kept-alive sockets; the store is unusable afterwards. */
  destroy(): void {
    this.client.destroy();
  }

  async write(key: string, body: Readable): Promise<WrittenObject> {
    const tap = new HashTap();
    const passThrough = new PassThrough();
    body.on('error', (error) => passThrough.destroy(error));
    body.pipe(tap).pipe(passThrough);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: key, Body: passThrough, ContentType: 'application/octet-stream' },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    const failed = new Promise<never>((_, reject) => passThrough.once('error', reject));
    try {
      await Promise.race([upload.done(), failed]);
    } catch (error) {
      await upload.abort().catch(() => undefined);
      throw error;
    }
    return { sizeBytes: tap.bytes, sha256: tap.digest() };
  }

  async read(key: string): Promise<Readable> {
    const result = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
    return result.Body as Readable;
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: key }));
  }

  async exists(key: string): Promise<boolean> {
    return this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key })).then(
      () => true,
      () => false,
    );
  }
}
