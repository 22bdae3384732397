import { MigrationInterface, QueryRunner } from 'typeorm';
import { isolateByTenant } from './support/row-level-security';

/**
 * Encrypted object storage, the tenant key chain, and datasets.
 *
 * Key chain: master key ring (config) → tenant key per generation (tenant_keys, wrapped) → per
 * object key-encryption key = HKDF(tenant key, object secret) → data key wrapped in the object's
 * header. The object secret lives only here: deleting it crypto-shreds the object.
 */
export class DatasetsAndStorage1764000000002 implements MigrationInterface {
  name = 'DatasetsAndStorage1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_keys (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        purpose text NOT NULL CHECK (purpose IN ('ENCRYPTION', 'PSEUDONYMISATION')),
        generation integer NOT NULL CHECK (generation >= 1),
        master_key_id text NOT NULL,
        wrapped_key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        PRIMARY KEY (tenant_id, purpose, generation)
      );

      CREATE TABLE stored_objects (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('DATASET_VERSION', 'CHECKPOINT', 'MODEL_ARTIFACT', 'EXPORT')),
        storage_key text NOT NULL,
        region text NOT NULL,
        node text NOT NULL,
        sha256 text NOT NULL,
        size_bytes bigint NOT NULL,
        key_generation integer NOT NULL,
        object_secret bytea,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        shredded_at timestamptz,
        deleted_at timestamptz
      );
      CREATE INDEX stored_objects_tenant_generation_idx ON stored_objects (tenant_id, key_generation) WHERE shredded_at IS NULL;

      CREATE TABLE datasets (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name text NOT NULL,
        format text NOT NULL CHECK (format IN ('CSV', 'JSONL')),
        purpose text NOT NULL,
        legal_basis text NOT NULL CHECK (legal_basis IN ('CONSENT','CONTRACT','LEGAL_OBLIGATION','VITAL_INTERESTS','PUBLIC_TASK','LEGITIMATE_INTERESTS','NOT_APPLICABLE')),
        contains_personal_data boolean NOT NULL,
        pii_columns text[] NOT NULL DEFAULT '{}',
        retention_days integer CHECK (retention_days IS NULL OR retention_days BETWEEN 1 AND 36500),
        created_by text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        updated_at timestamptz NOT NULL DEFAULT now(),
        erased_at timestamptz
      );
      CREATE UNIQUE INDEX datasets_project_name_uq ON datasets (project_id, lower(name)) WHERE erased_at IS NULL;
      CREATE INDEX datasets_project_created_idx ON datasets (tenant_id, project_id, created_at DESC, id DESC);

      CREATE TABLE dataset_versions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        dataset_id uuid NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
        version integer NOT NULL,
        object_id uuid NOT NULL REFERENCES stored_objects(id),
        sha256 text NOT NULL,
        size_bytes bigint NOT NULL,
        row_count bigint NOT NULL,
        columns jsonb NOT NULL,
        pseudonymized_columns text[] NOT NULL DEFAULT '{}',
        warnings jsonb NOT NULL DEFAULT '[]'::jsonb,
        storage_region text NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        UNIQUE (dataset_id, version)
      );

      -- Ids and dates only: the retention job may see what is due in every tenant, nothing more.
      CREATE TABLE dataset_retention (
        dataset_id uuid PRIMARY KEY REFERENCES datasets(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        erase_after timestamptz NOT NULL
      );
      CREATE INDEX dataset_retention_due_idx ON dataset_retention (erase_after);
    `);

    await isolateByTenant(q, ['tenant_keys', 'stored_objects', 'datasets', 'dataset_versions']);
    await q.query(`
      ALTER TABLE dataset_retention ENABLE ROW LEVEL SECURITY;
      ALTER TABLE dataset_retention FORCE ROW LEVEL SECURITY;
      CREATE POLICY dataset_retention_tenant_isolation ON dataset_retention FOR ALL
        USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
      CREATE POLICY dataset_retention_due ON dataset_retention FOR SELECT
        USING (app_setting_text('app.maintenance') = 'retention' AND erase_after <= now());

      GRANT SELECT, INSERT ON tenant_keys TO lutece_app;
      GRANT SELECT, INSERT, UPDATE ON stored_objects, datasets, dataset_versions TO lutece_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON dataset_retention TO lutece_app;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS dataset_retention, dataset_versions, datasets, stored_objects, tenant_keys CASCADE`);
  }
}
