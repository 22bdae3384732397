import type { QueryRunner } from 'typeorm';

/**
 * The policy every tenant-owned table gets: rows of the transaction's tenant only, for reading and
 * writing, enforced on the table owner too. A missing app.tenant_id matches nothing.
 */
export async function isolateByTenant(q: QueryRunner, tables: string[]): Promise<void> {
  for (const table of tables) {
    await q.query(`
      ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
      ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
      CREATE POLICY ${table}_tenant_isolation ON ${table} FOR ALL
        USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
    `);
  }
}
