import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config';
import { dataSourceOptions } from './data-source-options';

/** For the TypeORM CLI (`typeorm migration:run -d dist/src/database/data-source.js`), as the owner. */
const config = loadConfig();
if (!config.database.ownerUrl) throw new Error('DATABASE_URL (the owner connection) is required to run migrations');
export default new DataSource(dataSourceOptions(config.database.ownerUrl, 2));
