import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDataset, type Table } from '../../src/datasets';

/** The project's sample datasets (copied from the shared data folder into test/fixtures). */
export const FIXTURES_DIR = join(__dirname, '..', '..', '..', 'test', 'fixtures');

export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(FIXTURES_DIR, name));
}

export function fixtureTable(name: string): Table {
  return parseDataset(fixtureBytes(name), 'CSV', 'training dataset');
}
