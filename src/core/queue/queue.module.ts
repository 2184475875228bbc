import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { bullPrefix } from '../redis/redis.factory';
import { QueueName } from './queue.constants';
import { QueueService } from './queue.service';
import { WorkerConcurrency } from './worker-concurrency';

/**
 * BullMQ gets connection options rather than a shared client so that it owns (and closes) its
 * connections: a worker finishing its last job at shutdown never finds its client already gone.
 */
export function bullConnection(config: AppConfig): RedisOptions {
  const url = new URL(config.redis.url);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    connectionName: `archety-${config.role}-bullmq`,
    maxRetriesPerRequest: null,
    retryStrategy: (attempt: number) => Math.min(200 * 2 ** Math.min(attempt, 5), 5000),
  };
}

@Global()
@Module({
  imports: [
    DiscoveryModule,
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        connection: bullConnection(config),
        prefix: bullPrefix(config),
      }),
    }),
    BullModule.registerQueue(...Object.values(QueueName).map((name) => ({ name }))),
  ],
  providers: [QueueService, WorkerConcurrency],
  exports: [QueueService, BullModule],
})
export class QueueModule {}
