import { MigrationInterface, QueryRunner } from 'typeorm';
import { isolateByTenant } from './support/row-level-security';

/**
 * Fine-tuning jobs (the row is the truth, the queue only delivers), their events, per-epoch
 * metrics and checkpoints, the model registry, and the append-only usage ledger.
 */
export class FineTuningAndUsage1764000000003 implements MigrationInterface {
  name = 'FineTuningAndUsage1764000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE models (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name text NOT NULL,
        base_model text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        UNIQUE (project_id, name)
      );
      CREATE INDEX models_project_created_idx ON models (tenant_id, project_id, created_at DESC, id DESC);

      CREATE TABLE model_versions (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        model_id uuid NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        version integer NOT NULL,
        job_id uuid,
        artifact_object_id uuid NOT NULL REFERENCES stored_objects(id),
        sha256 text NOT NULL,
        metrics jsonb NOT NULL,
        model_card jsonb NOT NULL,
        summary jsonb NOT NULL,
        training_dataset_version_ids uuid[] NOT NULL,
        backend text NOT NULL,
        region text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        UNIQUE (model_id, version)
      );

      CREATE TABLE fine_tuning_jobs (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('QUEUED','RUNNING','SUCCEEDED','FAILED','CANCELLED')),
        base_model text NOT NULL,
        base_model_version_id uuid REFERENCES model_versions(id),
        training_dataset_version_id uuid NOT NULL REFERENCES dataset_versions(id),
        validation_dataset_version_id uuid REFERENCES dataset_versions(id),
        target_column text NOT NULL,
        feature_columns text[],
        hyperparameters jsonb NOT NULL,
        pool_id text NOT NULL,
        region text NOT NULL,
        gpu_class text NOT NULL,
        estimate jsonb NOT NULL,
        idempotency_key text,
        progress double precision NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        error text,
        backend text,
        node text,
        cancel_requested_at timestamptz,
        result_model_version_id uuid REFERENCES model_versions(id),
        created_by text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX fine_tuning_jobs_idempotency_uq ON fine_tuning_jobs (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX fine_tuning_jobs_project_idx ON fine_tuning_jobs (tenant_id, project_id, created_at DESC, id DESC);
      CREATE INDEX fine_tuning_jobs_queued_idx ON fine_tuning_jobs (status, created_at) WHERE status = 'QUEUED';

      CREATE TABLE job_events (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL REFERENCES fine_tuning_jobs(id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        level text NOT NULL CHECK (level IN ('info','warn','error')),
        message text NOT NULL
      );
      CREATE INDEX job_events_job_idx ON job_events (job_id, id DESC);

      CREATE TABLE job_epoch_metrics (
        job_id uuid NOT NULL REFERENCES fine_tuning_jobs(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        epoch integer NOT NULL,
        metrics jsonb NOT NULL,
        samples_per_second double precision,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, epoch)
      );

      CREATE TABLE job_checkpoints (
        job_id uuid NOT NULL REFERENCES fine_tuning_jobs(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        epoch integer NOT NULL,
        object_id uuid NOT NULL REFERENCES stored_objects(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (job_id, epoch)
      );

      CREATE TABLE usage_events (
        id text PRIMARY KEY,
        tenant_id uuid NOT NULL,
        project_id uuid,
        meter text NOT NULL CHECK (meter IN ('GPU_SECONDS','CPU_SECONDS','PREDICTIONS','STORAGE_GB_HOURS')),
        quantity numeric(20, 6) NOT NULL CHECK (quantity >= 0),
        unit text NOT NULL,
        gpu_class text,
        source_type text NOT NULL,
        source_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      );
      CREATE INDEX usage_events_tenant_time_idx ON usage_events (tenant_id, occurred_at);
      CREATE INDEX usage_events_source_idx ON usage_events (tenant_id, source_type, source_id);

      CREATE FUNCTION usage_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'usage_events is an append-only ledger: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER usage_events_no_update BEFORE UPDATE OR DELETE ON usage_events
        FOR EACH ROW EXECUTE FUNCTION usage_events_append_only();
    `);

    await isolateByTenant(q, ['models', 'model_versions', 'fine_tuning_jobs', 'job_events', 'job_epoch_metrics', 'job_checkpoints', 'usage_events']);
    await q.query(`
      -- The reconciler sees queued jobs of every tenant (ids only matter to it), nothing else.
      CREATE POLICY fine_tuning_jobs_reconcile ON fine_tuning_jobs FOR SELECT
        USING (app_setting_text('app.maintenance') = 'reconcile' AND status = 'QUEUED');

      GRANT SELECT, INSERT ON models, model_versions, job_events TO lutece_app;
      GRANT SELECT, INSERT, UPDATE ON fine_tuning_jobs, job_epoch_metrics, job_checkpoints TO lutece_app;
      GRANT USAGE ON SEQUENCE job_events_id_seq TO lutece_app;
      GRANT SELECT, INSERT ON usage_events TO lutece_app;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS usage_events, job_checkpoints, job_epoch_metrics, job_events, fine_tuning_jobs, model_versions, models CASCADE;
      DROP FUNCTION IF EXISTS usage_events_append_only;
    `);
  }
}
