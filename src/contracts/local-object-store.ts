import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { once } from 'node:events';
import { HashTap } from './hash-tap';
import type { ObjectStore, WrittenObject } from './object-store';

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Objects as files under STORAGE_DIR: written to a temp name, fsync'd, renamed, directory fsync'd. */
export class LocalObjectStore implements ObjectStore {
  private readonly root: string;

  constructor(
    root: string,
    readonly region: string,
    readonly node: string,
  ) {
    this.root = resolve(root);
  }

  async write(key: string, body: Readable): Promise<WrittenObject> {
    const target = this.pathOf(key);
    const temporary = join(this.root, '.tmp', `${randomUUID()}.partial`);
    await mkdir(dirname(temporary), { recursive: true, mode: 0o700 });
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const tap = new HashTap();
    const file = createWriteStream(temporary, { mode: 0o600 });
    // Wait for the file to exist before anything can fail, so the cleanup below always finds it.
    await once(file, 'open');
    try {
      await pipeline(body, tap, file);
      await fsyncPath(temporary);
      await rename(temporary, target);
      await fsyncPath(dirname(target));
    } catch (error) {
      if (!file.closed) {
        file.destroy();
        await once(file, 'close').catch(() => undefined);
      }
      await rm(temporary, { force: true });
      throw error;
    }
    return { sizeBytes: tap.bytes, sha256: tap.digest() };
  }

  async read(key: string): Promise<Readable> {
    const path = this.pathOf(key);
    await stat(path);
    return createReadStream(path);
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.pathOf(key)).then(
      () => true,
      () => false,
    );
  }

  private pathOf(key: string): string {
    if (!/^[a-z0-9/_-]+(\.[a-z0-9]+)?$/i.test(key) || key.includes('..')) throw new Error('invalid object key');
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error('object key escapes the storage root');
    return path;
  }
}
