import { join } from 'node:path';
import { DataSourceOptions } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { embeddedPostgresUrl } from './embedded-postgres';

/**
 * The one description of the database, shared by the app (DatabaseModule) and the TypeORM CLI
 * (cli-data-source.ts). Entities and migrations are found by file name so that the same
 * options work from `src/` (ts-jest) and from `dist/` (node, CLI).
 */
export function dataSourceOptions(config: AppConfig, url = databaseUrl(config)): DataSourceOptions {
  const root = join(__dirname, '..', '..');
  // Built: dist/migrations/*.js beside dist/core. From source (jest): <repo>/migrations/*.ts.
  const fromSource = __filename.endsWith('.ts');
  const migrations = fromSource
    ? join(root, '..', 'migrations', '*.ts')
    : join(root, 'migrations', '*.js');
  return {
    type: 'postgres',
    url,
    entities: [join(root, 'modules', '**', fromSource ? '*.entity.ts' : '*.entity.js')],
    migrations: [migrations],
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    // Query errors reach the caller and are logged there, with the request's context.
    logging: false,
    applicationName: `archety-${config.role}`,
    extra: {
      max: config.database.poolSize,
      connectionTimeoutMillis: config.database.connectTimeoutMs,
      statement_timeout: config.database.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
    },
  };
}

export function databaseUrl(config: AppConfig): string {
  return config.database.url ?? embeddedPostgresUrl(config);
}
