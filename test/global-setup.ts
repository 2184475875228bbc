import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/core/config/app-config';
import { dataSourceOptions } from '../src/core/database/data-source';
import { startEmbeddedPostgres } from '../src/core/database/embedded-postgres';
import { ensureLocalRedis } from '../src/core/redis/local-redis';
import { withDatabase } from './helpers/database';

/**
 * Once per run: reach Postgres and Redis (DATABASE_URL / REDIS_URL, else the same embedded
 * defaults as `npm start`), then build a template database with every migration applied. Each
 * e2e file clones it into a database of its own, so files run in parallel on separate data.
 */
export default async function globalSetup(): Promise<void> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) });
  const log = (line: string) => process.stdout.write(`[test setup] ${line}\n`);
  const redisProblem = await ensureLocalRedis(config, log);
  if (redisProblem) throw new Error(redisProblem);
  process.env.REDIS_URL = config.redis.url;

  if (!config.database.url) {
    const embedded = await startEmbeddedPostgres(config, log);
    (globalThis as { __embeddedPostgres?: typeof embedded }).__embeddedPostgres = embedded;
    process.env.DATABASE_URL = embedded.url;
  }

  const serverUrl = process.env.DATABASE_URL!;
  const template = `archety_test_template_${process.pid}`;
  await withDatabase(serverUrl, async (client: Client) => {
    await client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${template}`);
  });
  const url = new URL(serverUrl);
  url.pathname = `/${template}`;
  const dataSource = await new DataSource(dataSourceOptions(config, url.toString())).initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
  process.env.ARCHETY_TEST_DATABASE_SERVER = serverUrl;
  process.env.ARCHETY_TEST_TEMPLATE = template;
}
