import { Logger } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { OutageLog } from './outage-log';

const logger = new Logger('Redis');

/**
 * The one way an app Redis connection is made (BullMQ makes its own: see queue.module.ts).
 * `purpose` names it in logs and in `CLIENT LIST`; keys carry the deployment's prefix.
 *
 * App connections fail fast so a request never hangs on a Redis outage: once connected, a command
 * issued while the connection is down fails at once instead of waiting in ioredis's offline queue
 * for its 3 s timeout (a turn touches Redis several times; during an outage each touch cost
 * 3 s). Before the first connection commands still wait, so nothing fails while the process boots.
 *
 * `subscriber` connections do not resubscribe by themselves after a reconnect: their owner
 * subscribes on every `ready` and handles the outcome. ioredis's own resubscribe is
 * fire-and-forget (redis/ioredis#2187): when it fails (the connection drops again, Redis refuses)
 * the rejection reaches nobody — an unhandled rejection in the process.
 */
export function createRedisConnection(
  config: AppConfig,
  purpose: string,
  kind: 'app' | 'subscriber' = 'app',
): Redis {
  const options: RedisOptions = {
    connectionName: `archety-${config.role}-${purpose}`,
    lazyConnect: false,
    enableReadyCheck: true,
    connectTimeout: 5000,
    // Reconnect forever with a capped backoff: an outage is survived, not fatal.
    retryStrategy: (attempt) => Math.min(200 * 2 ** Math.min(attempt, 5), 5000),
    maxRetriesPerRequest: 1,
    keyPrefix: `${config.redis.keyPrefix}:`,
    commandTimeout: 3000,
    autoResubscribe: kind !== 'subscriber',
    // The commands of concurrent requests issued in the same tick (rate-limit counters, cache
    // reads) go out in one write, not one each. ioredis never pipelines (un)subscribe commands.
    enableAutoPipelining: true,
  };
  const client = new Redis(config.redis.url, options);
  const outage = new OutageLog(logger, `redis (${purpose})`);
  client.on('error', outage.error);
  client.on('ready', outage.recovered);
  client.once('ready', () => {
    client.options.enableOfflineQueue = false;
  });
  return client;
}

/** BullMQ's key prefix for this deployment (queues of different prefixes never meet). */
export function bullPrefix(config: AppConfig): string {
  return `${config.redis.keyPrefix}:bull`;
}
