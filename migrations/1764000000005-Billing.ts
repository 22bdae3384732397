import { MigrationInterface, QueryRunner } from 'typeorm';
import { isolateByTenant } from './support/row-level-security';

/**
 * Billing: effective-dated prices, a price and an amount fixed on every ledger line when it is
 * written (integer micro-euros, so every sum is exact), billing periods with adjustments for late
 * events, budgets with reservations and alerts, and frozen invoices.
 */
export class Billing1764000000005 implements MigrationInterface {
  name = 'Billing1764000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE usage_events
        ADD COLUMN unit_price_micro bigint NOT NULL DEFAULT 0,
        ADD COLUMN amount_micro bigint NOT NULL DEFAULT 0,
        ADD COLUMN billing_period text NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM'),
        ADD COLUMN adjustment boolean NOT NULL DEFAULT false;
      CREATE INDEX usage_events_tenant_period_idx ON usage_events (tenant_id, billing_period);

      -- The default price book is configuration (PRICE_BOOK); a tenant's negotiated rates live here.
      CREATE TABLE price_overrides (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        meter text NOT NULL,
        gpu_class text NOT NULL DEFAULT '',
        effective_from timestamptz NOT NULL,
        unit_price_micro bigint NOT NULL CHECK (unit_price_micro >= 0),
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, meter, gpu_class, effective_from)
      );

      CREATE TABLE budgets (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        monthly_limit_micro bigint NOT NULL CHECK (monthly_limit_micro >= 0),
        hard_cap boolean NOT NULL DEFAULT false,
        alert_thresholds integer[] NOT NULL DEFAULT '{50,80,100}',
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE budget_reservations (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        source_type text NOT NULL,
        source_id uuid NOT NULL,
        amount_micro bigint NOT NULL CHECK (amount_micro >= 0),
        billing_period text NOT NULL,
        status text NOT NULL CHECK (status IN ('ACTIVE', 'RELEASED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        released_at timestamptz,
        UNIQUE (source_type, source_id)
      );
      CREATE INDEX budget_reservations_active_idx ON budget_reservations (tenant_id) WHERE status = 'ACTIVE';

      CREATE TABLE budget_alerts (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        billing_period text NOT NULL,
        threshold integer NOT NULL,
        spent_micro bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, billing_period, threshold)
      );

      CREATE TABLE invoices (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        billing_period text NOT NULL,
        status text NOT NULL CHECK (status IN ('CLOSED')),
        lines jsonb NOT NULL,
        total_micro bigint NOT NULL,
        closed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, billing_period)
      );
      CREATE FUNCTION invoices_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'a closed invoice never changes' USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER invoices_no_update BEFORE UPDATE OR DELETE ON invoices FOR EACH ROW EXECUTE FUNCTION invoices_frozen();

      ALTER TABLE fine_tuning_jobs ADD COLUMN samples_per_second double precision;
    `);
    await isolateByTenant(q, ['price_overrides', 'budgets', 'budget_reservations', 'budget_alerts', 'invoices']);
    await q.query(`
      -- Hourly storage metering sums object sizes per tenant, and sees nothing else.
      CREATE POLICY stored_objects_storage_metering ON stored_objects FOR SELECT
        USING (app_setting_text('app.maintenance') = 'storage-metering');
      -- Month close lists the tenants that have usage in the month to close.
      CREATE POLICY usage_events_month_close ON usage_events FOR SELECT
        USING (app_setting_text('app.maintenance') = 'month-close');

      GRANT SELECT, INSERT ON price_overrides, budget_alerts, invoices TO lutece_app;
      GRANT SELECT, INSERT, UPDATE ON budgets, budget_reservations TO lutece_app;
      GRANT UPDATE (samples_per_second) ON fine_tuning_jobs TO lutece_app;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE IF EXISTS invoices, budget_alerts, budget_reservations, budgets, price_overrides CASCADE;
      DROP FUNCTION IF EXISTS invoices_frozen;
      ALTER TABLE usage_events DROP COLUMN unit_price_micro, DROP COLUMN amount_micro, DROP COLUMN billing_period, DROP COLUMN adjustment;
      ALTER TABLE fine_tuning_jobs DROP COLUMN samples_per_second;
    `);
  }
}
