import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { LocalObjectStore } from './local-object-store';
import type { ObjectStore } from './object-store';
import { S3ObjectStore } from './s3-object-store';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver = require('s3rver');

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

function failingStream(afterBytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= afterBytes) {
        this.destroy(new Error('client went away'));
        return;
      }
      sent += 1024;
      this.push(Buffer.alloc(1024, 7));
    },
  });
}

function contract(name: string, make: () => Promise<{ store: ObjectStore; leftovers: () => string[]; close: () => Promise<void> }>) {
  describe(name, () => {
    let store: ObjectStore;
    let leftovers: () => string[];
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, leftovers, close } = await make());
    });
    afterAll(() => close());

    it('writes atomically and reports size and SHA-256 of the stored bytes', async () => {
      const body = 'x'.repeat(300_000);
      const written = await store.write('t1/dataset_version/a.lte', Readable.from([Buffer.from(body)]));
      expect(written).toEqual({ sizeBytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      expect(await store.exists('t1/dataset_version/a.lte')).toBe(true);
      expect(await text(await store.read('t1/dataset_version/a.lte'))).toBe(body);
    });

    it('leaves nothing behind when the source fails mid-way', async () => {
      await expect(store.write('t1/dataset_version/broken.lte', failingStream(200_000))).rejects.toThrow(/client went away/);
      expect(await store.exists('t1/dataset_version/broken.lte')).toBe(false);
      expect(leftovers()).toEqual([]);
    });

    it('replaces an object in one step and deletes it', async () => {
      await store.write('t1/model_artifact/b.lte', Readable.from([Buffer.from('one')]));
      await store.write('t1/model_artifact/b.lte', Readable.from([Buffer.from('two')]));
      expect(await text(await store.read('t1/model_artifact/b.lte'))).toBe('two');
      await store.delete('t1/model_artifact/b.lte');
      expect(await store.exists('t1/model_artifact/b.lte')).toBe(false);
    });
  });
}

contract('LocalObjectStore', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lutece-store-'));
  const store = new LocalObjectStore(dir, 'fr-par', 'node-a');
  return {
    store,
    leftovers: () => {
      try {
        return readdirSync(join(dir, '.tmp'));
      } catch {
        return [];
      }
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

contract('S3ObjectStore (against s3rver, an S3 protocol server)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lutece-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'lutece' }] });
  const { port } = await server.run();
  const store = new S3ObjectStore(
    { endpoint: `http://127.0.0.1:${port}`, bucket: 'lutece', region: 'fr-par', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true },
    'fr-par',
    'node-a',
  );
  return {
    store,
    leftovers: () => [],
    close: async () => {
      store.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('LocalObjectStore keys', () => {
  it('refuses keys that would escape the storage root', async () => {
    const store = new LocalObjectStore(mkdtempSync(join(tmpdir(), 'lutece-keys-')), 'fr-par', 'n');
    await expect(store.read('../etc/passwd')).rejects.toThrow(/invalid object key|escapes/);
  });
});
