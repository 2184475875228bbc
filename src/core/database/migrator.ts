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

/** How often a process that does not migrate looks again for the migrations it waits on. */
const SCHEMA_POLL_MS = 1000;

/**
 * Resolves once every migration this build knows of is applied, writing nothing (not even the
 * migrations table). For processes that never migrate (workers; API instances with
 * DB_MIGRATIONS_RUN=false): started before the migrating process finished, as in a deploy that
 * starts everything at once, their first jobs and requests would otherwise fail against a schema
 * that is not there yet. Migrations the database has beyond this build's (a newer build
 * migrated) are not in the way.
 */
export async function waitForMigrations(
  dataSource: DataSource,
  log: (line: string) => void,
): Promise<void> {
  // In the order they apply: by the timestamp that ends each name.
  const stamp = (name: string) => Number(/\d+$/.exec(name)?.[0] ?? 0);
  const known = dataSource.migrations
    .map((m) => m.name ?? m.constructor.name)
    .sort((a, b) => stamp(a) - stamp(b));
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  let waited = false;
  for (;;) {
    const [{ present }] = await dataSource.query<{ present: boolean }[]>(
      `SELECT to_regclass($1) IS NOT NULL AS present`,
      [table],
    );
    const applied = new Set<string>(
      present
        ? (await dataSource.query<{ name: string }[]>(`SELECT name FROM "${table}"`)).map(
            (row) => row.name,
          )
        : [],
    );
    const pending = known.filter((name) => !applied.has(name));
    if (!pending.length) {
      if (waited) log('database schema is current');
      return;
    }
    if (!waited) {
      log(`waiting for ${pending.length} migration(s) to be applied: ${pending.join(', ')}`);
      waited = true;
    }
    await new Promise((resolve) => setTimeout(resolve, SCHEMA_POLL_MS));
  }
}
