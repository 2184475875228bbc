import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../src/core/config/app-config';
import { EdgeCommandsModule } from '../../src/modules/edge/edge-commands.module';
import { WorkerModule } from '../../src/worker.module';
import { LogCapture } from './test-app';

/**
 * A worker process as production builds it (WorkerModule: no HTTP server, no sockets), plus the
 * EdgeCommandsModule a worker feature would import to queue edge commands.
 */
export async function startEdgeWorker(
  config: AppConfig,
): Promise<{ app: INestApplicationContext; logs: LogCapture }> {
  const workerConfig: AppConfig = { ...config, role: 'worker' };
  const logs = new LogCapture(workerConfig);

  @Module({ imports: [WorkerModule.register(workerConfig, logs.logger), EdgeCommandsModule] })
  class EdgeWorkerTestModule {}

  const app = await NestFactory.createApplicationContext(EdgeWorkerTestModule, {
    bufferLogs: true,
    abortOnError: false,
  });
  app.useLogger(app.get(NestPinoLogger));
  await app.init();
  return { app, logs };
}
