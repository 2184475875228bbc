import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { createRedisConnection } from './redis.factory';

/**
 * Provides the shared app Redis client, injectable by its class: `constructor(private redis: Redis)`.
 * Its keys carry the deployment's prefix (REDIS_KEY_PREFIX) automatically.
 */
@Global()
@Module({
  providers: [
    {
      provide: Redis,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => createRedisConnection(config, 'app'),
    },
  ],
  exports: [Redis],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
