import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { BootOptions } from './bootstrap';
import { AppConfig } from './core/config/app-config';
import { configureHttp, createFastifyAdapter } from './core/http/configure-http';
import { createRootLogger } from './core/logging/logger';

/**
 * The API application, shared with the e2e tests and the benchmarks. Apart from bootstrap.ts so
 * that a worker process never loads the HTTP side (controllers, Fastify, Swagger UI).
 */
export async function createApiApp(
  config: AppConfig,
  options: BootOptions = {},
): Promise<NestFastifyApplication> {
  const rootLogger = options.rootLogger ?? createRootLogger(config);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, rootLogger, options.modules),
    createFastifyAdapter(config),
    { rawBody: true, bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(NestPinoLogger));
  configureHttp(app, config, rootLogger);
  return app;
}
