import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/core/config/app-config';
import { dataSourceOptions } from '../../src/core/database/data-source';
import { PreparedStatements } from '../../src/core/database/prepared-statements';
import { MemoryService } from '../../src/modules/memory/memory.service';

/**
 * bench:memory — retrieval for one person's reply (MemoryService.contextFor, what every reply
 * runs) with 1,000,000 memories across 10,000 people in Postgres. Target: p95 ≤ 20 ms.
 */

const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 10_000);
const MEMORIES = Number(process.env.BENCH_MEMORIES ?? 1_000_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 2_000);
const TARGET_P95_MS = 20;

const WORDS = `climbing hiking coffee sushi ramen tacos pizza guitar piano violin jazz rock techno
podcast novel poetry painting photography running cycling swimming yoga surfing skiing tennis
soccer basketball chess sister brother mother father cousin friend roommate partner dog cat
puppy kitten parrot garden balcony kitchen apartment house cabin beach mountain lake river
forest desert island city village paris tokyo denver lisbon berlin austin seattle boston
london sydney toronto mexico italy japan spain morning evening weekend birthday wedding
vacation trip flight train concert festival museum gallery theater cinema restaurant bakery
market library office startup project deadline interview promotion exam thesis class course
teacher nurse engineer designer lawyer chef pilot farmer writer student doctor vegan spicy
sweet chocolate cheese wine beer tea matcha smoothie breakfast dinner lunch brunch marathon
moving renting buying saving budget car bike scooter motorcycle boat camping fishing baking
knitting gaming movies anime comics history science astronomy physics biology music dance
singing drums bass choir volunteering meditation therapy sleep insomnia allergies asthma
glasses tattoo piercing haircut sneakers jacket hoodie vintage thrift plants succulents orchids`
  .split(/\s+/)
  .filter(Boolean);

function sentence(words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(Math.random() * WORDS.length)]).join(
    ' ',
  );
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `archety_bench_memory_${process.pid}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: 'x'.repeat(40),
    DATABASE_URL: url.toString(),
  });
  const dataSource = new DataSource(dataSourceOptions(config, url.toString()));
  const prepared = new PreparedStatements(config);
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });

    console.log(
      `bench:memory — ${MEMORIES.toLocaleString()} memories across ${PEOPLE.toLocaleString()} people`,
    );
    let started = performance.now();
    // Every person has their handle row (a deferred foreign key checks it at commit).
    await dataSource.query(
      `WITH u AS (
         INSERT INTO users (handle) SELECT '+1555' || lpad(g::text, 7, '0') FROM generate_series(1, $1) g
         RETURNING id, handle
       )
       INSERT INTO user_handles (handle, user_id) SELECT handle, id FROM u`,
      [PEOPLE],
    );
    const batch = 100_000;
    for (let from = 1; from <= MEMORIES; from += batch) {
      const to = Math.min(MEMORIES, from + batch - 1);
      await dataSource.query(
        `WITH ids AS (SELECT array_agg(id ORDER BY handle) AS ids FROM users), w AS (SELECT $3::text[] AS words)
         INSERT INTO memories (user_id, type, content, confidence, source, dedup_key, created_at, last_confirmed_at)
         SELECT ids.ids[1 + (g % $4)],
                (ARRAY['activity','person','place','preference','plan','fact'])[1 + (g % 6)],
                c.content, 0.5 + random() * 0.5, 'bench', 'bench:' || g, t.ts, t.ts
         FROM generate_series($1::int, $2::int) g CROSS JOIN ids CROSS JOIN w
         CROSS JOIN LATERAL (
           SELECT array_to_string(ARRAY(
             SELECT w.words[1 + floor(random() * array_length(w.words, 1))::int]
             FROM generate_series(1, 4 + (g % 5))), ' ') AS content) c
         CROSS JOIN LATERAL (SELECT now() - (random() * interval '180 days') + (g * interval '0 s') AS ts) t`,
        [from, to, WORDS, PEOPLE],
      );
      process.stdout.write(`\r  seeded ${to.toLocaleString()} memories`);
    }
    await dataSource.query('ANALYZE');
    console.log(`\n  seeding took ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const people: { id: string; name: string | null }[] = await dataSource.query(
      `SELECT id, name FROM users ORDER BY random() LIMIT 1000`,
    );
    const memory = new MemoryService(dataSource, prepared);
    const ask = () =>
      memory.contextFor(
        people[Math.floor(Math.random() * people.length)],
        sentence(6 + Math.floor(Math.random() * 8)),
      );
    for (let i = 0; i < 200; i++) await ask(); // warm-up: plans and caches

    const latencies: number[] = [];
    let found = 0;
    started = performance.now();
    for (let i = 0; i < QUERIES; i++) {
      const t0 = performance.now();
      const context = await ask();
      latencies.push(performance.now() - t0);
      found += context.memories.length + context.preferences.length;
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const p95 = percentile(latencies, 95);
    console.log(
      `\nRetrieval (MemoryService.contextFor), ${QUERIES} sequential replies, random people and messages`,
    );
    console.log(`  ${(QUERIES / seconds).toFixed(0)} retrievals/s`);
    console.log(
      `  p50 ${percentile(latencies, 50).toFixed(2)} ms   p95 ${p95.toFixed(2)} ms   p99 ${percentile(latencies, 99).toFixed(2)} ms   max ${latencies.at(-1)!.toFixed(2)} ms`,
    );
    console.log(
      `  ${(found / QUERIES).toFixed(1)} memories in the prompt per reply (profile + relevant)`,
    );
    console.log(`\nTarget p95 ≤ ${TARGET_P95_MS} ms: ${p95 <= TARGET_P95_MS ? 'MET' : 'MISSED'}`);
  } finally {
    await prepared.onApplicationShutdown().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
