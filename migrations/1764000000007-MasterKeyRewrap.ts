import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retiring a master key: a background job re-wraps every tenant key that is still wrapped under an
 * older master key of MASTER_KEYS, so the old key can then leave the ring. The api may update only
 * the wrapping of a key (never its tenant, purpose or generation), inside that tenant's own scope.
 * To find the tenants concerned it gets their ids and nothing else: a function running as the
 * owner, which a policy lets see tenant_keys only in the 'master-key-rewrap' maintenance scope.
 */
export class MasterKeyRewrap1764000000007 implements MigrationInterface {
  name = 'MasterKeyRewrap1764000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      GRANT UPDATE (master_key_id, wrapped_key) ON tenant_keys TO lutece_app;
      DO $$ BEGIN
        EXECUTE format('CREATE POLICY tenant_keys_master_rewrap_listing ON tenant_keys FOR SELECT TO %I
          USING (app_setting_text(''app.maintenance'') = ''master-key-rewrap'')', current_user);
      END $$;
      CREATE FUNCTION tenants_with_keys_not_under(active_master_key_id text) RETURNS SETOF uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
        AS $$ SELECT DISTINCT tenant_id FROM tenant_keys WHERE master_key_id <> active_master_key_id ORDER BY tenant_id $$;
      REVOKE ALL ON FUNCTION tenants_with_keys_not_under(text) FROM PUBLIC;
      GRANT EXECUTE ON FUNCTION tenants_with_keys_not_under(text) TO lutece_app;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP FUNCTION IF EXISTS tenants_with_keys_not_under(text);
      DROP POLICY IF EXISTS tenant_keys_master_rewrap_listing ON tenant_keys;
      REVOKE UPDATE (master_key_id, wrapped_key) ON tenant_keys FROM lutece_app;
    `);
  }
}
