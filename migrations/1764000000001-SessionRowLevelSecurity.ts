import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions and refresh tokens belong to users, not tenants, but they carry ips and token hashes:
 * the runtime role sees only the signed-in user's rows, or the one row a refresh is looking up.
 */
export class SessionRowLevelSecurity1764000000001 implements MigrationInterface {
  name = 'SessionRowLevelSecurity1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
      ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
      CREATE POLICY sessions_own ON sessions FOR ALL
        USING (user_id = app_current_user() OR id = app_setting_uuid('app.session_id'))
        WITH CHECK (user_id = app_current_user());

      ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
      ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
      CREATE POLICY refresh_tokens_own ON refresh_tokens FOR ALL
        USING (
          encode(token_hash, 'hex') = app_setting_text('app.refresh_token_hash')
          OR session_id IN (SELECT id FROM sessions WHERE user_id = app_current_user())
        )
        WITH CHECK (session_id IN (SELECT id FROM sessions WHERE user_id = app_current_user()));
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP POLICY IF EXISTS refresh_tokens_own ON refresh_tokens;
      DROP POLICY IF EXISTS sessions_own ON sessions;
      ALTER TABLE refresh_tokens DISABLE ROW LEVEL SECURITY;
      ALTER TABLE sessions DISABLE ROW LEVEL SECURITY;
    `);
  }
}
