import { randomUUID } from 'node:crypto';
import { INestApplicationContext, Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import pino, { Logger } from 'pino';
import { createApiApp } from '../../src/api-app';
import { createWorkerContext } from '../../src/bootstrap';
import { AppConfig, loadConfig } from '../../src/core/config/app-config';
import { REDACTED_PATHS } from '../../src/core/logging/logger';
import { createSecretScrubber } from '../../src/core/logging/secret-scrubber';
import { FakeOpenAI, startFakeOpenAI } from '../fake-openai/fake-openai.server';
import { createTestDatabase, TestDatabase } from './database';
import { clearRedisPrefix } from './redis-prefix';
import { HttpInit, httpRequest, HttpResult } from './http';

/** A fixed, long JWT secret for tests (production requires one; development generates one). */
export const TEST_JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';

export interface TestEnv {
  databaseUrl: string;
  /** Isolates this file's Redis keys and queues from every other file's. */
  redisPrefix: string;
  openaiBaseUrl?: string;
}

export function newRedisPrefix(): string {
  return `test-${randomUUID().slice(0, 8)}`;
}

/** The configuration the app would load from this environment, on this file's database. */
export function testConfig(
  env: TestEnv,
  overrides: Record<string, string | undefined> = {},
): AppConfig {
  return loadConfig({
    NODE_ENV: 'test',
    // The API alone: a test that needs workers starts them (startWorker), as production does.
    APP_ROLE: 'api',
    PORT: '0',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_KEY_PREFIX: env.redisPrefix,
    JWT_SECRET: TEST_JWT_SECRET,
    OPENAI_API_KEY: env.openaiBaseUrl ? 'sk-test-openai-key-not-real' : undefined,
    OPENAI_BASE_URL: env.openaiBaseUrl,
    OPENAI_TIMEOUT_MS: '3000',
    OPENAI_MAX_RETRIES: '1',
    LOG_LEVEL: 'info',
    ...overrides,
  });
}

/** Every line the app logs, as written (after redaction and scrubbing), for assertions. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor(config: AppConfig) {
    const scrub = createSecretScrubber(config.secrets);
    this.logger = pino(
      {
        level: config.log.level,
        redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
        hooks: { streamWrite: scrub },
      },
      { write: (line: string) => void this.lines.push(line) },
    );
  }

  text(): string {
    return this.lines.join('');
  }
}

export interface RunningApi {
  app: NestFastifyApplication;
  config: AppConfig;
  url: string;
  logs: LogCapture;
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    init?: HttpInit,
  ): Promise<HttpResult<T>>;
  close(): Promise<void>;
}

/** Boots the real API (what main.ts boots) on a random port. */
export async function startApi(
  config: AppConfig,
  options: { modules?: Type[] } = {},
): Promise<RunningApi> {
  const logs = new LogCapture(config);
  const app = await createApiApp(config, { rootLogger: logs.logger, modules: options.modules });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    url,
    logs,
    request: (method, path, init = {}) => httpRequest(url, method, path, init),
    close: () => app.close(),
  };
}

export async function startWorker(
  config: AppConfig,
): Promise<{ app: INestApplicationContext; logs: LogCapture }> {
  const workerConfig: AppConfig = { ...config, role: 'worker' };
  const logs = new LogCapture(workerConfig);
  const app = await createWorkerContext(workerConfig, { rootLogger: logs.logger });
  return { app, logs };
}

export { clearRedisPrefix };

/** A test file's system: its database, the fake OpenAI server, the API and, when asked, a worker. */
export interface TestSystem {
  db: TestDatabase;
  fake: FakeOpenAI;
  config: AppConfig;
  api: RunningApi;
  worker: RunningWorker | undefined;
  /** Stops what started and removes the database and the Redis keys, in that order. */
  close(): Promise<void>;
}

export type RunningWorker = Awaited<ReturnType<typeof startWorker>>;

/**
 * The `beforeAll` of most e2e files in one call: a fresh database, the fake OpenAI server, the
 * API (and a worker with the same configuration) on the file's Redis prefix. A start that fails
 * half-way cleans up what it started.
 */
export async function startTestSystem(options: {
  prefix: string;
  overrides?: Record<string, string | undefined>;
  worker?: boolean;
}): Promise<TestSystem> {
  const started: Partial<TestSystem> = {};
  const close = async () => {
    await started.worker?.app.close();
    await started.api?.close();
    await started.fake?.close();
    await clearRedisPrefix(options.prefix);
    await started.db?.drop();
  };
  try {
    started.db = await createTestDatabase();
    started.fake = await startFakeOpenAI();
    const env = {
      databaseUrl: started.db.url,
      redisPrefix: options.prefix,
      openaiBaseUrl: started.fake.url,
    };
    started.config = testConfig(env, options.overrides);
    started.api = await startApi(started.config);
    if (options.worker) started.worker = await startWorker(started.config);
    return { ...(started as TestSystem), close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
