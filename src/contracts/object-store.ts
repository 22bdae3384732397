import type { Readable } from 'node:stream';

export interface WrittenObject {
  sizeBytes: number;
  /** SHA-256 of the bytes as stored (the ciphertext envelope). */
  sha256: string;
}

/**
 * Where encrypted envelopes live. A write is atomic: the object becomes visible only once complete;
 * a failed or aborted write leaves nothing behind.
 */
export interface ObjectStore {
  readonly region: string;
  readonly node: string;
  write(key: string, body: Readable): Promise<WrittenObject>;
  read(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

/** Nest injection token of the api's store. */
export const OBJECT_STORE = 'OBJECT_STORE';
