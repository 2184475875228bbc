import { Logger } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';

const logger = new Logger('Redis');

/**
 * The one way a Redis connection is made. `purpose` names it in logs and in `CLIENT LIST`.
 * `bullmq` connections must not have a key prefix (BullMQ has its own) and must block
 * indefinitely (maxRetriesPerRequest: null); app connections fail fast so a request never
 * hangs on a Redis outage, and pipeline automatically: the commands of concurrent requests issued
 * in the same tick (rate-limit counters, cache reads) go out in one write, not one each.
 */
export function createRedisConnection(
  config: AppConfig,
  purpose: string,
  kind: 'app' | 'bullmq' = 'app',
): Redis {
  const options: RedisOptions = {
    connectionName: `archety-${config.role}-${purpose}`,
    lazyConnect: false,
    enableReadyCheck: true,
    connectTimeout: 5000,
    // Reconnect forever with a capped backoff: an outage is survived, not fatal.
    retryStrategy: (attempt) => Math.min(200 * 2 ** Math.min(attempt, 5), 5000),
    ...(kind === 'bullmq'
      ? { maxRetriesPerRequest: null }
      : {
          maxRetriesPerRequest: 1,
          keyPrefix: `${config.redis.keyPrefix}:`,
          commandTimeout: 3000,
          enableAutoPipelining: true,
        }),
  };
  const client = new Redis(config.redis.url, options);
  let reported = false;
  client.on('error', (err: Error) => {
    // One line per outage, not one per retry.
    if (!reported) logger.warn(`redis (${purpose}) unavailable: ${err.message}`);
    reported = true;
  });
  client.on('ready', () => {
    if (reported) logger.log(`redis (${purpose}) reconnected`);
    reported = false;
  });
  return client;
}

/** BullMQ's key prefix for this deployment (queues of different prefixes never meet). */
export function bullPrefix(config: AppConfig): string {
  return `${config.redis.keyPrefix}:bull`;
}
