import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/**
 * Migrated once per run by global-setup.ts; every e2e file clones it. One per run, so two test
 * runs against the same server (a developer's and a helper's) never drop each other's template.
 */
export function templateDatabase(): string {
  const name = process.env.ARCHETY_TEST_TEMPLATE;
  if (!name) throw new Error('e2e tests need the global setup (jest --selectProjects e2e)');
  return name;
}

export async function withDatabase<T>(
  url: string,
  run: (client: Client) => Promise<T>,
): Promise<T> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database with the migrations applied (a copy of the template). */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const server = process.env.ARCHETY_TEST_DATABASE_SERVER ?? process.env.DATABASE_URL;
  if (!server) throw new Error('e2e tests need the global setup (jest --selectProjects e2e)');
  const name = `archety_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await withDatabase(server, async (client) => {
    const sql = options.empty
      ? `CREATE DATABASE ${name}`
      : `CREATE DATABASE ${name} TEMPLATE ${templateDatabase()}`;
    // Two files cloning at the same instant collide on the template ("being accessed by other
    // users", 55006); a short retry settles it.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(sql);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      withDatabase(server, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}
