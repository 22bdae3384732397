import type { AppConfig } from './config';
export type { PriceBookEntry } from './config';

/** AppConfig once the backing services are resolved: every URL is known. */
export interface RuntimeConfig extends AppConfig {
  database: AppConfig['database'] & { appUrl: string };
  redisUrl: string;
}
