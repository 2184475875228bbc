import Redis from 'ioredis';

/**
 * Removes every Redis key under `<prefix>:` (app keys and BullMQ queues). Used by the tests and
 * the benchmarks; fails fast when Redis is gone rather than retrying through a clean-up.
 */
export async function clearRedisPrefix(
  prefix: string,
  redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
