import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

export const APP_ROLE = 'lutece_app';

/** Applies pending migrations as the owner. Serialised across pods by an advisory lock. */
export async function runMigrations(ownerUrl: string, log: (m: string) => void): Promise<void> {
  const dataSource = new DataSource({ ...dataSourceOptions(ownerUrl, 2), extra: { max: 2, application_name: 'lutece-migrate' } });
  await dataSource.initialize();
  try {
    await dataSource.query('SELECT pg_advisory_lock(7201520000)');
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length) log(`applied migrations: ${applied.map((m) => m.name).join(', ')}`);
    await dataSource.query('SELECT pg_advisory_unlock(7201520000)');
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Where no DATABASE_APP_URL is given (development, tests), the api derives one from the owner URL
 * and lets the non-owner role log in with DATABASE_APP_PASSWORD.
 */
export async function enableAppRoleLogin(ownerUrl: string, password: string): Promise<string> {
  const dataSource = new DataSource({ type: 'postgres', url: ownerUrl, extra: { max: 1 } });
  await dataSource.initialize();
  try {
    const literal = password.replace(/'/g, "''");
    await dataSource.query(`ALTER ROLE ${APP_ROLE} LOGIN PASSWORD '${literal}'`);
  } finally {
    await dataSource.destroy();
  }
  const url = new URL(ownerUrl);
  url.username = APP_ROLE;
  url.password = encodeURIComponent(password);
  return url.toString();
}
