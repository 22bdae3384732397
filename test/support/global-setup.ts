import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { ADMIN_DATABASE_URL } from './services';

/** Compiles the api once, and fails fast with a clear message when PostgreSQL is not reachable. */
export default async function globalSetup(): Promise<void> {
  // LUTECE_SKIP_BUILD=1 reuses dist/ (quicker when only unit specs run).
  if (!process.env.LUTECE_SKIP_BUILD) {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  }
  const client = new Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Tests need PostgreSQL at ${ADMIN_DATABASE_URL} (set TEST_DATABASE_URL): ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
