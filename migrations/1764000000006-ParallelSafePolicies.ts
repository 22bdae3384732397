import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The row-level-security helpers only read settings, which PostgreSQL copies to parallel workers.
 * Marked PARALLEL UNSAFE (the default), they kept every tenant query on one core: a usage report over
 * a million ledger lines ran ~2× slower than the same query as the owner (docs/BENCHMARKS.md).
 */
export class ParallelSafePolicies1764000000006 implements MigrationInterface {
  name = 'ParallelSafePolicies1764000000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION app_setting_uuid(text) PARALLEL SAFE;
      ALTER FUNCTION app_setting_text(text) PARALLEL SAFE;
      ALTER FUNCTION app_current_tenant() PARALLEL SAFE;
      ALTER FUNCTION app_current_user() PARALLEL SAFE;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER FUNCTION app_setting_uuid(text) PARALLEL UNSAFE;
      ALTER FUNCTION app_setting_text(text) PARALLEL UNSAFE;
      ALTER FUNCTION app_current_tenant() PARALLEL UNSAFE;
      ALTER FUNCTION app_current_user() PARALLEL UNSAFE;
    `);
  }
}
