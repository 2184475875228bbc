import { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { Logger as PinoLogger } from 'pino';
import { AppConfig, ConfigError, loadConfig } from './core/config/app-config';
import { startEmbeddedPostgres } from './core/database/embedded-postgres';
import { createRootLogger } from './core/logging/logger';
import { ensureLocalRedis } from './core/redis/local-redis';
import { WorkerModule } from './worker.module';

/**
 * Building blocks of the two entrypoints, shared with the e2e tests so that they boot exactly
 * what production boots.
 */

export interface BootOptions {
  rootLogger?: PinoLogger;
  /** Extra modules mounted beside the app's (test fixtures, the benchmark's own routes). */
  modules?: Type[];
}

export async function createWorkerContext(
  config: AppConfig,
  options: BootOptions = {},
): Promise<INestApplicationContext> {
  const rootLogger = options.rootLogger ?? createRootLogger(config);
  const app = await NestFactory.createApplicationContext(
    WorkerModule.register(config, rootLogger),
    { bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(NestPinoLogger));
  await app.init();
  return app;
}

/** Reads the configuration, or prints one line per problem and exits 1. */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * Quick-start services: the embedded Postgres when DATABASE_URL is unset, a local redis-server
 * when REDIS_URL is unset and nothing answers. Exits with one clear line when Redis can't be had.
 */
export async function prepareLocalServices(
  config: AppConfig,
  logger: PinoLogger,
): Promise<{ stop(): Promise<void> }> {
  const log = (line: string) => logger.info({ context: 'LocalServices' }, line);
  const redisProblem = await ensureLocalRedis(config, log);
  if (redisProblem) {
    process.stderr.write(`${redisProblem}\n`);
    process.exit(1);
  }
  if (config.database.url) return { stop: async () => undefined };
  return startEmbeddedPostgres(config, log);
}

/**
 * SIGTERM/SIGINT: stop accepting, let in-flight requests and jobs finish (app.close() runs every
 * module's shutdown hook: HTTP server, BullMQ workers, pools), then exit 0. A shutdown that
 * overruns SHUTDOWN_TIMEOUT_MS exits 1 rather than hang a deploy.
 */
export function exitOnSignals(
  app: INestApplicationContext,
  config: AppConfig,
  logger: PinoLogger,
  afterClose: () => Promise<void> = async () => undefined,
): void {
  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.info({ context: 'Shutdown' }, `${signal} received, shutting down`);
    setTimeout(() => {
      logger.error({ context: 'Shutdown' }, `shutdown exceeded ${config.shutdownTimeoutMs} ms`);
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    try {
      await app.close();
      await afterClose();
      logger.info({ context: 'Shutdown' }, 'shutdown complete');
      logger.flush();
      process.exit(0);
    } catch (err) {
      logger.error({ context: 'Shutdown', err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', (s) => void shutdown(s));
  process.once('SIGINT', (s) => void shutdown(s));
}

/** A stray rejection is logged and the process keeps serving; it is a bug to fix, not a crash. */
export function logUnhandled(logger: PinoLogger): void {
  process.on('unhandledRejection', (reason) =>
    logger.error({ context: 'Process', err: reason }, 'unhandled promise rejection'),
  );
}
