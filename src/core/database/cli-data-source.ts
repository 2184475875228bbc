import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';

/**
 * The data source of the TypeORM CLI (`npm run migration:*`). Without DATABASE_URL it targets the
 * embedded Postgres, which must be running (`npm start` runs it).
 */
export default new DataSource(dataSourceOptions(loadConfig()));
