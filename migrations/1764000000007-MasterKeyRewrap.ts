import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retiring a master key: a background job re-wraps every tenant key that is still wrapped under an
 * older master key of MASTER_KEYS, so the old key can then leave the ring. The api may update only
 * the wrapping of a key (never the tenant, purpose or generation), inside the tenant's own scope;
 * in the 'master-key-rewrap' maintenance scope it may list which tenants still have such keys.
 */
export class MasterKeyRewrap1764000000007 implements MigrationInterface {
  name = 'MasterKeyRewrap1764000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      GRANT UPDATE (master_key_id, wrapped_key) ON tenant_keys TO lutece_app;
      CREATE POLICY tenant_keys_master_rewrap ON tenant_keys FOR SELECT
        USING (app_setting_text('app.maintenance') = 'master-key-rewrap');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP POLICY IF EXISTS tenant_keys_master_rewrap ON tenant_keys;
      REVOKE UPDATE (master_key_id, wrapped_key) ON tenant_keys FROM lutece_app;
    `);
  }
}
