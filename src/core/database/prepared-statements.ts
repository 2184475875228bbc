import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { databaseUrl } from './data-source';

/**
 * The hot-path statements of a message (storing the turn, committing the reply, a person's
 * context) as named prepared statements, on a pool of their own (up to DB_POOL_SIZE connections,
 * opened on first use) whose sessions always use the generic plan.
 *
 * Named: each connection parses and plans a statement once instead of on every call (TypeORM's
 * `query` sends unnamed statements). Generic plan: left to choose, Postgres replans these large
 * CTE statements on every call whenever its estimates favour a plan for the actual values
 * (measured: the turn statement's Postgres CPU doubles), and the choice flips per connection as
 * table statistics change. These statements look rows up by key only, so the value-blind plan is
 * the right one; the rest of the app keeps Postgres's default on TypeORM's pool.
 */
@Injectable()
export class PreparedStatements implements OnApplicationShutdown {
  private readonly logger = new Logger(PreparedStatements.name);
  private created: Pool | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async query<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const result = await this.pool.query({ name, text, values });
    return result.rows as T[];
  }

  /** The pool, created on first use (processes that never run these statements open nothing). */
  get pool(): Pool {
    if (!this.created) {
      const { database, role } = this.config;
      this.created = new Pool({
        connectionString: databaseUrl(this.config),
        application_name: `archety-${role}-prepared`,
        options: '-c plan_cache_mode=force_generic_plan',
        max: database.poolSize,
        connectionTimeoutMillis: database.connectTimeoutMs,
        statement_timeout: database.statementTimeoutMs,
        idleTimeoutMillis: 30_000,
      });
      // An idle connection that breaks (Postgres restarted) is dropped by the pool; without a
      // listener its 'error' event would end the process. Queries see their own errors.
      this.created.on('error', (err) =>
        this.logger.warn(`idle prepared-statement connection lost: ${err.message}`),
      );
    }
    return this.created;
  }

  // After the HTTP server and workers have finished (not onModuleDestroy: requests in flight).
  async onApplicationShutdown(): Promise<void> {
    await this.created?.end();
  }
}
