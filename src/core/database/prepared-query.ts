import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs a hot-path statement as a named prepared statement, so each pooled connection plans it
 * once instead of on every call (TypeORM's `query` sends unnamed statements, planned each time).
 * For the large CTE statements of a conversation turn the planning is a real share of the work.
 */
export async function preparedQuery<T>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  const result = await pool.query({ name, text, values });
  return result.rows as T[];
}
