import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { EventLoopUtilization, performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';
import { createApiApp } from '../../src/api-app';
import { loadConfig } from '../../src/core/config/app-config';
import { PreparedStatements } from '../../src/core/database/prepared-statements';
import { BenchModule } from './bench.module';

/**
 * The API under test, in a process of its own (forked by main.ts with an IPC channel): the
 * production app plus the benchmark's reference routes, on 127.0.0.1 and a free port. Sends
 * `{ type: 'listening', port }` once listening; answers `{ type: 'stats' }` with what its event
 * loop and database pool did since the previous one; with `{ type: 'profile-start' }` and
 * `{ type: 'profile-stop', file }` records a V8 CPU profile of itself (BENCH_CPU_PROFILE); closes
 * on SIGTERM; exits if the parent goes.
 */

export interface ApiStats {
  type: 'stats';
  /** Share of wall time the event loop was busy (1 = the JS thread is saturated). */
  eventLoopUtilization: number;
  /** Averages over 20 ms samples, both pools together: clients checked out, requests queued. */
  poolBusy: number;
  poolWaiting: number;
  poolSize: number;
  /** SQL statements and Redis commands sent (BEGIN and COMMIT count as statements). */
  sqlQueries: number;
  redisCommands: number;
}

/**
 * Counts what the app sends to Postgres and Redis. Diagnosis only: it wraps the client methods
 * every query goes through (TypeORM → pg.Client#query, ioredis → Redis#sendCommand) and changes
 * nothing else.
 */
function countCalls(target: object, method: string, count: () => void): void {
  const proto = target as Record<string, (...args: unknown[]) => unknown>;
  const original = proto[method];
  proto[method] = function (this: unknown, ...args: unknown[]) {
    count();
    return original.apply(this, args);
  };
}

async function main(): Promise<void> {
  let sqlQueries = 0;
  let redisCommands = 0;
  countCalls(Client.prototype, 'query', () => sqlQueries++);
  countCalls(Redis.prototype, 'sendCommand', () => redisCommands++);

  const config = loadConfig(process.env);
  const app = await createApiApp(config, { modules: [BenchModule] });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;

  // TypeORM's pool (db-turn, most of the app) and the prepared statements' (a turn's statements).
  const pools: Pool[] = [
    (app.get(DataSource).driver as unknown as { master: Pool }).master,
    app.get(PreparedStatements).pool,
  ];
  let samples = 0;
  let busy = 0;
  let waiting = 0;
  const sampler = setInterval(() => {
    samples++;
    for (const pool of pools) {
      busy += pool.totalCount - pool.idleCount;
      waiting += pool.waitingCount;
    }
  }, 20);
  sampler.unref();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();

  let profiler: Session | undefined;
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      profiler!.post(method, (err, result) => (err ? reject(err) : resolve(result))),
    );
  process.on('message', (message: { type?: string; file?: string }) => {
    if (message.type === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      void post('Profiler.enable')
        .then(() => post('Profiler.start'))
        .then(() => process.send?.({ type: 'profile-started' }));
      return;
    }
    if (message.type === 'profile-stop' && profiler && message.file) {
      const file = message.file;
      void post('Profiler.stop').then((result) => {
        writeFileSync(file, JSON.stringify((result as { profile: unknown }).profile));
        profiler?.disconnect();
        profiler = undefined;
        process.send?.({ type: 'profile-written' });
      });
      return;
    }
    if (message.type !== 'stats') return;
    const stats: ApiStats = {
      type: 'stats',
      eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
      poolBusy: samples ? busy / samples : 0,
      poolWaiting: samples ? waiting / samples : 0,
      poolSize: pools.length * config.database.poolSize,
      sqlQueries,
      redisCommands,
    };
    elu = performance.eventLoopUtilization();
    samples = busy = waiting = sqlQueries = redisCommands = 0;
    process.send?.(stats);
  });

  let closing = false;
  const close = (code: number) => {
    if (closing) return;
    closing = true;
    clearInterval(sampler);
    app.close().then(
      () => process.exit(code),
      () => process.exit(1),
    );
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => close(0));
  process.once('SIGINT', () => close(0));
  process.once('disconnect', () => close(1));
  process.send?.({ type: 'listening', port });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
