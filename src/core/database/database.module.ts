import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';
import { runMigrationsLocked, waitForMigrations } from './migrator';
import { PreparedStatements } from './prepared-statements';

@Module({})
export class DatabaseModule {
  /** `rootLogger` directly: Nest's logger buffers until the app is up, and a wait must show. */
  static forRoot(config: AppConfig, rootLogger: Logger): DynamicModule {
    // Workers never migrate: they may start before the API and must not race it; whoever does
    // not migrate waits until the schema is there.
    const migrate = config.database.migrationsRun && config.role !== 'worker';
    return {
      module: DatabaseModule,
      global: true,
      providers: [PreparedStatements],
      exports: [PreparedStatements],
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(config), retryAttempts: 5, retryDelay: 2000 }),
          // Migrations finish before any provider can touch the schema.
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            const log = (line: string) => rootLogger.info({ context: 'Database' }, line);
            await (migrate
              ? runMigrationsLocked(dataSource, log)
              : waitForMigrations(dataSource, log));
            return dataSource;
          },
        }),
      ],
    };
  }
}
