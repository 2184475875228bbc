import { DataSource } from 'typeorm';

/** Arbitrary but fixed: every API process contends for the same lock. */
const MIGRATION_LOCK_ID = 727_274_001;

/**
 * Runs pending migrations under a Postgres session advisory lock, so API instances that start at
 * the same moment apply each migration exactly once: the first holds the lock and migrates, the
 * others wait, then find nothing pending.
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  log: (line: string) => void,
): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      const names = applied.map((m) => m.name);
      log(names.length ? `applied migrations: ${names.join(', ')}` : 'database schema is current');
      return names;
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await runner.release();
  }
}
