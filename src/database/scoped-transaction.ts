import { escapeLiteral } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** Session settings read by the row-level-security policies (see migrations). */
export interface DatabaseScope {
  tenantId?: string;
  userId?: string;
  lookupEmail?: string;
  apiKeyPrefix?: string;
  sessionId?: string;
  /** Hex SHA-256 of a presented refresh token: lets a refresh find its own row and nothing else. */
  refreshTokenHash?: string;
  /** Lets a maintenance job see the due rows of one narrow policy (e.g. 'retention'). */
  maintenance?: string;
}

const SETTING_BY_KEY: Record<keyof DatabaseScope, string> = {
  tenantId: 'app.tenant_id',
  userId: 'app.user_id',
  lookupEmail: 'app.lookup_email',
  apiKeyPrefix: 'app.api_key_prefix',
  sessionId: 'app.session_id',
  refreshTokenHash: 'app.refresh_token_hash',
  maintenance: 'app.maintenance',
};

/** The scope's settings that have a value, as [setting name, value]. */
function settingsOf(scope: DatabaseScope): [string, string][] {
  return (Object.keys(scope) as (keyof DatabaseScope)[]).filter((key) => scope[key] !== undefined).map((key) => [SETTING_BY_KEY[key], scope[key]!]);
}

export async function applyScope(queryRunner: QueryRunner, scope: DatabaseScope): Promise<void> {
  const settings = settingsOf(scope);
  if (settings.length === 0) return;
  // set_config(..., true) is SET LOCAL: the setting dies with the transaction, never leaking to the
  // next request that borrows this pooled connection.
  const selects = settings.map(([name], i) => `set_config('${name}', $${i + 1}, true)`).join(', ');
  await queryRunner.query(`SELECT ${selects}`, settings.map(([, value]) => value));
}

export async function beginScopedTransaction(dataSource: DataSource, scope: DatabaseScope): Promise<QueryRunner> {
  const queryRunner = dataSource.createQueryRunner();
  await queryRunner.connect();
  try {
    await queryRunner.startTransaction();
    await applyScope(queryRunner, scope);
    return queryRunner;
  } catch (error) {
    await queryRunner.release();
    throw error;
  }
}

export async function finishTransaction(queryRunner: QueryRunner, commit: boolean): Promise<void> {
  try {
    if (queryRunner.isTransactionActive) {
      if (commit) await queryRunner.commitTransaction();
      else await queryRunner.rollbackTransaction();
    }
  } finally {
    await queryRunner.release();
  }
}

/** Runs `work` in its own transaction with the given RLS scope; commits on success. */
export async function withScopedTransaction<T>(
  dataSource: DataSource,
  scope: DatabaseScope,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const queryRunner = await beginScopedTransaction(dataSource, scope);
  let committed = false;
  try {
    const result = await work(queryRunner.manager);
    await finishTransaction(queryRunner, true);
    committed = true;
    return result;
  } finally {
    if (!committed && !queryRunner.isReleased) await finishTransaction(queryRunner, false);
  }
}

/**
 * One read-only statement under `scope` in a single round trip, for the hottest path
 * (authenticating each request): the scope's set_config calls and the statement travel as one
 * simple-protocol message, which PostgreSQL runs as one implicit transaction, so the settings die
 * with it exactly as in a scoped transaction. That protocol has no parameters: `build` must inline
 * every value through the `literal` it is given (pg's escapeLiteral).
 */
export async function queryInScope<T>(dataSource: DataSource, scope: DatabaseScope, build: (literal: (value: string | null) => string) => string): Promise<T[]> {
  const literal = (value: string | null) => (value === null ? 'NULL' : escapeLiteral(value));
  const settings = settingsOf(scope).map(([name, value]) => `set_config('${name}', ${literal(value)}, true)`);
  const statement = build(literal);
  const text = settings.length ? `SELECT ${settings.join(', ')}; ${statement}` : statement;
  const results = await (dataSource.driver as PostgresDriver).master.query(text);
  const last = Array.isArray(results) ? results[results.length - 1] : results;
  return last.rows as T[];
}
