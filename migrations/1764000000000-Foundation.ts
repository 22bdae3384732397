import { MigrationInterface, QueryRunner } from 'typeorm';
import { isolateByTenant } from './support/row-level-security';

/**
 * Identity, tenancy, API keys, projects and the audit chain, with row-level security.
 *
 * The runtime role `lutece_app` owns nothing and has no BYPASSRLS, so every policy below applies to
 * it. Policies read settings with `current_setting(name, true)`: an unset setting yields NULL, and
 * NULL matches no row.
 */
export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      BEGIN
        CREATE ROLE lutece_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$;
    `);
    await q.query(`DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO lutece_app', current_database()); END $$;`);
    await q.query(`GRANT USAGE ON SCHEMA public TO lutece_app`);

    await q.query(`
      CREATE FUNCTION app_setting_uuid(name text) RETURNS uuid LANGUAGE sql STABLE AS
        $$ SELECT NULLIF(current_setting(name, true), '')::uuid $$;
      CREATE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE AS
        $$ SELECT app_setting_uuid('app.tenant_id') $$;
      CREATE FUNCTION app_current_user() RETURNS uuid LANGUAGE sql STABLE AS
        $$ SELECT app_setting_uuid('app.user_id') $$;
      CREATE FUNCTION app_setting_text(name text) RETURNS text LANGUAGE sql STABLE AS
        $$ SELECT NULLIF(current_setting(name, true), '') $$;
    `);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        email_normalized text NOT NULL UNIQUE,
        display_name text NOT NULL,
        password_hash text NOT NULL,
        mfa_enabled boolean NOT NULL DEFAULT false,
        mfa_secret_enc text,
        mfa_pending_secret_enc text,
        mfa_last_time_step bigint,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        slug text NOT NULL UNIQUE,
        data_residency text NOT NULL DEFAULT 'FR' CHECK (data_residency IN ('FR', 'EU')),
        require_mfa boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE memberships (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('OWNER','ADMIN','ML_ENGINEER','VIEWER','BILLING','AUDITOR')),
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, user_id)
      );
      CREATE INDEX memberships_user_idx ON memberships (user_id);
      CREATE INDEX memberships_tenant_created_idx ON memberships (tenant_id, created_at DESC, id DESC);

      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        mfa boolean NOT NULL,
        ip text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text
      );
      CREATE INDEX sessions_user_idx ON sessions (user_id);

      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        token_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      );
      CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

      CREATE TABLE projects (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        description text,
        data_classification text NOT NULL CHECK (data_classification IN ('PUBLIC','INTERNAL','CONFIDENTIAL','HEALTH')),
        archived_at timestamptz,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX projects_tenant_name_uq ON projects (tenant_id, lower(name));
      CREATE INDEX projects_tenant_created_idx ON projects (tenant_id, created_at DESC, id DESC);

      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        prefix text NOT NULL UNIQUE,
        secret_hash bytea NOT NULL,
        role text NOT NULL CHECK (role IN ('OWNER','ADMIN','ML_ENGINEER','VIEWER','BILLING','AUDITOR')),
        project_id uuid REFERENCES projects(id) ON DELETE CASCADE,
        created_by_user_id uuid NOT NULL REFERENCES users(id),
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        rotated_from_id uuid,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp())
      );
      CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, created_at DESC);

      CREATE TABLE audit_chain_heads (
        tenant_id uuid PRIMARY KEY,
        last_seq bigint NOT NULL,
        last_hash text NOT NULL
      );

      CREATE TABLE audit_events (
        tenant_id uuid NOT NULL,
        seq bigint NOT NULL,
        id uuid NOT NULL UNIQUE,
        at timestamptz NOT NULL,
        actor_type text NOT NULL,
        actor_id text,
        action text NOT NULL,
        resource_type text,
        resource_id text,
        outcome text NOT NULL CHECK (outcome IN ('SUCCESS','FAILURE','DENIED')),
        request_id text,
        ip text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        PRIMARY KEY (tenant_id, seq)
      );
      CREATE INDEX audit_events_tenant_at_idx ON audit_events (tenant_id, at);
      CREATE INDEX audit_events_tenant_action_idx ON audit_events (tenant_id, action, seq);

      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
    `);

    await q.query(`
      ALTER TABLE users ENABLE ROW LEVEL SECURITY;
      ALTER TABLE users FORCE ROW LEVEL SECURITY;
      CREATE POLICY users_visible ON users FOR SELECT USING (
        id = app_current_user()
        OR email_normalized = app_setting_text('app.lookup_email')
        OR id IN (SELECT user_id FROM memberships WHERE tenant_id = app_current_tenant())
      );
      CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (id = app_current_user());
      CREATE POLICY users_update ON users FOR UPDATE USING (id = app_current_user()) WITH CHECK (id = app_current_user());

      ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
      ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
      CREATE POLICY tenants_visible ON tenants FOR SELECT USING (
        id = app_current_tenant()
        OR id IN (SELECT tenant_id FROM memberships WHERE user_id = app_current_user())
      );
      CREATE POLICY tenants_insert ON tenants FOR INSERT WITH CHECK (id = app_current_tenant());
      CREATE POLICY tenants_update ON tenants FOR UPDATE USING (id = app_current_tenant()) WITH CHECK (id = app_current_tenant());
      CREATE POLICY tenants_delete ON tenants FOR DELETE USING (id = app_current_tenant());

      ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
      ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
      CREATE POLICY memberships_visible ON memberships FOR SELECT USING (
        tenant_id = app_current_tenant() OR user_id = app_current_user()
      );
      CREATE POLICY memberships_write ON memberships FOR ALL USING (tenant_id = app_current_tenant())
        WITH CHECK (tenant_id = app_current_tenant());
    `);

    await isolateByTenant(q, ['projects', 'audit_events', 'audit_chain_heads']);

    await q.query(`
      ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
      ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
      CREATE POLICY api_keys_tenant_isolation ON api_keys FOR ALL
        USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
      -- Authentication looks a key up by its public prefix before the tenant is known.
      CREATE POLICY api_keys_prefix_lookup ON api_keys FOR SELECT
        USING (prefix = app_setting_text('app.api_key_prefix'));
    `);

    await q.query(`
      GRANT SELECT, INSERT, UPDATE ON users TO lutece_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, memberships, projects, api_keys TO lutece_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON sessions, refresh_tokens TO lutece_app;
      GRANT SELECT, INSERT, UPDATE ON audit_chain_heads TO lutece_app;
      GRANT SELECT, INSERT ON audit_events TO lutece_app;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS audit_events, audit_chain_heads, api_keys, projects, refresh_tokens, sessions,
        memberships, tenants, users CASCADE;
      DROP FUNCTION IF EXISTS audit_events_append_only, app_current_tenant, app_current_user, app_setting_uuid, app_setting_text;
    `);
  }
}
