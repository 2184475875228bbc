import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { LowerCaseEmailHandles1764900000000 } from '../migrations/1764900000000-LowerCaseEmailHandles';
import { runMigrationsLocked } from '../src/core/database/migrator';
import { createTestDatabase, TestDatabase, withDatabase } from './helpers/database';
import { PrivateRedis } from './helpers/private-redis';
import {
  clearRedisPrefix,
  newRedisPrefix,
  startApi,
  startWorker,
  testConfig,
} from './helpers/test-app';

async function tableExists(url: string, table: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT to_regclass($1) AS t', [table]);
    return rows[0].t !== null;
  } finally {
    await client.end();
  }
}

const dbs: TestDatabase[] = [];
async function freshDatabase(empty = true): Promise<TestDatabase> {
  const db = await createTestDatabase({ empty });
  dbs.push(db);
  return db;
}
afterAll(async () => {
  await Promise.all(dbs.map((db) => db.drop()));
});

describe('migrations', () => {
  it('the API applies every migration in migrations/ at start-up; a worker waits for it and never migrates', async () => {
    const db = await freshDatabase();
    const prefix = newRedisPrefix();
    const config = testConfig({ databaseUrl: db.url, redisPrefix: prefix });
    let workerUp = false;
    const worker = startWorker(config).then((started) => {
      workerUp = true;
      return started;
    });
    worker.catch(() => undefined);
    // Started first, as a deploy that starts everything at once may: it waits, writing nothing.
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline && !workerUp) await new Promise((r) => setTimeout(r, 100));
    expect(workerUp).toBe(false);
    expect(await tableExists(db.url, 'migrations')).toBe(false);

    const api = await startApi(config);
    const { app, logs } = await worker;
    await app.close();
    await api.close();
    expect(logs.text()).toMatch(
      /waiting for \d+ migration\(s\) to be applied: InitialSchema1764000000000, EdgeCommands/,
    );
    expect(logs.text()).toContain('database schema is current');
    const files = readdirSync(join(__dirname, '..', 'migrations')).filter((f) => f.endsWith('.ts'));
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT name FROM migrations');
    await client.end();
    expect(rows).toHaveLength(files.length);
    await clearRedisPrefix(prefix);
  });

  it('two processes migrating at the same moment apply each migration once (advisory lock)', async () => {
    const db = await freshDatabase();
    // Not idempotent on purpose: run twice, it would fail (CREATE TABLE) or double the row.
    class CreateLedger1700000000001 implements MigrationInterface {
      name = 'CreateLedger1700000000001';
      async up(runner: QueryRunner): Promise<void> {
        await runner.query('CREATE TABLE ledger (id serial PRIMARY KEY, note text)');
        await runner.query('SELECT pg_sleep(0.3)');
        await runner.query(`INSERT INTO ledger (note) VALUES ('once')`);
      }
      async down(runner: QueryRunner): Promise<void> {
        await runner.query('DROP TABLE ledger');
      }
    }
    const sources = [0, 1].map(
      () =>
        new DataSource({
          type: 'postgres',
          url: db.url,
          migrations: [CreateLedger1700000000001],
          migrationsTableName: 'migrations',
        }),
    );
    await Promise.all(sources.map((s) => s.initialize()));
    const applied = await Promise.all(sources.map((s) => runMigrationsLocked(s, () => undefined)));
    await Promise.all(sources.map((s) => s.destroy()));

    expect(applied.flat()).toEqual(['CreateLedger1700000000001']);
    const rows = await withDatabase(db.url, async () => {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      const result = await client.query('SELECT note FROM ledger');
      await client.end();
      return result.rows;
    });
    expect(rows).toEqual([{ note: 'once' }]);
  });
});

describe('migration LowerCaseEmailHandles', () => {
  it('lower-cases email handles and primary handles, leaving a spelling whose lower case is taken', async () => {
    const db = await freshDatabase(false);
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      // Written as iMessage relayed them before handles were normalised.
      const people: [string, string[]][] = [
        ['Sam@iCloud.com', ['Sam@iCloud.com', 'Sam.Work@Example.com']],
        ['+15550001111', ['+15550001111', 'Kim@Example.com']],
        ['kim@example.com', ['kim@example.com']],
        ['client:Abc', ['client:Abc']],
      ];
      const ids: string[] = [];
      await client.query('BEGIN');
      for (const [primary, handles] of people) {
        const [{ id }] = (
          await client.query<{ id: string }>(
            `INSERT INTO users (handle) VALUES ($1) RETURNING id`,
            [primary],
          )
        ).rows;
        ids.push(id);
        for (const handle of handles) {
          await client.query(`INSERT INTO user_handles (handle, user_id) VALUES ($1, $2)`, [
            handle,
            id,
          ]);
        }
      }
      await client.query('COMMIT');

      const source = new DataSource({ type: 'postgres', url: db.url });
      await source.initialize();
      const runner = source.createQueryRunner();
      try {
        await runner.startTransaction();
        await new LowerCaseEmailHandles1764900000000().up(runner);
        await runner.commitTransaction();
      } finally {
        await runner.release();
        await source.destroy();
      }

      const { rows: handles } = await client.query<{ handle: string; user_id: string }>(
        `SELECT handle, user_id FROM user_handles WHERE user_id = ANY($1)`,
        [ids],
      );
      const byHandle = (a: { handle: string }, b: { handle: string }) =>
        a.handle < b.handle ? -1 : a.handle > b.handle ? 1 : 0;
      expect(handles.sort(byHandle)).toEqual(
        [
          { handle: '+15550001111', user_id: ids[1] },
          // Taken by the third person already: left as it was, not merged.
          { handle: 'Kim@Example.com', user_id: ids[1] },
          { handle: 'client:Abc', user_id: ids[3] },
          { handle: 'kim@example.com', user_id: ids[2] },
          { handle: 'sam.work@example.com', user_id: ids[0] },
          { handle: 'sam@icloud.com', user_id: ids[0] },
        ].sort(byHandle),
      );
      const { rows: primaries } = await client.query<{ handle: string }>(
        `SELECT handle FROM users WHERE id = ANY($1) ORDER BY array_position($1, id)`,
        [ids],
      );
      expect(primaries.map((p) => p.handle)).toEqual([
        'sam@icloud.com',
        '+15550001111',
        'kim@example.com',
        'client:Abc',
      ]);
    } finally {
      await client.end();
    }
  });
});

async function waitForHealth(
  request: () => Promise<{ status: number; body: unknown }>,
  status: number,
): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await request();
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('/health follows its dependencies', () => {
  it('goes 503 while Postgres refuses connections and back to 200 after', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const prefix = newRedisPrefix();
    const api = await startApi(testConfig({ databaseUrl: db.url, redisPrefix: prefix }));
    try {
      expect((await api.request('GET', '/health')).status).toBe(200);
      await withDatabase(db.url, async (client) => {
        await client.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
        await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1',
          [db.name],
        );
      });
      const down = await waitForHealth(() => api.request('GET', '/health'), 503);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        status: 'error',
        checks: { database: { status: 'down' }, redis: { status: 'up' } },
      });

      await withDatabase(db.url, (client) =>
        client.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`),
      );
      expect((await waitForHealth(() => api.request('GET', '/health'), 200)).status).toBe(200);
    } finally {
      await api.close();
      await clearRedisPrefix(prefix);
    }
  });

  it('goes 503 while Redis is down and recovers by itself when it returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archety-redis-'));
    const redis = await PrivateRedis.create(dir);
    const db = await createTestDatabase();
    dbs.push(db);
    const api = await startApi(
      testConfig({ databaseUrl: db.url, redisPrefix: newRedisPrefix() }, { REDIS_URL: redis.url }),
    );
    try {
      expect((await api.request('GET', '/health')).status).toBe(200);
      await redis.crash();
      const started = Date.now();
      const down = await waitForHealth(() => api.request('GET', '/health'), 503);
      expect(down.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(down.body).toMatchObject({
        checks: { redis: { status: 'down' }, database: { status: 'up' } },
      });

      await redis.start();
      expect((await waitForHealth(() => api.request('GET', '/health'), 200)).status).toBe(200);
    } finally {
      await api.close();
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
