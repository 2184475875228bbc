import { DynamicModule, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source';
import { runMigrationsLocked } from './migrator';
import { PreparedStatements } from './prepared-statements';

@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig): DynamicModule {
    // Workers never migrate: they may start before the API and must not race it.
    const migrate = config.database.migrationsRun && config.role !== 'worker';
    const logger = new Logger('Database');
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
            if (migrate) await runMigrationsLocked(dataSource, (line) => logger.log(line));
            return dataSource;
          },
        }),
      ],
    };
  }
}
