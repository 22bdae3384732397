import { MigrationInterface, QueryRunner } from 'typeorm';
import { isolateByTenant } from './support/row-level-security';

/** Serving endpoints, their events (drift, promotions), and the drift baseline of model versions. */
export class Endpoints1764000000004 implements MigrationInterface {
  name = 'Endpoints1764000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE model_versions ADD COLUMN drift_baseline jsonb;

      CREATE TABLE endpoints (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        name text NOT NULL,
        environment text NOT NULL CHECK (environment IN ('STAGING', 'PRODUCTION')),
        model_version_id uuid NOT NULL REFERENCES model_versions(id),
        min_replicas integer NOT NULL CHECK (min_replicas >= 0),
        max_replicas integer NOT NULL CHECK (max_replicas >= 1 AND max_replicas >= min_replicas),
        idle_timeout_seconds integer NOT NULL CHECK (idle_timeout_seconds BETWEEN 5 AND 86400),
        rate_limit_per_minute integer NOT NULL CHECK (rate_limit_per_minute >= 1),
        pool_id text NOT NULL,
        region text NOT NULL,
        promoted_from_endpoint_id uuid REFERENCES endpoints(id),
        drift_status text NOT NULL DEFAULT 'OK' CHECK (drift_status IN ('OK', 'WARNING', 'ALERT')),
        created_by text,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      );
      CREATE UNIQUE INDEX endpoints_name_uq ON endpoints (project_id, environment, lower(name)) WHERE deleted_at IS NULL;
      CREATE INDEX endpoints_project_idx ON endpoints (tenant_id, project_id, created_at DESC, id DESC);

      CREATE TABLE endpoint_events (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        endpoint_id uuid NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        level text NOT NULL CHECK (level IN ('info','warn','error')),
        message text NOT NULL
      );
      CREATE INDEX endpoint_events_endpoint_idx ON endpoint_events (endpoint_id, id DESC);
    `);
    await isolateByTenant(q, ['endpoints', 'endpoint_events']);
    await q.query(`
      GRANT SELECT, INSERT, UPDATE ON endpoints TO lutece_app;
      GRANT SELECT, INSERT ON endpoint_events TO lutece_app;
      GRANT USAGE ON SEQUENCE endpoint_events_id_seq TO lutece_app;
      GRANT UPDATE (drift_baseline) ON model_versions TO lutece_app;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS endpoint_events, endpoints CASCADE; ALTER TABLE model_versions DROP COLUMN IF EXISTS drift_baseline;`);
  }
}
