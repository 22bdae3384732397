import { LocalObjectStore } from '../../src/contracts/local-object-store';
import type { ObjectStore } from '../../src/contracts/object-store';
import { S3ObjectStore } from '../../src/contracts/s3-object-store';
import type { WorkerConfig } from './config';

/** The same store as the api's for the same settings: a folder on a laptop, an S3-compatible bucket in production. */
export function createObjectStore(storage: WorkerConfig['storage']): ObjectStore {
  if (storage.driver === 's3') return new S3ObjectStore(storage.s3!, storage.region, storage.node);
  return new LocalObjectStore(storage.dir, storage.region, storage.node);
}
